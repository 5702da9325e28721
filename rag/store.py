"""The index on disk: Chroma (vectors), a BM25 lexical index, and a manifest that is the source of truth.

Crash safety: new passages get new ids (the content hash is part of the id), the manifest is replaced atomically,
and only then are old vectors deleted. Anything in Chroma that the manifest does not name is an orphan from an
interrupted run and is removed the next time a writer opens the index.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .config import Settings, set_offline_environment
from .lexical import LexicalIndex
from .types import ArticleInfo, Passage, Sentence

MANIFEST_VERSION = 1


class IndexBusyError(RuntimeError):
    """Another process is writing to the index."""


class IndexMismatchError(RuntimeError):
    """The index was built with another embedder; its vectors cannot be compared with this one's."""


@contextmanager
def write_lock(index_dir: Path) -> Iterator[None]:
    """One writer per index: two processes writing one Chroma path corrupt it without any error."""
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / ".write.lock"
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise IndexBusyError(
            f"another newsrag process (pid {holder}) is writing to {index_dir}; wait for it to finish"
        ) from None
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.seek(0)
        handle.truncate()
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def passage_id(article_id: str, digest: str, n: int) -> str:
    return f"{article_id}#{digest[:8]}-{n}"


def date_number(published: str) -> int:
    """YYYY-MM-DD as 20250520, for range filters (Chroma compares numbers only)."""
    digits = "".join(ch for ch in published[:10] if ch.isdigit())
    return int(digits) if len(digits) == 8 else 0


@dataclass(frozen=True)
class PassageRecord:
    """What the manifest keeps of a passage: where it sits in its article, and its words for the lexical index."""
    article_id: str
    start: int
    end: int
    sentences: tuple[tuple[int, int], ...]
    tokens: tuple[str, ...]

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> "PassageRecord":
        return cls(record["article_id"], record["start"], record["end"],
                   tuple((s, e) for s, e in record["sentences"]), tuple(record["tokens"]))


class Manifest:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.articles: dict[str, ArticleInfo] = {}
        self.passages: dict[str, PassageRecord] = {}
        self.embedder = ""
        self.stamp = ""
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            self.embedder = data.get("embedder", "")
            self.stamp = data.get("stamp", "")
            self.articles = {a["id"]: ArticleInfo(**a) for a in data.get("articles", [])}
            self.passages = {pid: PassageRecord.from_json(r) for pid, r in data.get("passages", {}).items()}

    def save(self) -> None:
        self.stamp = hashlib.sha1(os.urandom(16)).hexdigest()
        data = {
            "version": MANIFEST_VERSION,
            "embedder": self.embedder,
            "stamp": self.stamp,
            "articles": [asdict(a) for a in self.articles.values()],
            "passages": {pid: asdict(r) for pid, r in self.passages.items()},
        }
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def passage(self, pid: str) -> Passage:
        record = self.passages[pid]
        article = self.articles[record.article_id]
        return Passage(
            id=pid, article_id=article.id, text=article.text[record.start:record.end], start=record.start,
            end=record.end, sentences=tuple(Sentence(s, e) for s, e in record.sentences),
        )


