"""Measure the pipeline on a question set: retrieval, answers, citations, refusals, cost.

Every question goes through `Assistant.ask`, the same pipeline as the chat. Two question formats are read:
- the eval format (../shared/eval/README.md): {"id", "question", "lang", "answerable", "answers", "gold_ids"};
- the seed format: {"id", "question", "lang", "answerable", "must_mention": [regex], "gold_passage_contains"}.
The metric functions are plain and pure so that tests can check them on hand-made cases.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .cite import MARKER
from .config import Settings
from .language import detect_language, fold

# --- questions -----------------------------------------------------------------------------------------------------


@dataclass
class Question:
    id: str
    question: str
    lang: str = ""
    answerable: bool = True
    answers: list[str] = field(default_factory=list)
    gold_ids: list[str] = field(default_factory=list)
    must_mention: list[str] = field(default_factory=list)  # seed format: regexes a right answer matches, each one
    gold_passage_contains: str | None = None  # seed format: a string inside the passage a right answer cites
    set_name: str = ""  # which file it came from

    @property
    def seed_format(self) -> bool:
        return not self.answers and (bool(self.must_mention) or self.gold_passage_contains is not None)


def load_questions(paths: Iterable[Path]) -> list[Question]:
    out: list[Question] = []
    for path in paths:
        path = Path(path)
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{lineno}: invalid JSON ({exc.msg} at column {exc.colno})") from None
            if not isinstance(r, dict) or not str(r.get("question") or "").strip():
                raise ValueError(f"{path}:{lineno}: expected an object with a 'question'")
            out.append(Question(
                id=str(r.get("id") or f"{path.stem}-{lineno}"), question=str(r["question"]), lang=str(r.get("lang") or ""),
                answerable=bool(r.get("answerable", True)), answers=[str(a) for a in r.get("answers") or []],
                gold_ids=[str(g) for g in r.get("gold_ids") or []],
                must_mention=[str(m) for m in r.get("must_mention") or []],
                gold_passage_contains=r.get("gold_passage_contains"), set_name=path.stem,
            ))
    return out


# --- metric functions ----------------------------------------------------------------------------------------------

_FOLD = {"ẞ": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l"}  # beyond what language.fold covers
_DIGRAPHS = (("ae", "a"), ("oe", "o"), ("ue", "u"))


ARTICLES = {"a", "an", "the", "der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer",
            "eines"}


def normalise(text: str) -> str:
    """Case, punctuation, umlaut/ß and whitespace folding: 'Pjöngjang' == 'pjoengjang', 'Straße' == 'strasse'.
    Citation markers ([1], [Source 2]) are dropped. Umlauts fold to the bare vowel and so do their ae/oe/ue spellings
    (applied to both sides of a comparison, this only ever merges spellings, it never splits a match)."""
    text = "".join(_FOLD.get(ch, ch) for ch in MARKER.sub(" ", text or "").lower())
    text = fold(text)
    for a, b in _DIGRAPHS:
        text = text.replace(a, b)
    text = re.sub(r"[^\w\s]|_", " ", text)
    # articles, as SQuAD's own scorer drops English ones; German gold answers carry theirs ("die Seldschuken")
    return " ".join(w for w in text.split() if w not in ARTICLES)


def answer_contains(answer: str, gold: str) -> bool:
    """The normalised gold string appears in the normalised answer, on word boundaries."""
    g = normalise(gold)
    return bool(g) and f" {g} " in f" {normalise(answer)} "


def exact_match(answer: str, golds: Sequence[str]) -> bool:
    return any(answer_contains(answer, g) for g in golds)


def token_f1(prediction: str, gold: str) -> float:
    p, g = normalise(prediction).split(), normalise(gold).split()
    if not p or not g:
        return float(p == g)
    common = Counter(p) & Counter(g)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(p), same / len(g)
    return 2 * precision * recall / (precision + recall)


def best_f1(prediction: str, golds: Sequence[str]) -> float:
    return max((token_f1(prediction, g) for g in golds), default=0.0)


def recall_at(ranked: Sequence[str], gold: Iterable[str], k: int) -> float:
    """Share of the gold ids among the first k distinct ranked ids."""
    gold = set(gold)
    if not gold:
        return 0.0
    top = list(dict.fromkeys(ranked))[:k]
    return len(gold.intersection(top)) / len(gold)


def mrr_at(ranked: Sequence[str], gold: Iterable[str], k: int = 10) -> float:
    gold = set(gold)
    for rank, item in enumerate(list(dict.fromkeys(ranked))[:k], 1):
        if item in gold:
            return 1.0 / rank
    return 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100); 0.0 for no values."""
    vs = sorted(values)
    if not vs:
        return 0.0
    pos = (len(vs) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(vs) - 1)
    return vs[lo] + (vs[hi] - vs[lo]) * (pos - lo)


