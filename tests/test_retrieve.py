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


def test_a_bare_title_is_not_evidence_but_a_headline_is(settings, tmp_path):
    import json

    from rag.evidence import select_evidence
    from rag.ingest import ingest

    articles = tmp_path / "wiki.jsonl"
    articles.write_text("\n".join(json.dumps(a, ensure_ascii=False) for a in [
        {"id": "label", "title": "Lindauer Hafen", "language": "de",
         "text": "Der Hafen von Lindau wurde 1811 mit einer Mole ausgebaut. Er ist der größte Hafen am See."},
        {"id": "headline", "title": "Lindau baut seinen Hafen mit einer neuen Mole aus", "language": "de",
         "text": "Die Arbeiten beginnen im Frühjahr und dauern zwei Jahre."},
    ]), encoding="utf-8")
    ingest([articles], settings)
    r = retriever(settings)
    hits = r.retrieve("Wann wurde der Lindauer Hafen ausgebaut?", k=5)
    shown = [e.sentence.text.strip() for e in select_evidence("Wann wurde der Lindauer Hafen ausgebaut?", hits,
                                                               r.embedder, settings.with_overrides(evidence_margin=1.0)).evidence]
    # the title 'Lindauer Hafen' is in the article text (so it stays searchable) and in the evidence header, but a
    # two-word label states nothing to cite; the headline states a fact and may be cited
    assert "Lindauer Hafen" not in shown
    assert "Der Hafen von Lindau wurde 1811 mit einer Mole ausgebaut." in shown
    assert "Lindau baut seinen Hafen mit einer neuen Mole aus" in shown
