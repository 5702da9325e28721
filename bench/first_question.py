"""How long the first question takes after start, with and without Assistant.warm_up (which the web page runs while it
starts), against a later question in the same process. Each side runs in a fresh process, since what warm-up fills is
the model's prompt cache.

    .venv/bin/python bench/first_question.py [--question "..."] [--corpus data/articles]

Prints seconds and ratios (first question / later question); the machine's noise cancels in the ratios.
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
        results = {}
        for side in ("cold", "warm"):
            out = subprocess.run([sys.executable, __file__, "--child", side, "--index", str(index),
                                  "--question", args.question, "--later", args.later],
                                 check=True, capture_output=True, text=True).stdout
            results[side] = json.loads(out.strip().splitlines()[-1])
    print(f"first question: {args.question!r}; later question: {args.later!r}")
    print(f"{'':28}{'without warm-up':>18}{'with warm-up':>16}")
    for key, label in (("warm_up", "warm-up (at start)"), ("first", "first question"), ("later", "later question")):
        print(f"{label + ' s':28}{results['cold'][key]:>18.1f}{results['warm'][key]:>16.1f}")
    ratios = {side: r["first"] / r["later"] for side, r in results.items()}
    print(f"{'first / later':28}{ratios['cold']:>18.2f}{ratios['warm']:>16.2f}")
    print(f"first question with warm-up / without: {results['warm']['first'] / results['cold']['first']:.2f}")


if __name__ == "__main__":
    main()