def seed_answer_right(answer: str, patterns: Sequence[str]) -> bool:
    return all(re.search(p, answer or "", re.IGNORECASE) for p in patterns)


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


# --- one question through the pipeline -----------------------------------------------------------------------------

RETRIEVAL_PASSAGES = 60  # passages asked from the retriever to get 10 distinct articles


def first_of_each_set(qs: Sequence[Question], limit: int | None) -> list[Question]:
    """--limit N: the first N questions of each file."""
    if not limit:
        return list(qs)
    by_set: dict[str, list[Question]] = {}
    for q in qs:
        by_set.setdefault(q.set_name, []).append(q)
    return [q for group in by_set.values() for q in group[:limit]]


def gold_articles(q: Question, article_texts: dict[str, str]) -> list[str]:
    """The gold documents: given ids, or (seed format) the articles that contain the gold passage string."""
    if q.gold_ids:
        return list(q.gold_ids)
    if q.gold_passage_contains:
        return [a for a, text in article_texts.items() if q.gold_passage_contains in text]
    return []


# --- one question's outcome -----------------------------------------------------------------------------------------


@dataclass
class CitedPassage:
    n: int
    article_id: str
    passage_id: str
    quote: str
    gold: bool | None = None  # None: a held-back draft's citation, which is not scored


@dataclass
class SentenceVerdict:
    text: str
    citations: list[int]
    supported: bool
    reason: str = ""
    support: float = 0.0
    model_check: float | None = None
    differs: list[int] = field(default_factory=list)


@dataclass
class AnswerOutcome:
    answer: str
    refused: bool
    expect_refusal: bool
    right: bool
    refusal_reason: str = ""
    answer_language: str = ""  # detected on the whole answer; "" when refused
    sentences: list[SentenceVerdict] = field(default_factory=list)
    # a passage listed only because it gives a different figure backs no claim: not among the citations
    citations: list[CitedPassage] = field(default_factory=list)
    prompt_tokens: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    # a held-back draft's passages, for analysing refusals; not counted as citations
    draft_citations: list[CitedPassage] = field(default_factory=list)
    answerable_yes: float | None = None
    # gold hidden, answered anyway: another passage may say the same (neighbouring paragraphs overlap)
    holds_gold_answer: bool | None = None
    f1: float | None = None  # answerable questions with gold answer strings


@dataclass
class EvalRow:
    """One question: its retrieval, and its answer unless the run is --retrieval-only. One line of questions.jsonl,
    with the answer's fields beside the question's."""
    id: str
    set_name: str
    question: str
    lang: str = ""
    answerable: bool = True
    gold_ids: list[str] = field(default_factory=list)
    answers_gold: list[str] = field(default_factory=list)
    retrieved: list[str] = field(default_factory=list)  # article ids, best first
    retrieval: dict[str, float] | None = None  # recall@k and mrr@10, when the gold articles are indexed
    # seed format: rank of the first retrieved passage that holds the gold string, 0 when none does
    gold_passage_rank: int | None = None
    outcome: AnswerOutcome | None = None
    error: str = ""  # classify_error's label, for answered questions
    skipped: str = ""  # why the question was not run

    def to_json(self) -> dict[str, Any]:
        """The questions.jsonl line: the answer's fields beside the question's; a field that does not apply to the
        question (no retrieval metrics without gold, no F1 for a refusal test, no gold flag on a draft's citation)
        is left out."""
        row = {"id": self.id, "set": self.set_name} | {
            f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("id", "set_name", "outcome")}
        row = {k: v for k, v in row.items() if not (k in _LEFT_OUT_WHEN_EMPTY and v in (None, ""))}
        if self.outcome is not None:
            outcome = asdict(self.outcome)
            for key in ("citations", "draft_citations"):
                outcome[key] = [{k: v for k, v in c.items() if v is not None} for c in outcome[key]]
            row |= {k: v for k, v in outcome.items() if not (k in _LEFT_OUT_WHEN_EMPTY and v is None)}
        return row


_LEFT_OUT_WHEN_EMPTY = {"retrieval", "gold_passage_rank", "error", "skipped", "holds_gold_answer", "f1"}


