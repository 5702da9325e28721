from rag.embed import get_embedder
from rag.retrieve import Filters, Retriever
from rag.store import NewsIndex


def retriever(settings) -> Retriever:
    return Retriever(NewsIndex(settings), get_embedder(settings), settings)


def test_english_question_finds_german_passage(sample_settings):
    hits = retriever(sample_settings).retrieve("Who attended the Pyongyang meeting?", k=3)
    assert any("Alexander Matsegora" in h.passage.text for h in hits[:2])
    assert all(h.passage.text == h.article.text[h.passage.start:h.passage.end] for h in hits)


def test_german_question_uses_the_lexical_side(sample_settings):
    hits = retriever(sample_settings).retrieve("Wann wurde der Vertrag über umfassende strategische Partnerschaft geschlossen?", k=3)
    assert "im Juni letzten Jahres" in hits[0].passage.text
    assert hits[0].lexical > 0


def test_link_list_headlines_are_never_retrieved(sample_settings):
    hits = retriever(sample_settings).retrieve("Grenzschutzbeamte nennen neue Hotspots an der Grenze", k=10)
    assert hits  # the article is still found by topic...
    assert not any("Hotspots" in h.passage.text or "Lesen Sie auch" in h.passage.text for h in hits)


def test_filters_are_honoured(sample_settings):
    r = retriever(sample_settings)
    assert r.retrieve("Pjöngjang", filters=Filters(languages=("en",))) == []
    assert r.retrieve("Pjöngjang", filters=Filters(languages=("de",)))
    assert r.retrieve("Pjöngjang", filters=Filters(date_from="2030-01-01")) == []
    assert r.retrieve("Pjöngjang", filters=Filters(sources=("Nowhere Times",))) == []
