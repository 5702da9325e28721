"""Dense + lexical retrieval with metadata filters, fused by score.

Plain reciprocal-rank fusion hurts English questions over German text (often no shared token), so the lexical score
is a bonus on top of the dense cosine, weighted by whether the question and the passage share a language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .config import Settings
from .embed import Embedder
from .language import detect_language
from .lexical import query_tokens
from .store import NewsIndex, date_number
from .types import ArticleInfo, RetrievedPassage


@dataclass(frozen=True)
class Filters:
    sources: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    date_from: str = ""  # YYYY-MM-DD, inclusive
    date_to: str = ""
    article_ids: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        for label, value in (("from", self.date_from), ("to", self.date_to)):
            if value and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError(f"date {label} must look like 2025-05-20, not {value!r}")

    def describe(self) -> str:
        """The filters in words, for a refusal or the page: an answer searched under filters must say so."""
        parts = []
        if self.sources:
            parts.append("sources: " + ", ".join(self.sources))
        if self.languages:
            parts.append("languages: " + ", ".join(self.languages))
        if self.date_from or self.date_to:
            parts.append(f"published {self.date_from or '…'} – {self.date_to or '…'} (undated articles left out)")
        if self.article_ids:
            parts.append(f"{len(self.article_ids)} chosen articles")
        return "; ".join(parts)

    def is_empty(self) -> bool:
        return not (self.sources or self.languages or self.date_from or self.date_to or self.article_ids)

    def allows(self, article: ArticleInfo) -> bool:
        if self.sources and article.source not in self.sources:
            return False
        if self.languages and article.language not in self.languages:
            return False
        if self.article_ids and article.id not in self.article_ids:
            return False
        published = date_number(article.published)
        if self.date_from and (not published or published < date_number(self.date_from)):
            return False
        if self.date_to and (not published or published > date_number(self.date_to)):
            return False
        return True

    def chroma_where(self) -> dict | None:
        clauses: list[dict] = []
        if self.sources:
            clauses.append({"source": {"$in": list(self.sources)}})
        if self.languages:
            clauses.append({"language": {"$in": list(self.languages)}})
        if self.article_ids:
            clauses.append({"article_id": {"$in": list(self.article_ids)}})
        if self.date_from:
            clauses.append({"published_n": {"$gte": date_number(self.date_from)}})
        if self.date_to:
            clauses.append({"published_n": {"$lte": date_number(self.date_to)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class Retriever:
    def __init__(self, index: NewsIndex, embedder: Embedder, settings: Settings) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings

    def retrieve(self, question: str, k: int | None = None, filters: Filters | None = None,
                 extra_queries: tuple[str, ...] = ()) -> list[RetrievedPassage]:
        """`extra_queries` (translations of the question) search too: a passage scores by the query it is closest to,
        and lexical matches count in the passages' language."""
        k = k or self.settings.top_k
        filters = filters or Filters()
        manifest = self.index.manifest
        if not manifest.passages:
            return []
        allowed_articles = {a for a, info in manifest.articles.items() if filters.allows(info)}
        if not allowed_articles:
            return []
        allowed = None if filters.is_empty() else {
            pid for pid, rec in manifest.passages.items() if rec.article_id in allowed_articles
        }
        vectors = self.embedder.embed_queries([question, *extra_queries])
        n = self.settings.candidates
        dense: dict[str, float] = {}
        for vector in vectors:
            for pid, score in self.index.vectors.query(vector, n, filters.chroma_where()):
                dense[pid] = max(score, dense.get(pid, score))
        # each query's BM25 scaled by its own best: the translation's best match counts as much as the question's
        lexical: dict[str, float] = {}
        for query in (question, *extra_queries):
            for pid, score in self.index.lexical.search(query_tokens(query), n, allowed):
                lexical[pid] = max(score, lexical.get(pid, score))
        # the manifest is the source of truth: ignore anything it does not name
        candidates = [pid for pid in dict.fromkeys([*dense, *lexical]) if pid in manifest.passages]
        missing = [pid for pid in candidates if pid not in dense]
        for pid, emb in self.index.vectors.embeddings(missing).items():
            dense[pid] = float((vectors @ emb).max())
        question_language = detect_language(question)
        results = []
        for pid in candidates:
            article = manifest.articles[manifest.passages[pid].article_id]
            same = bool(extra_queries) or not question_language or question_language == article.language
            weight = self.settings.lexical_weight_same_language if same else self.settings.lexical_weight_cross_language
            d, lex = dense.get(pid, 0.0), lexical.get(pid, 0.0)
            results.append(RetrievedPassage(manifest.passage(pid), article, d + weight * lex, d, lex))
        results.sort(key=lambda r: -r.score)
        return results[:k]