def _cited(citation, gold: bool | None = None) -> CitedPassage:
    return CitedPassage(citation.n, citation.article_id, citation.passage_id, citation.quote, gold)


def evaluate_question(assistant, q: Question, gold: list[str], *, retrieval_only: bool, filters=None) -> EvalRow:
    hits = assistant.retriever.retrieve(q.question, k=RETRIEVAL_PASSAGES, filters=filters,
                                        extra_queries=assistant.translations(q.question).texts)
    ranked = list(dict.fromkeys(h.article.id for h in hits))
    row = EvalRow(id=q.id, set_name=q.set_name, question=q.question, lang=q.lang, answerable=q.answerable,
                  gold_ids=gold, answers_gold=q.answers, retrieved=ranked[:10])
    if gold and filters is None:
        row.retrieval = {f"recall@{k}": recall_at(ranked, gold, k) for k in (1, 5, 10)}
        row.retrieval["mrr@10"] = mrr_at(ranked, gold, 10)
    if q.seed_format and q.gold_passage_contains:
        passages = [h.passage.text for h in hits]
        row.gold_passage_rank = next((i for i, t in enumerate(passages, 1) if q.gold_passage_contains in t), 0)
    if retrieval_only:
        return row

    expect_refusal = (not q.answerable) or filters is not None
    answer = assistant.ask(q.question, filters=filters)
    claimed = {n for s in answer.sentences for n in s.citations}
    cited = [_cited(c, citation_is_gold(c.article_id, c.text, q, gold)) for c in answer.citations if c.n in claimed]
    holds_gold_answer = f1 = None
    if expect_refusal and not answer.refused and q.answers:
        # gold hidden, answered anyway: another passage may say the same (neighbouring paragraphs overlap)
        holds_gold_answer = exact_match(answer.answer, q.answers)
    if not expect_refusal and q.answers:
        f1 = round(best_f1("" if answer.refused else answer.answer, q.answers), 4)
    row.outcome = AnswerOutcome(
        answer=answer.answer, refused=answer.refused, expect_refusal=expect_refusal,
        right=answer_is_right(q, answer.answer, answer.refused, expect_refusal, any(c.gold for c in cited)),
        refusal_reason=answer.refusal_reason,
        answer_language=detect_language(answer.answer) if not answer.refused else "",
        sentences=[SentenceVerdict(s.text, s.citations, s.supported, s.reason, round(s.support, 3), s.model_check,
                                   s.differs) for s in answer.sentences],
        citations=cited, prompt_tokens=answer.prompt_tokens, timings=answer.timings,
        draft_citations=[_cited(c) for c in answer.closest if answer.refused and c.n in claimed],
        answerable_yes=answer.answerable, holds_gold_answer=holds_gold_answer, f1=f1,
    )
    row.error = classify_error(row)
    return row


def citation_is_gold(article_id: str, passage_text: str, q: Question, gold: Sequence[str]) -> bool:
    if q.seed_format and q.gold_passage_contains:
        return q.gold_passage_contains in passage_text
    return article_id in gold


def answer_is_right(q: Question, answer: str, refused: bool, expect_refusal: bool, cites_gold: bool) -> bool:
    """A refusal where one is expected; otherwise a gold answer string in the answer (seed questions: every name
    they must mention, and a citation of the gold passage)."""
    if expect_refusal:
        return refused
    if refused:
        return False
    if q.seed_format:
        return seed_answer_right(answer, q.must_mention) and (not q.gold_passage_contains or cites_gold)
    return exact_match(answer, q.answers)


def classify_error(row: EvalRow) -> str:
    """One label per answered question: what went wrong first (or 'ok')."""
    outcome = row.outcome
    assert outcome is not None
    if outcome.right:
        return "ok"
    if outcome.expect_refusal:
        return "answered_unanswerable"
    gold_in_top5 = (row.retrieval or {}).get("recall@5", 1.0) > 0 if row.gold_ids else True
    if outcome.refused:
        return "refused_with_gold_retrieved" if gold_in_top5 else "refused_retrieval_miss"
    if not gold_in_top5:
        return "retrieval_miss"
    if row.lang and outcome.answer_language and outcome.answer_language != row.lang:
        return "wrong_answer_language"
    if outcome.citations and not any(c.gold for c in outcome.citations):
        return "cites_wrong_passage"
    return "wrong_answer"


# --- aggregate ------------------------------------------------------------------------------------------------------

# as Assistant.ask_stream records them; translate only runs over articles in two languages or as a last try
STAGES = ("condense", "translate", "retrieve", "evidence", "answerable", "generate", "check", "verify", "differs",
          "total")


