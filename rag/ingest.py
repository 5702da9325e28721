"""Articles in: load -> clean -> split -> embed -> store, with a report of what happened to each file."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from .clean import clean_article
from .config import Settings
from .embed import get_embedder
from .lexical import tokenize
from .load import RECORD_SUFFIXES, load_paths, other_files
from .split import split_article
from .store import Manifest, NewsIndex, passage_id, write_lock
from .types import Article, ArticleInfo, FileFailure, IngestReport, MovedArticle, Passage

ProgressCallback = Callable[[int, int, str], None]

# Embed and commit in batches of this many passages: a killed run keeps every finished batch.
COMMIT_EVERY_PASSAGES = 512


def content_hash(article: Article) -> str:
    h = hashlib.sha256()
    # the author only when there is one: articles stored before bylines were read keep their hash (and passages)
    for part in (article.title, article.text, article.source, article.url, article.published, article.language,
                 *((article.author,) if article.author else ())):
        h.update(part.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


def layout_hash(content_digest: str, passages: Sequence[Passage]) -> str:
    """The text and where it was cut: a new splitter or passage size gives new passage ids, so the article is redone."""
    h = hashlib.sha256(content_digest.encode("ascii"))
    for p in passages:
        h.update(f"{p.start}:{p.end}:{','.join(f'{s.start}-{s.end}' for s in p.sentences)};".encode("ascii"))
    return h.hexdigest()


def sentence_prints(text: str, sentences: Iterable[tuple[int, int]]) -> frozenset[str]:
    """An article's own sentences, normalised; short ones ("Ja.", a dateline) are common to unrelated articles."""
    prints = set()
    for start, end in sentences:
        sentence = " ".join(text[start:end].lower().split())
        if len(sentence) >= 40:
            prints.add(hashlib.sha1(sentence.encode("utf-8")).hexdigest()[:16])
    return frozenset(prints)


class NearCopies:
    """Finds a stored article that shares most sentences with a new one under another id: "hafen-final.txt" next to
    "hafen.txt" would otherwise give the old figure and the new one side by side, without a word."""

    def __init__(self, manifest: Manifest, share: float) -> None:
        self.share = share
        self.prints: dict[str, frozenset[str]] = {}
        self.by_print: dict[str, set[str]] = {}
        self.paths: dict[str, str] = {}
        for info in manifest.articles.values():
            spans = (s for pid in info.passage_ids if pid in manifest.passages for s in manifest.passages[pid].sentences)
            self.add(info.id, info.path, sentence_prints(info.text, spans))

    def add(self, article_id: str, path: str, prints: frozenset[str]) -> None:
        for p in self.prints.get(article_id, ()):
            self.by_print.get(p, set()).discard(article_id)
        self.prints[article_id], self.paths[article_id] = prints, path
        for p in prints:
            self.by_print.setdefault(p, set()).add(article_id)

    def closest(self, article_id: str, prints: frozenset[str]) -> tuple[str, int] | None:
        """The article under another id that shares the most of these sentences, and how many, if that is a near copy."""
        shared: dict[str, int] = {}
        for p in prints:
            for other in self.by_print.get(p, ()):
                if other != article_id:
                    shared[other] = shared.get(other, 0) + 1
        best = max(shared, key=lambda other: (shared[other], other), default="")
        if not best or shared[best] < 2 or shared[best] < self.share * min(len(prints), len(self.prints[best])):
            return None
        return best, shared[best]

    def of(self, article_id: str, prints: frozenset[str]) -> str:
        """'shares 5 of its 6 sentences with article …', or '' when no article under another id comes that close."""
        found = self.closest(article_id, prints)
        if found is None:
            return ""
        best, shared = found
        where = f" ({self.paths[best]})" if self.paths.get(best) else ""
        return (f"shares {shared} of its {len(prints)} sentences with article '{best}'{where}; both are in. "
                f"If one replaces the other, remove the old one (newsrag remove ID)")

    def stored(self) -> dict[str, str]:
        """For each stored article that is a near copy of another, that other's id (for listings)."""
        pairs = {}
        for article_id, prints in self.prints.items():
            if found := self.closest(article_id, prints):
                pairs[article_id] = found[0]
        return pairs


def prepare(article: Article, settings: Settings) -> tuple[Article, list[Passage]]:
    article = clean_article(article)
    article = replace(article, content_hash=content_hash(article))
    passages = split_article(article, settings.passage_max_chars)
    digest = layout_hash(article.content_hash, passages)
    return article, [replace(p, id=passage_id(article.id, digest, n)) for n, p in enumerate(passages)]


