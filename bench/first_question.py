"""How long the first question takes after start, with and without Assistant.warm_up (which the web page runs while it
starts), against the same question asked later in the same process. Each run is a fresh process, since what warm-up
fills is the model's prompt cache; two questions are asked in both orders, so each is timed once first and once later
(two different questions take different times: comparing the first of one with the later of another measures them,
not the start).

    .venv/bin/python bench/first_question.py [--question "..."] [--later "..."] [--corpus data/articles]

Prints seconds and ratios (asked first / asked later, per question); the machine's noise cancels in the ratios.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.config import Settings, set_offline_environment  # noqa: E402

set_offline_environment()


def child(index: Path, question: str, later: str, warm: bool) -> None:
    from rag.answer import Assistant

    assistant = Assistant(Settings().with_overrides(index_dir=index, llm_backend="llamacpp"))
    _ = assistant.model  # loading the model is the same cost either way
    started = time.perf_counter()
    if warm:
        assistant.warm_up()
    warm_s = time.perf_counter() - started
    timings = []
    for q in (question, later):
        started = time.perf_counter()
        assistant.ask(q)
        timings.append(time.perf_counter() - started)
    print(json.dumps({"warm_up": warm_s, "first": timings[0], "later": timings[1]}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=ROOT / "data" / "articles")
    parser.add_argument("--question", default="Who attended the Pyongyang meeting?")
    parser.add_argument("--later", default="What did the US offer Ukraine?")
    parser.add_argument("--child", choices=["cold", "warm"])
    parser.add_argument("--index", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.index, args.question, args.later, args.child == "warm")
        return

    from rag.ingest import ingest

    with tempfile.TemporaryDirectory(prefix="newsrag-bench-") as tmp:
        index = Path(tmp) / "index"
        ingest([args.corpus], Settings().with_overrides(index_dir=index), show_progress=False)
        results: dict[tuple[str, str], dict] = {}  # (side, question asked first) -> timings
        for side in ("cold", "warm"):
            for first, later in ((args.question, args.later), (args.later, args.question)):
                out = subprocess.run([sys.executable, __file__, "--child", side, "--index", str(index),
                                      "--question", first, "--later", later],
                                     check=True, capture_output=True, text=True).stdout
                results[(side, first)] = json.loads(out.strip().splitlines()[-1])
    questions = (args.question, args.later)
    other = {args.question: args.later, args.later: args.question}
    print(f"{'seconds':44}{'without warm-up':>18}{'with warm-up':>16}")
    for side_label, key in (("warm-up (at start)", "warm_up"),):
        print(f"{side_label:44}" + "".join(
            f"{sum(results[(side, q)][key] for q in questions) / 2:>{w}.1f}" for side, w in (("cold", 18), ("warm", 16))))
    ratios: dict[str, list[float]] = {"cold": [], "warm": []}
    for q in questions:
        for label, pick in (("asked first", lambda side: results[(side, q)]["first"]),
                            ("asked later", lambda side: results[(side, other[q])]["later"])):
            print(f"{(q[:30] + ' ' + label):44}{pick('cold'):>18.1f}{pick('warm'):>16.1f}")
        for side in ratios:
            ratios[side].append(results[(side, q)]["first"] / results[(side, other[q])]["later"])
    print(f"{'asked first / asked later (mean)':44}{sum(ratios['cold']) / 2:>18.2f}{sum(ratios['warm']) / 2:>16.2f}")
    warm_vs_cold = [results[("warm", q)]["first"] / results[("cold", q)]["first"] for q in questions]
    print(f"first question with warm-up / without (mean): {sum(warm_vs_cold) / 2:.2f}")


if __name__ == "__main__":
    main()
