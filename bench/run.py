"""newsrag vs a plain llama-index pipeline on the same questions, same embedder, same LLM, in one run.

    .venv/bin/python bench/run.py                                   # the seed questions over data/articles
    .venv/bin/python bench/run.py --corpus ../shared/eval/xquad-de-dev/corpus.jsonl \
        --questions ../shared/eval/xquad-de-dev/questions-en.jsonl --limit 10 [--without-gold] [--out DIR]

Prints one table with both columns: accuracy, citation precision, refusals, prompt tokens, latency.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.config import Settings, set_offline_environment  # noqa: E402

set_offline_environment()

from rag.llm import ChatModel  # noqa: E402
from rag.evaluate import (  # noqa: E402
    _mean, answer_is_right, best_f1, citation_is_gold, first_of_each_set, gold_articles, load_questions, percentile,
    run_eval,
)


def baseline_rows(corpus: list[Path], question_files: list[Path], settings: Settings, limit: int | None,
                  without_gold: bool, show_progress: bool = True,
                  model: ChatModel | None = None) -> tuple[list[dict[str, Any]], float]:
    from bench.llamaindex_baseline import LlamaIndexBaseline

    qs = first_of_each_set(load_questions(question_files), limit)
    base = LlamaIndexBaseline(corpus, settings, model=model)
    rows = []
    iterator = qs
    if show_progress:
        from tqdm import tqdm

        iterator = tqdm(qs, unit="q", desc="llama-index")
    try:
        for q in iterator:
            gold = gold_articles(q, base.article_texts)
            if without_gold and not [a for a in base.article_ids if a not in gold]:
                continue
            r = base.ask(q.question, exclude_ids=gold if without_gold else ())
            expect_refusal = (not q.answerable) or without_gold
            for c in r["citations"]:
                c["gold"] = citation_is_gold(c["article_id"], c.pop("text"), q, gold)
            right = answer_is_right(q, r["answer"], r["refused"], expect_refusal,
                                    any(c["gold"] for c in r["citations"]))
            row = {"id": q.id, "set": q.set_name, "question": q.question, "lang": q.lang, "gold_ids": gold,
                   "expect_refusal": expect_refusal, "right": right, **r}
            if q.answers and not expect_refusal:
                row["f1"] = round(best_f1(r["answer"], q.answers), 4)
            rows.append(row)
    finally:
        base.close()
    return rows, base.ingest_seconds


def summarise(rows: list[dict[str, Any]], seconds_of) -> dict[str, Any]:
    should_answer = [r for r in rows if not r["expect_refusal"]]
    should_refuse = [r for r in rows if r["expect_refusal"]]
    citations = [c for r in rows if not r["refused"] for c in r["citations"]]
    given = [r for r in rows if not r["refused"]]
    latencies = [seconds_of(r) for r in rows]
    tokens = [r["prompt_tokens"] for r in rows if r["prompt_tokens"]]
    return {
        "questions": len(rows),
        "right (all)": _mean([float(r["right"]) for r in rows]),
        "accuracy (answerable)": _mean([float(r["right"]) for r in should_answer]),
        "token F1 (answerable)": _mean([r["f1"] for r in should_answer if "f1" in r]),
        "citation precision": _mean([float(c["gold"]) for c in citations]),
        "answers with a citation": _mean([float(bool(r["citations"])) for r in given]),
        "refused when expected": _mean([float(r["refused"]) for r in should_refuse]),
        "answerable wrongly refused": _mean([float(r["refused"]) for r in should_answer]),
        "prompt tokens / question": _mean(tokens),
        "latency p50 s": round(percentile(latencies, 50), 2),
        "latency p95 s": round(percentile(latencies, 95), 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", action="append", type=Path)
    parser.add_argument("--questions", action="append", type=Path)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--without-gold", action="store_true")
    parser.add_argument("--model", default=None, help="packaged model or GGUF path (default qwen2.5-coder-1.5b)")
    parser.add_argument("--out", type=Path, default=None, help="write bench.json, newsrag and baseline rows here")
    parser.add_argument("--newsrag-rows", type=Path, default=None,
                        help="questions.jsonl of a finished `newsrag eval` on the same questions: reuse it "
                             "instead of running newsrag again (the LLM is the slow part)")
    args = parser.parse_args(argv)
    corpus = args.corpus or [ROOT / "data" / "articles"]
    questions = args.questions or [ROOT.parent / "shared" / "eval" / "seed" / "questions.jsonl"]
    settings = Settings(llm_backend="llamacpp")
    if args.model:
        settings = settings.with_overrides(llamacpp_model=args.model)

    if args.newsrag_rows:
        rows = [json.loads(line) for line in args.newsrag_rows.read_text(encoding="utf-8").splitlines() if line.strip()]
        ours_rows = [r for r in rows if "refused" in r]
        embedder = settings.embedder
    else:
        ours = run_eval(corpus, questions, settings, limit=args.limit, without_gold=args.without_gold,
                        out_dir=args.out / "newsrag" if args.out else None)
        ours_rows = [r.to_json() for r in ours.rows if r.outcome is not None]
        embedder = ours.report["run"]["embedder"]
    theirs_rows, _ = baseline_rows(corpus, questions, settings, args.limit, args.without_gold)
    left = summarise(ours_rows, lambda r: r["timings"].get("total", 0.0))
    right = summarise(theirs_rows, lambda r: r["seconds"])

    from rich.console import Console
    from rich.table import Table

    title = f"newsrag vs plain llama-index ({settings.llamacpp_model}, {embedder})"
    table = Table("metric", "newsrag", "llama-index CitationQueryEngine", title=title)
    for key in left:
        fmt = (lambda v: "-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v))
        table.add_row(key, fmt(left[key]), fmt(right[key]))
    Console().print(table)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "bench.json").write_text(json.dumps({
            "corpus": [str(c) for c in corpus], "questions": [str(q) for q in questions], "limit": args.limit,
            "without_gold": args.without_gold, "model": settings.llamacpp_model,
            "newsrag": left, "llama_index": right}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        with (args.out / "llama_index_questions.jsonl").open("w", encoding="utf-8") as f:
            for r in theirs_rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