def ingest(
    paths: Iterable[Path], settings: Settings, progress: ProgressCallback | None = None, show_progress: bool = False,
) -> IngestReport:
    started = time.perf_counter()
    report = IngestReport()
    embedder = get_embedder(settings)
    paths = list(paths)
    items = list(load_paths(paths))
    report.other_files = other_files(paths)
    # closed at the end: a Chroma client left open here would keep this process's page from reading the new vectors
    with write_lock(settings.index_dir), NewsIndex(settings, embedder.name) as index:
        for article_id in index.repair():
            report.failed.append(FileFailure(article_id, "was incomplete after an interrupted run and was removed; "
                                                         "ingest its file again"))
        seen: dict[str, str] = {}
        by_content = {info.content_hash: info.id for info in index.articles.values()}
        near_copies: NearCopies | None = None
        batch: list[tuple[Article, list[Passage], bool]] = []
        batch_passages = 0
        bar = None
        if show_progress:
            from tqdm import tqdm

            bar = tqdm(total=len(items), unit="article", desc="ingest")
        for done, item in enumerate(items, 1):
            if bar is not None:  # an article counts as done once stored, not when it joins the batch to embed
                bar.update(done - 1 - len(batch) - bar.n)
            if progress is not None:
                progress(done, len(items), getattr(item, "path", ""))
            if isinstance(item, FileFailure):
                report.failed.append(item)
                continue
            if item.id in seen:
                report.failed.append(FileFailure(item.path, f"article id '{item.id}' also comes from {seen[item.id]}"))
                continue
            seen[item.id] = item.path
            article, passages = prepare(item, settings)
            if not passages:
                report.failed.append(FileFailure(item.path, "no article text left after removing boilerplate"))
                continue
            twin = by_content.get(article.content_hash, article.id)
            if twin != article.id:
                where = index.articles[twin].path if twin in index.articles else seen.get(twin, "")
                report.duplicates.append(FileFailure(item.path, f"the same text as article '{twin}'"
                                                                f"{f' ({where})' if where else ''}; left out"))
                continue
            existing = index.articles.get(article.id)
            if existing is not None and _another_file(existing.path, article.path):
                report.failed.append(FileFailure(item.path, (
                    f"article id '{article.id}' is already taken by {existing.path}; rename this file, or remove "
                    f"'{article.id}' first to replace that article")))
                continue
            by_content[article.content_hash] = article.id
            if existing is None or existing.passage_ids != [p.id for p in passages]:
                prints = sentence_prints(article.text, ((s.start, s.end) for p in passages for s in p.sentences))
                if near_copies is None:  # built only when something is added or changed
                    near_copies = NearCopies(index.manifest, settings.near_copy_share)
                if note := near_copies.of(article.id, prints):
                    report.near_copies.append(FileFailure(item.path, note))
                near_copies.add(article.id, article.path, prints)
            if existing is not None and existing.passage_ids == [p.id for p in passages]:
                if existing.path != article.path:  # the file moved (the old one is gone): same text, new place
                    index.articles[article.id] = replace(existing, path=article.path)
                    report.moved.append(MovedArticle(article.id, existing.path, article.path))
                report.unchanged.append(article.id)
                continue
            batch.append((article, passages, existing is not None))
            batch_passages += len(passages)
            if batch_passages >= COMMIT_EVERY_PASSAGES:
                _store_batch(index, batch, embedder, report)
                batch, batch_passages = [], 0
        if batch:
            _store_batch(index, batch, embedder, report)
        elif report.moved:
            index.commit()
        if bar is not None:  # the bar counts every record read; say how many of them could not go in
            if report.failed:
                bar.set_postfix_str(f"{len(report.failed)} failed", refresh=False)
            bar.update(len(items) - bar.n)
            bar.close()
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _another_file(stored_path: str, new_path: str) -> bool:
    """report.txt in two folders gets one id, and the second must not silently replace the first. A file that moved
    (the old one is gone) is the same article; feed records carry their own ids, and a later feed may update them."""
    if not stored_path or Path(new_path).suffix.lower() in RECORD_SUFFIXES:
        return False
    old = Path(stored_path).resolve()
    return old != Path(new_path).resolve() and old.is_file()


def _store_batch(index: NewsIndex, batch: Sequence[tuple[Article, list[Passage], bool]], embedder,
                 report: IngestReport) -> None:
    texts = [p.text for _, passages, _ in batch for p in passages]
    vectors = embedder.embed_passages(texts)
    report.passages_embedded += len(texts)
    stale: list[str] = []
    offset = 0
    for article, passages, is_update in batch:
        info = ArticleInfo(
            id=article.id, title=article.title, source=article.source, url=article.url, published=article.published,
            language=article.language, path=article.path, content_hash=article.content_hash,
            passage_ids=[p.id for p in passages], text=article.text, author=article.author,
        )
        tokens = [tokenize(p.text, article.language) for p in passages]
        stale += index.put_article(info, passages, vectors[offset:offset + len(passages)], tokens)
        offset += len(passages)
        (report.updated if is_update else report.added).append(article.id)
    index.commit(embedder.name, delete_after=stale)


def remove(article_ids: Sequence[str], settings: Settings) -> tuple[list[str], list[str]]:
    """Returns (removed, unknown)."""
    removed, unknown, stale = [], [], []
    with write_lock(settings.index_dir), NewsIndex(settings) as index:
        for article_id in article_ids:
            ids = index.remove_article(article_id)
            (removed if ids else unknown).append(article_id)
            stale += ids
        if removed:
            index.commit(delete_after=stale)
    return removed, unknown
