import re

import pytest

from rag.language import detect_language
from rag.embed import get_embedder
from rag.retrieve import Filters, Retriever
from rag.store import NewsIndex


def retriever(settings) -> Retriever:
    return Retriever(NewsIndex(settings), get_embedder(settings), settings)


def ingest_records(settings, folder, records: list[dict]) -> None:
    """Ingest articles given as eval-format records (one JSONL file), the way `newsrag ingest` reads them."""
    import json

    from rag.ingest import ingest

    articles = folder / "articles.jsonl"
    articles.write_text("\n".join(json.dumps(a, ensure_ascii=False) for a in records), encoding="utf-8")
    ingest([articles], settings)


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


def test_evidence_shows_the_most_relevant_article_first_and_each_article_in_text_order(settings, tmp_path):
    from rag.evidence import select_evidence

    # ids in the opposite order to relevance: the small model leans on the first evidence numbers it reads
    ingest_records(settings, tmp_path, [
        {"id": "a-budget", "title": "Stadtrat beschließt Haushalt", "language": "de",
         "text": "Der Stadtrat hat den Haushalt beschlossen. Für den Hafen sind zwei Millionen Euro vorgesehen."},
        {"id": "z-hafen", "title": "Lindau baut den Hafen aus", "language": "de",
         "text": "Der Ausbau des Lindauer Hafens beginnt im März. Die neue Mole kostet vier Millionen Euro. "
                 "Sie soll 2027 fertig sein."},
    ])
    r = retriever(settings)
    question = "Wann beginnt der Ausbau des Lindauer Hafens?"
    evidence = select_evidence(question, r.retrieve(question, k=5), r.embedder,
                               settings.with_overrides(evidence_margin=1.0)).evidence
    ids = [e.article.id for e in evidence]
    assert ids[0] == "z-hafen" and "a-budget" in ids, ids
    assert ids == sorted(ids, key=lambda i: i != "z-hafen")  # one article's sentences together
    starts = [e.sentence.start for e in evidence if e.article.id == "z-hafen"]
    assert starts == sorted(starts)


def test_a_bare_title_is_not_evidence_but_a_headline_is(settings, tmp_path):
    from rag.evidence import select_evidence

    ingest_records(settings, tmp_path, [
        {"id": "label", "title": "Lindauer Hafen", "language": "de",
         "text": "Der Hafen von Lindau wurde 1811 mit einer Mole ausgebaut. Er ist der größte Hafen am See."},
        {"id": "headline", "title": "Lindau baut seinen Hafen mit einer neuen Mole aus", "language": "de",
         "text": "Die Arbeiten beginnen im Frühjahr und dauern zwei Jahre."},
    ])
    r = retriever(settings)
    hits = r.retrieve("Wann wurde der Lindauer Hafen ausgebaut?", k=5)
    shown = [e.sentence.text.strip() for e in select_evidence("Wann wurde der Lindauer Hafen ausgebaut?", hits,
                                                               r.embedder, settings.with_overrides(evidence_margin=1.0)).evidence]
    # the title 'Lindauer Hafen' is in the article text (so it stays searchable) and in the evidence header, but a
    # two-word label states nothing to cite; the headline states a fact and may be cited
    assert "Lindauer Hafen" not in shown
    assert "Der Hafen von Lindau wurde 1811 mit einer Mole ausgebaut." in shown
    assert "Lindau baut seinen Hafen mit einer neuen Mole aus" in shown


def test_a_dateline_is_not_evidence():
    from rag.evidence import _is_dateline

    def line(text: str, headline: str = "Hochwasser in Lauterbrück\n") -> bool:
        return _is_dateline(headline + text, len(headline), len(headline) + len(text))

    # it opens the article under the headline and states nothing; it won evidence slots on the question's place name
    for dateline in ["Lauterbrück, 12. März 2025.", "LINDAU, 5 June 2025.", "Berlin, 3. May 2024 (dpa)."]:
        assert line(dateline) and _is_dateline(dateline, 0, len(dateline)), dateline
    for statement in ["Am 12. März 2025 brach der Deich.", "Hegmann schließt Werk in Lauterbrück.",
                      "Flood Damage Rises To 21 Million", "Storm On Lake Constance In March", "Tesla died in 1943.",
                      "Baubeginn: März 2026.", "Julia Klöckner, 52, CDU."]:
        assert not line(statement), statement
    # further down, in the middle of a paragraph, a short line is the article's own: "Neuer Termin 14. Mai 2025."
    assert not line("Neuer Termin 14. Mai 2025.", "Hochwasser in Lauterbrück\n" + "Der Deich hält. " * 30)


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