def aggregate(rows: Sequence[EvalRow]) -> dict[str, Any]:
    report: dict[str, Any] = {"questions": len(rows)}
    with_retrieval = [r.retrieval for r in rows if r.retrieval is not None]
    report["retrieval"] = {
        key: _mean([r[key] for r in with_retrieval if key in r]) for key in ("recall@1", "recall@5", "recall@10", "mrr@10")
    } | {"n": len(with_retrieval)}
    answered = [r.outcome for r in rows if r.outcome is not None]
    if not answered:
        return report
    should_answer = [o for o in answered if not o.expect_refusal]
    should_refuse = [o for o in answered if o.expect_refusal]
    given = [(r, r.outcome) for r in rows if r.outcome is not None and not r.outcome.refused]
    report["answers"] = {
        "n": len(should_answer),
        "accuracy": _mean([float(o.right) for o in should_answer]),
        "token_f1": _mean([o.f1 for o in should_answer if o.f1 is not None]),
        "answer_language_matches": _mean([float(o.answer_language == r.lang) for r, o in given
                                          if r.lang and o.answer_language]),
    }
    citations = [c for _, o in given for c in o.citations]
    sentences = [s for _, o in given for s in o.sentences]
    report["citations"] = {
        "n": len(citations),
        "precision": _mean([float(bool(c.gold)) for c in citations]),
        "answers_with_citation": _mean([float(bool(o.citations)) for _, o in given]),
        "sentences": len(sentences),
        "sentences_verified": _mean([float(s.supported) for s in sentences]),
        "sentences_flagged": _mean([float(not s.supported) for s in sentences]),
        "sentences_with_differing_reports": _mean([float(bool(s.differs)) for s in sentences]),
    }
    report["refusal"] = {
        "expected_refusals": len(should_refuse),
        "refused_when_expected": _mean([float(o.refused) for o in should_refuse]),
        # of the questions that should have been refused (gold hidden) but were answered: answers that hold a gold
        # answer string anyway, because a passage left in states it too
        "answered_holding_gold_answer": _mean([float(o.holds_gold_answer) for o in should_refuse
                                               if o.holds_gold_answer is not None]),
        "answerable": len(should_answer),
        "wrongly_refused": _mean([float(o.refused) for o in should_answer]),
        "reasons": dict(Counter(_reason_kind(o.refusal_reason) for o in answered if o.refused)),
    }
    tokens = [o.prompt_tokens for o in answered if o.prompt_tokens]
    latency = {}
    for stage in STAGES:
        values = [o.timings[stage] for o in answered if stage in o.timings]
        if values:
            latency[stage] = {"p50": round(percentile(values, 50), 3), "p95": round(percentile(values, 95), 3),
                              "n": len(values)}
    report["cost"] = {"prompt_tokens_mean": _mean(tokens), "prompt_tokens_p50": percentile(tokens, 50) if tokens else None,
                      "latency_s": latency}
    report["errors"] = dict(Counter(r.error for r in rows if r.outcome is not None))
    report["accuracy_all"] = _mean([float(o.right) for o in answered])
    return report


def _reason_kind(reason: str) -> str:
    """The kind of refusal, without its figures and the filters it ran under (--without-gold filters every question)."""
    return re.sub(r"\s*\(.*\)$", "", re.sub(r"; searched only .*$", "", reason or ""))


# --- the run ----------------------------------------------------------------------------------------------------------


@dataclass
class EvalRun:
    rows: list[EvalRow]
    report: dict[str, Any]
    out_dir: Path | None


def corpus_article_texts(settings: Settings) -> dict[str, str]:
    from .store import Manifest

    manifest = Manifest(settings.index_dir / "manifest.json")
    return {a.id: a.text for a in manifest.articles.values()}


