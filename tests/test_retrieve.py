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


def test_a_sentence_that_refers_back_brings_the_sentence_before_it(sample_settings):
    from rag.evidence import select_evidence

    r = retriever(sample_settings)
    question = "Wer nahm an dem Treffen in Pjöngjang teil?"
    shown = [e.sentence.text for e in select_evidence(question, r.retrieve(question, k=5), r.embedder,
                                                      sample_settings).evidence]
    # "Dies geschah bei einem Treffen mit ... Rudenko" is chosen for the question, but names only one side of the
    # meeting; "Dies" points at the sentence before, which names Choe Son Hui, so it is shown too, and first
    dies = next(i for i, text in enumerate(shown) if text.startswith("Dies geschah"))
    assert dies > 0 and "Choe Son Hui" in shown[dies - 1]
    assert len(shown) <= sample_settings.evidence_sentences


def test_a_sentence_shared_by_neighbouring_passages_is_shown_once(settings, tmp_path):
    import json

    from rag.evidence import select_evidence
    from rag.ingest import ingest
    from rag.split import split_article
    from rag.types import Article

    topics = ["Das Wetter am Bodensee war im Sommer ungewöhnlich warm", "Die Fähre nach Bregenz fuhr nach Fahrplan",
              "Im Museum eröffnete eine Ausstellung über Segelboote", "Der Stadtrat beriet über neue Radwege",
              "Auf der Insel wurde ein Weinfest gefeiert", "Der Hafenmeister Jonas Brandt ließ am Lindauer Hafen eine "
              "neue Mole aus Granit bauen", "Die Bahnstrecke nach München wurde elektrifiziert",
              "Ein Chor aus Konstanz gab ein Konzert im Theater", "Die Schule bekam eine neue Turnhalle"]
    text = " ".join(t.ljust(99, "x") + "." for t in topics)  # equal lengths: six sentences per 700-character passage
    article = {"id": "lindau", "title": "Lindauer Chronik", "language": "de", "text": text}
    passages = split_article(Article(**article, content_hash=""), settings.passage_max_chars)
    shared = set(passages[0].sentences) & set(passages[1].sentences)
    assert [text[s.start:s.end] for s in shared] == [topics[5].ljust(99, "x") + "."]  # the seam is Brandt's sentence
    (tmp_path / "lindau.jsonl").write_text(json.dumps(article, ensure_ascii=False), encoding="utf-8")
    ingest([tmp_path / "lindau.jsonl"], settings)
    r = retriever(settings)
    question = "Wer ließ am Lindauer Hafen eine Mole aus Granit bauen?"
    shown = select_evidence(question, r.retrieve(question, k=5), r.embedder,
                            settings.with_overrides(evidence_margin=1.0)).evidence
    texts = [e.sentence.text for e in shown]
    assert texts.count(topics[5].ljust(99, "x") + ".") == 1
    assert len(texts) == len(set(texts))
