"""The typed objects that cross stage boundaries."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from collections.abc import Iterable
from typing import Any, Literal


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    text: str  # cleaned text; every offset in the system points into it
    source: str = ""
    url: str = ""
    published: str = ""  # ISO date (YYYY-MM-DD) when known
    language: str = ""
    path: str = ""  # the file it came from
    content_hash: str = ""
    author: str = ""  # the byline's names, when the file gives them


@dataclass(frozen=True)
class Sentence:
    start: int  # offsets into Article.text
    end: int


@dataclass(frozen=True)
class Passage:
    id: str
    article_id: str
    text: str
    start: int
    end: int
    sentences: tuple[Sentence, ...] = ()  # offsets into Article.text


@dataclass
class ArticleInfo:
    """What the index keeps about an article (the manifest entry)."""

    id: str
    title: str
    source: str
    url: str
    published: str
    language: str
    path: str
    content_hash: str
    passage_ids: list[str]
    text: str
    author: str = ""  # indexes from before the byline was kept have none


@dataclass
class FileFailure:
    path: str
    reason: str


@dataclass
class MovedArticle:
    """An unchanged article whose file now lives elsewhere (the old file is gone): only the stored path changed."""
    id: str
    old_path: str
    path: str


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[FileFailure] = field(default_factory=list)
    # the same text as an article already in (a copy under another name): left out, so that retrieval does not return
    # it twice and a stale copy cannot outlive an edit of the original; not a failure
    duplicates: list[FileFailure] = field(default_factory=list)
    other_files: list[str] = field(default_factory=list)  # in the folders given, of a type ingest does not read
    moved: list[MovedArticle] = field(default_factory=list)  # also listed as unchanged
    # added or updated, but most of its sentences are another article's (a version saved under another name): said
    near_copies: list[FileFailure] = field(default_factory=list)
    passages_embedded: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RetrievedPassage:
    passage: Passage
    article: ArticleInfo
    score: float  # fused score used for ranking
    dense: float  # cosine similarity with the question
    lexical: float  # normalised BM25 score


@dataclass
class EvidenceSentence:
    start: int  # offsets into Article.text
    end: int
    text: str
    score: float


@dataclass
class Evidence:
    """A numbered evidence sentence with the passage it sits in (what a citation opens): one shown to the model, or one
    listed beside the answer the same way (a refusal's closest passages, another article's figure)."""

    n: int
    passage: Passage
    article: ArticleInfo
    sentence: EvidenceSentence


@dataclass
class Citation:
    n: int
    article_id: str
    title: str
    passage_id: str
    text: str  # the whole cited passage
    start: int  # span of the quote, offsets into the article text
    end: int
    quote: str  # the supporting words inside the passage
    passage_start: int = 0
    passage_end: int = 0
    source: str = ""
    published: str = ""
    language: str = ""
    url: str = ""
    author: str = ""
    # listed only because another article gives a different figure than the answer (AnswerSentence.differs): it backs
    # no sentence, and the reader must not take it for a source
    other_figure: bool = False


# how a citation listed only for its differing figure is labelled on the page, in the CLI and in exports
OTHER_FIGURE_LABEL = "another article's figure, not a source of the answer"


def markers(numbers: Iterable[int]) -> str:
    """Citation markers as answers and notes write them: [1][3]."""
    return "".join(f"[{n}]" for n in numbers)


@dataclass
class AnswerSentence:
    text: str
    citations: list[int]
    supported: bool
    reason: str = ""  # why a sentence is not supported
    support: float = 0.0  # how strongly the cited passage backs it (0..1)
    model_check: float | None = None  # the model's probability that the cited sentence states it (None: not asked)
    weak: bool = False  # verified, but the model check was below Settings.confident_min_yes: read the quote first
    # citations (listed with the answer's) of other articles that give a different figure for what it states
    differs: list[int] = field(default_factory=list)
    # the publication date of the newest of those articles, when it is newer than every article the sentence cites:
    # the answer may state a figure a later report has updated
    newer_report: str = ""
    # how the answer says so, in its own language (prompts/differs*_<lang>.txt), ending with the citation markers:
    # "ein späterer Artikel (2025-03-24) nennt eine andere Zahl: [2]"; the CLI, the page and the export show it as is
    differs_note: str = ""


@dataclass
class Answer:
    question: str
    answer: str
    refused: bool
    sentences: list[AnswerSentence]
    citations: list[Citation]
    backend: str
    model: str
    standalone_question: str = ""
    language: str = "en"
    refusal_reason: str = ""
    # "not_found": no passage bears on the question; "no_answer": passages on the topic were found, but the model
    # judged that they do not answer it (a probability, so the reader may still look); "unverified": a draft was
    # written but too little of it held up against its citations, so the answer may be in the articles
    refusal_kind: Literal["", "not_found", "no_answer", "unverified"] = ""
    # what the articles do have, shown on refusal: a held-back draft's cited passages first (numbered as its
    # sentences cite them), then the closest passages it does not cite
    closest: list[Citation] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    prompt_tokens: int = 0
    # the model's probability that the evidence answers the question (None: not asked, or it answered neither)
    answerable: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