class VectorStore:
    """Chroma through llama-index's ChromaVectorStore; embeddings are always passed in (never query_texts)."""

    def __init__(self, settings: Settings) -> None:
        set_offline_environment()
        self.settings = settings
        # the page answers and lists the library in different threads; reopen() must not close a query's client
        self._lock = threading.RLock()
        self._open()

    def _open(self) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from llama_index.vector_stores.chroma import ChromaVectorStore

        settings = self.settings
        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if settings.chroma_host:
            self.client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port,
                                              settings=chroma_settings)
        else:
            path = settings.index_dir / "chroma"
            path.mkdir(parents=True, exist_ok=True)
            self.client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        self.collection = self.client.get_or_create_collection(
            settings.collection, metadata={"hnsw:space": "cosine"}
        )
        self.store = ChromaVectorStore(chroma_collection=self.collection)

    def reopen(self) -> None:
        """A local Chroma keeps its vector index in memory: after another process's ingest it returned ids that are
        gone ("Error finding id") until a restart. Reopening reads what is on disk now (once no other client of this
        process holds the same path open: ingest and remove close theirs)."""
        with self._lock:
            self.client.close()
            self._open()

    def close(self) -> None:
        with self._lock:
            self.client.close()

    def add(self, passages: Sequence[Passage], vectors: np.ndarray, articles: dict[str, ArticleInfo]) -> None:
        from llama_index.core.schema import TextNode

        nodes = []
        for passage, vector in zip(passages, vectors):
            article = articles[passage.article_id]
            nodes.append(
                TextNode(
                    id_=passage.id, text=passage.text, embedding=vector.tolist(),
                    start_char_idx=passage.start, end_char_idx=passage.end,
                    metadata={
                        "article_id": article.id, "source": article.source, "language": article.language,
                        "published": article.published, "published_n": date_number(article.published),
                    },
                )
            )
        # ChromaVectorStore.add calls collection.add, which silently ignores existing ids: ids are new by design
        # (content hash in the id), and orphans from a crash are deleted before any write.
        with self._lock:
            for i in range(0, len(nodes), 2000):
                self.store.add(nodes[i:i + 2000])

    def delete(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        with self._lock:
            for i in range(0, len(ids), 5000):
                self.collection.delete(ids=ids[i:i + 5000])

    def all_ids(self) -> set[str]:
        with self._lock:
            return set(self.collection.get(include=[])["ids"])

    def query(self, vector: np.ndarray, k: int, where: dict | None = None) -> list[tuple[str, float]]:
        """(passage id, cosine similarity), best first."""
        with self._lock:
            count = self.collection.count()
            if count == 0:
                return []
            result = self.collection.query(
                query_embeddings=[vector.tolist()], n_results=min(k, count), where=where or None,
                include=["distances"]
            )
        return [(pid, 1.0 - float(d)) for pid, d in zip(result["ids"][0], result["distances"][0])]

    def embeddings(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        with self._lock:
            result = self.collection.get(ids=list(ids), include=["embeddings"])
        return {pid: np.asarray(vec, dtype=np.float32) for pid, vec in zip(result["ids"], result["embeddings"])}


class NewsIndex:
    """The manifest, the vectors and the lexical index of one index directory."""

    def __init__(self, settings: Settings, embedder_name: str | None = None) -> None:
        self.settings = settings
        self.dir = settings.index_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.manifest = Manifest(self.dir / "manifest.json")
        if embedder_name and self.manifest.embedder and self.manifest.embedder != embedder_name:
            raise IndexMismatchError(
                f"{self.dir} was built with embedder '{self.manifest.embedder}', not '{embedder_name}': "
                "use another --index or re-ingest into an empty one"
            )
        self.vectors = VectorStore(settings)
        self.lexical = LexicalIndex(self.dir / "lexical")
        if not self.lexical.load(self.manifest.stamp):
            self.lexical.build(self._tokens(), self.manifest.stamp)

    def _tokens(self) -> dict[str, list[str]]:
        return {pid: list(rec.tokens) for pid, rec in self.manifest.passages.items()}

    def reload_if_changed(self) -> None:
        """Pick up another process's ingest (the web page stays up while the CLI ingests)."""
        try:
            mtime = self.manifest.path.stat().st_mtime_ns
        except FileNotFoundError:
            return
        if mtime == getattr(self, "_manifest_mtime", None):
            return  # parsing the manifest on every question would cost more than the question
        self._manifest_mtime = mtime
        fresh = Manifest(self.manifest.path)
        if fresh.stamp != self.manifest.stamp:
            self.manifest = fresh
            if not self.settings.chroma_host:
                self.vectors.reopen()
            if not self.lexical.load(fresh.stamp):
                self.lexical.build(self._tokens(), fresh.stamp)

    # --- reads
    @property
    def articles(self) -> dict[str, ArticleInfo]:
        return self.manifest.articles

    def passage(self, pid: str) -> Passage:
        return self.manifest.passage(pid)

    # --- writes (call under write_lock)
    def repair(self) -> list[str]:
        """Remove what an interrupted run left behind; returns the ids of articles that were incomplete."""
        known = set(self.manifest.passages)
        stored = self.vectors.all_ids()
        orphans = stored - known
        if orphans:
            self.vectors.delete(sorted(orphans))
        missing = known - stored
        broken = sorted({self.manifest.passages[p].article_id for p in missing})
        for article_id in broken:
            self._forget(article_id)
        if broken:
            self.commit()
        return broken

    def _forget(self, article_id: str) -> list[str]:
        info = self.manifest.articles.pop(article_id, None)
        if info is None:
            return []
        for pid in info.passage_ids:
            self.manifest.passages.pop(pid, None)
        return info.passage_ids

    def put_article(self, info: ArticleInfo, passages: Sequence[Passage], vectors: np.ndarray,
                    tokens: Sequence[list[str]]) -> list[str]:
        """Add vectors now; the manifest switch happens in commit(). Returns the old passage ids to delete after it."""
        old_ids = self._forget(info.id)
        self.manifest.articles[info.id] = info
        self.vectors.add(passages, vectors, {info.id: info})
        for passage, toks in zip(passages, tokens):
            self.manifest.passages[passage.id] = PassageRecord(
                info.id, passage.start, passage.end, tuple((s.start, s.end) for s in passage.sentences), tuple(toks))
        return [pid for pid in old_ids if pid not in self.manifest.passages]

    def remove_article(self, article_id: str) -> list[str]:
        return self._forget(article_id)

    def close(self) -> None:
        self.vectors.close()

    def __enter__(self) -> "NewsIndex":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def commit(self, embedder_name: str | None = None, delete_after: Sequence[str] = ()) -> None:
        if embedder_name:
            self.manifest.embedder = embedder_name
        self.manifest.save()
        if delete_after:
            self.vectors.delete(delete_after)
        self.lexical.build(self._tokens(), self.manifest.stamp)
        self.lexical.save()
