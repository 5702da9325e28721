"""The sentence-transformers backend, with the packaged all-MiniLM-L6-v2 (offline, from a pip package)."""

import json

import pytest

from rag.ingest import ingest
from rag.retrieve import Retriever
from rag.store import IndexMismatchError, NewsIndex

pytest.importorskip("sentence_transformers")


def test_sentence_transformers_backend_ingests_and_retrieves(tmp_path, settings):
    st = settings.with_overrides(embedder="sentence-transformers", embed_model="")
    corpus = tmp_path / "news.jsonl"
    corpus.write_text("\n".join(json.dumps(r) for r in [
        {"id": "harbour", "title": "Harbour", "text": "The city of Lindau opened a new harbour on Monday."},
        {"id": "bridge", "title": "Bridge", "text": "The old bridge in Bregenz was closed after engineers found cracks."},
    ]))
    report = ingest([corpus], st)
    assert sorted(report.added) == ["bridge", "harbour"]
    from rag.embed import get_embedder

    embedder = get_embedder(st)
    assert embedder.name.startswith("sentence-transformers:")
    hits = Retriever(NewsIndex(st), embedder, st).retrieve("Why was the bridge shut?", k=1)
    assert hits[0].article.id == "bridge"
    # an index built with one embedder refuses another one's vectors
    with pytest.raises(IndexMismatchError):
        ingest([corpus], settings)