@pytest.fixture
def storm_reports(settings, tmp_path):
    """One event reported in both languages: the English report shares the question's words, the German one alone
    says how it ended."""
    ingest_records(settings, tmp_path, [
        {"id": "storm-en", "title": "Storm on Lake Constance: fisherman missing", "language": "en",
         "published": "2025-04-08",
         "text": "A fisherman from Lindau has been missing since a storm swept across Lake Constance on Tuesday. "
                 "Rescue boats and a helicopter searched the lake for the missing fisherman on Wednesday. His boat "
                 "was found empty near the harbour. Police asked residents to report any sightings of the man."},
        {"id": "fischer-de", "title": "Vermisster Lindauer lebend entdeckt", "language": "de",
         "published": "2025-04-10",
         "text": "Der seit dem Sturm vermisste Fischer Anton Weber aus Lindau ist am Donnerstagmorgen lebend "
                 "gefunden worden. Rettungskräfte entdeckten den 64-Jährigen stark unterkühlt auf einer Sandbank vor "
                 "Wasserburg. Er wird im Krankenhaus behandelt."},
        {"id": "hafen-de", "title": "Lindau baut den Hafen aus", "language": "de", "published": "2025-03-01",
         "text": "Der Hafen von Lindau bekommt eine neue Mole. Die Arbeiten beginnen im Sommer."},
    ])
    return settings.with_overrides(llamacpp_model="qwen2.5-coder-1.5b")


@pytest.mark.slow
def test_a_translated_question_finds_the_article_in_the_other_language(storm_reports):
    from rag.answer import Assistant
    from rag.evidence import select_evidence

    question = "Has the fisherman who went missing in the storm been found?"
    assistant = Assistant(storm_reports)
    translation = assistant.translations(question)
    (translated,), tokens = translation.texts, translation.prompt_tokens
    assert detect_language(translated) == "de" and tokens > 0, translated

    def evidence_articles(extra):
        hits = assistant.retriever.retrieve(question, k=5, extra_queries=extra)
        selection = select_evidence(question, hits, assistant.embedder, storm_reports, extra)
        return {e.article.id for e in selection.evidence}

    # the English report wins on shared words alone, and the German one that answers is not shown to the model
    assert evidence_articles(()) == {"storm-en"}
    assert "fischer-de" in evidence_articles((translated,))
    # the pipeline asks for the same translation (kept per question), and counts its prompt tokens
    answer = assistant.ask(question)
    assert "translate" in answer.timings and answer.prompt_tokens > tokens
    assert answer.timings["translate"] == translation.seconds > 0  # asked once, counted where it is used
    assert not Assistant(storm_reports.with_overrides(translate_questions=False)).translations(question).texts


@pytest.mark.slow
def test_a_question_that_finds_nothing_in_another_language_is_translated_before_refusing(settings, tmp_path):
    """Over German articles only, the question is searched as asked; a short one in common words scores below the
    evidence gate against the German sentence that answers it, and the translation is the last try."""
    from rag.answer import Assistant
    from rag.ingest import ingest

    article = tmp_path / "zug.txt"
    article.write_text("Regionalzug bei Köln entgleist\n\nEin Regionalzug ist am Montag kurz hinter dem Bahnhof "
                       "Köln-Mülheim entgleist. Nach Angaben der Bundespolizei wurden vier Fahrgäste leicht verletzt. "
                       "Die Strecke blieb bis zum Abend gesperrt.", encoding="utf-8")
    ingest([article], settings)
    qwen = settings.with_overrides(llamacpp_model="qwen2.5-coder-1.5b")
    question = "How many passengers were hurt?"
    untranslated = Assistant(qwen.with_overrides(translate_questions=False)).ask(question)
    assert untranslated.refused and "no passage bears on the question" in untranslated.refusal_reason
    answer = Assistant(qwen).ask(question)
    assert "translate" in answer.timings and not answer.refused, answer.refusal_reason
    assert re.search(r"\b(?:4|four)\b", answer.answer, re.IGNORECASE), answer.answer
    assert any("vier Fahrgäste" in c.quote for c in answer.citations)


class ScriptedReply:
    """Replies with a fixed text: what the parser keeps of a model's reply is under test, not the model."""

    def __init__(self, reply: str):
        self.reply = reply

    def stream(self, messages, *args, **kwargs):
        yield self.reply


def test_a_reply_that_is_no_translation_is_not_used(settings):
    from rag.generate import translate_question

    def translated(reply: str, question: str = "Has the missing fisherman been found?", language: str = "de") -> str:
        return translate_question(ScriptedReply(reply), settings.prompts_dir, question, language)

    assert translated("Wurde der vermisste Fischer gefunden?\nDas ist die Übersetzung.") == (
        "Wurde der vermisste Fischer gefunden?")
    assert translated("Deutsch: „Wurde der vermisste Fischer gefunden?“") == "Wurde der vermisste Fischer gefunden?"
    # an answer instead of the question, the question echoed, another language: nothing to search with
    assert translated("Ja, er wurde lebend gefunden.") == ""
    assert translated("Question: Has the missing fisherman been found?") == ""
    assert translated("Was the missing fisherman found?") == ""
    assert translated("Why did the council reject the levee?", "Warum hat der Rat den Deich abgelehnt?", "en") == (
        "Why did the council reject the levee?")
