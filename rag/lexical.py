"""Lexical side of retrieval: stemmed tokens and a BM25 index (bm25s), persisted beside Chroma."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np

from .language import STOPWORDS, fold, words

STEMMER_LANGUAGES = {"de": "german", "en": "english"}


@lru_cache(maxsize=4)
def _stemmer(language: str):
    import Stemmer

    return Stemmer.Stemmer(STEMMER_LANGUAGES.get(language, "german"))


def tokenize(text: str, language: str) -> list[str]:
    """Stemmed, folded tokens of a passage in its own language."""
    stop = STOPWORDS.get(language, set()) | STOPWORDS["de"] | STOPWORDS["en"]
    raw = [w.lower() for w in words(text) if w.lower() not in stop]
    return [fold(s) for s in _stemmer(language or "de").stemWords(raw)]


def english_stem(word: str) -> str:
    return _stemmer("en").stemWord(word)


def word_stems(word: str, german: bool = False) -> set[str]:
    """A word as it is, and stemmed as German and as English, folded: 'Nominierung' and 'Nominierungen' share one.
    In German text a lower-case word's -t is a verb ending the stemmer keeps ("glaubt" / "glauben"): it is stemmed
    without it too. Not a capitalised noun's ("Nacht" is no form of "nach"), nor a double t ("tritt")."""
    stems = {fold(word.lower())} | {fold(_stemmer(language).stemWord(word.lower())) for language in STEMMER_LANGUAGES}
    if german and word[:1].islower() and len(word) >= 5 and word.endswith("t") and not word.endswith("tt"):
        stems.add(fold(_stemmer("de").stemWord(word[:-1])))
    return stems


def query_tokens(text: str) -> list[str]:
    """A question may meet passages in either language: stem it both ways."""
    tokens: list[str] = []
    for language in STEMMER_LANGUAGES:
        for token in tokenize(text, language):
            if token not in tokens:
                tokens.append(token)
    return tokens


class LexicalIndex:
    """BM25 over passage tokens. The tokens live in the manifest; this index is derived from them and rebuilt
    whenever its stamp does not match the manifest's (so a crash between the two writes heals itself)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.ids: list[str] = []
        self._bm25 = None
        self.stamp = ""

    def build(self, tokens_by_id: dict[str, list[str]], stamp: str) -> None:
        import bm25s

        self.ids = list(tokens_by_id)
        self.stamp = stamp
        self._bm25 = None
        corpus = [tokens_by_id[i] or ["_"] for i in self.ids]
        if corpus:
            model = bm25s.BM25()
            model.index(corpus, show_progress=False)
            self._bm25 = model

    def save(self) -> None:
        tmp = self.directory.with_name(self.directory.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self._bm25 is not None:
            self._bm25.save(str(tmp / "bm25"))
        (tmp / "ids.json").write_text(json.dumps({"stamp": self.stamp, "ids": self.ids}))
        old = self.directory.with_name(self.directory.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if self.directory.exists():
            os.replace(self.directory, old)
        os.replace(tmp, self.directory)
        shutil.rmtree(old, ignore_errors=True)

    def load(self, stamp: str) -> bool:
        """True when the saved index matches the manifest stamp."""
        import bm25s

        meta_path = self.directory / "ids.json"
        if not meta_path.exists():
            return False
        meta = json.loads(meta_path.read_text())
        if meta.get("stamp") != stamp:
            return False
        self.ids, self.stamp = meta["ids"], stamp
        self._bm25 = bm25s.BM25.load(str(self.directory / "bm25")) if self.ids else None
        return True

    def search(self, tokens: Iterable[str], k: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        """Top passages with BM25 scores scaled to 0..1 by the best score of this query."""
        if self._bm25 is None:
            return []
        vocab = self._bm25.vocab_dict
        known = [t for t in tokens if t in vocab]
        if not known:
            return []
        scores = np.asarray(self._bm25.get_scores(known), dtype=np.float32)
        if allowed is not None:
            mask = np.array([pid in allowed for pid in self.ids])
            scores = np.where(mask, scores, 0.0)
        best = float(scores.max()) if len(scores) else 0.0
        if best <= 0:
            return []
        order = np.argsort(-scores)[:k]
        return [(self.ids[i], float(scores[i] / best)) for i in order if scores[i] > 0]