def run_eval(
    corpus: Sequence[Path], questions: Sequence[Path], settings: Settings, *, out_dir: Path | None = None,
    limit: int | None = None, retrieval_only: bool = False, without_gold: bool = False, index_dir: Path | None = None,
    show_progress: bool = True,
) -> EvalRun:
    """Ingest the corpus into `index_dir` (a temporary folder when None), then run every question."""
    from .answer import Assistant
    from .ingest import ingest
    from .retrieve import Filters

    qs = first_of_each_set(load_questions(questions), limit)
    tmp = None
    if index_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="newsrag-eval-")
        index_dir = Path(tmp.name) / "index"
    settings = settings.with_overrides(index_dir=Path(index_dir))
    started = time.perf_counter()
    try:
        ingest_report = ingest(list(corpus), settings, show_progress=show_progress) if corpus else None
        texts = corpus_article_texts(settings)
        assistant = Assistant(settings)
        rows: list[EvalRow] = []
        iterator: Iterable[Question] = qs
        if show_progress:
            from tqdm import tqdm

            iterator = tqdm(qs, unit="q", desc="eval")
        for q in iterator:
            gold = gold_articles(q, texts)
            filters = None
            if without_gold:
                allowed = tuple(a for a in texts if a not in set(gold))
                if not allowed:  # an empty allow-list means "no filter": the question cannot be run without gold
                    rows.append(EvalRow(id=q.id, set_name=q.set_name, question=q.question, lang=q.lang,
                                        answerable=q.answerable, gold_ids=gold, answers_gold=q.answers,
                                        skipped="no article left once the gold documents are removed"))
                    continue
                filters = Filters(article_ids=allowed)
            rows.append(evaluate_question(assistant, q, gold, retrieval_only=retrieval_only, filters=filters))
        kept = [r for r in rows if not r.skipped]
        report = aggregate(kept)
        report["skipped"] = len(rows) - len(kept)
        report["run"] = {
            "corpus": [str(c) for c in corpus], "question_files": [str(q) for q in questions], "limit": limit,
            "retrieval_only": retrieval_only, "without_gold": without_gold,
            "backend": None if retrieval_only else assistant.backend().backend,
            "model": None if retrieval_only else assistant.backend().model,
            "embedder": assistant.embedder.name, "articles": len(texts),
            "passages": len(assistant.index.manifest.passages),
            "ingest_seconds": ingest_report.seconds if ingest_report else 0.0,
            "seconds": round(time.perf_counter() - started, 1),
        }
        per_set = sorted({r.set_name for r in kept})
        if len(per_set) > 1:
            report["by_set"] = {s: aggregate([r for r in kept if r.set_name == s]) for s in per_set}
    finally:
        if tmp is not None:
            tmp.cleanup()
    if out_dir is not None:
        write_outputs(out_dir, rows, report)
    return EvalRun(rows, report, out_dir)


def write_outputs(out_dir: Path, rows: Sequence[EvalRow], report: dict[str, Any]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    with (out_dir / "questions.jsonl").open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r.to_json(), ensure_ascii=False) + "\n")


# --- on screen --------------------------------------------------------------------------------------------------------


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def report_table(report: dict[str, Any], title: str = "newsrag eval"):
    from rich.table import Table

    columns = {"all": report} | report.get("by_set", {})
    table = Table("metric", *columns, title=title)

    def add(label: str, getter: Callable[[dict[str, Any]], Any]) -> None:
        values = []
        for rep in columns.values():
            try:
                values.append(_fmt(getter(rep)))
            except (KeyError, TypeError):
                values.append("-")
        table.add_row(label, *values)

    add("questions", lambda r: r["questions"])
    for key in ("recall@1", "recall@5", "recall@10", "mrr@10"):
        add(key, lambda r, key=key: r["retrieval"][key])
    if "answers" in report:
        add("accuracy (answerable)", lambda r: r["answers"]["accuracy"])
        add("token F1 (answerable)", lambda r: r["answers"]["token_f1"])
        # detected on the whole answer: German words left in an English answer do not change it
        add("answer mainly in question's language", lambda r: r["answers"]["answer_language_matches"])
        add("citation precision", lambda r: r["citations"]["precision"])
        add("sentences verified", lambda r: r["citations"]["sentences_verified"])
        add("sentences flagged", lambda r: r["citations"]["sentences_flagged"])
        add("refused when expected", lambda r: r["refusal"]["refused_when_expected"])
        add("answerable wrongly refused", lambda r: r["refusal"]["wrongly_refused"])
        add("not refused, yet holds a gold answer", lambda r: r["refusal"]["answered_holding_gold_answer"])
        add("prompt tokens / answer", lambda r: r["cost"]["prompt_tokens_mean"])
        timed = [s for s in STAGES if any(s in rep.get("cost", {}).get("latency_s", {}) for rep in columns.values())]
        for stage in timed:
            add(f"{stage} p50 / p95 s", lambda r, stage=stage: "{p50:.2f} / {p95:.2f}".format(
                **r["cost"]["latency_s"][stage]))
        add("errors", lambda r: ", ".join(f"{k} {v}" for k, v in sorted(r["errors"].items(), key=lambda kv: -kv[1])))
    return table

