from dataclasses import replace

from rag.cite import (CitationChecker, check_answer, claimed_names, drop_unstated_absence, misquotations, names_in,
                      normalise_markers, number_in_order, quotations, restates_question, split_answer)
from rag.claims import lacks_asked_figure, missing_amount, numbers_in, unbacked_cause
from rag.embed import get_embedder
from rag.evidence import select_evidence
from rag.retrieve import Retriever
from rag.store import NewsIndex
from rag.types import AnswerSentence, ArticleInfo, Citation, Evidence, EvidenceSentence, Passage, Sentence


def test_marker_variants_are_normalised():
    assert normalise_markers("A [Source 3]. B [1, 2]. C. [4]") == "A [3]. B [1][2]. C[4]."
    assert split_answer("Choe attended [1]. [2] Rudenko too.") == [("Choe attended.", [1, 2]), ("Rudenko too.", [])]
    assert split_answer("He lived in Graz [1]. He lived in Graz [2].") == [("He lived in Graz.", [1, 2])]


def test_numbers_in_digits_and_words():
    assert numbers_in("No one was hurt.") == set() and numbers_in("Every one of them was questioned.") == set()
    assert numbers_in("Only one person was hurt.") == {1} and 1 in numbers_in("One of the five was hurt.")
    assert 30 in numbers_in("einen 30-tägigen Waffenstillstand")
    assert 30 in numbers_in("einen dreißigtägigen Waffenstillstand")
    assert 12 in numbers_in("zwölf Millionen")
    # German's indefinite article is not the number one
    assert numbers_in("Ein 30-tägiger Waffenstillstand, ein Angebot") == {30}
    assert numbers_in("die Multiplikation zweier Integerwerte") == {2}
    # thousands, however the model groups them; a year before a comma stays a year
    assert numbers_in("30, 000 to 50, 000 people") == numbers_in("30.000 bis 50.000") == {30000, 50000}
    assert numbers_in("1,000,000 and 20\u202f000") == {1000000, 20000}
    assert numbers_in("In 2012, 500 people") == {2012, 500}
    # clock times: "at 21:00" is "gegen 21 Uhr", not the numbers 21 and 0
    assert numbers_in("broke out at 21:00") == numbers_in("gegen 21 Uhr") == {21}
    assert numbers_in("at 21:30") == numbers_in("um 21.30 Uhr") == {21, 30}


def evidence_for(settings, question):
    embedder = get_embedder(settings)
    index = NewsIndex(settings)
    hits = Retriever(index, embedder, settings).retrieve(question)
    return select_evidence(question, hits, embedder, settings).evidence, CitationChecker(embedder, settings)


def test_supported_wrong_number_wrong_name_and_unshown_citation(sample_settings):
    evidence, checker = evidence_for(sample_settings, "What did the US offer Ukraine?")
    n = next(e.n for e in evidence if "30-tägigen" in e.sentence.text)
    good = check_answer(f"The US offered Ukraine a 30-day ceasefire [{n}].", evidence, checker)
    assert good.sentences[0].supported and good.sentences[0].citations == [n]
    (citation,) = good.citations
    assert "30-tägigen Waffenstillstand" in citation.quote
    assert citation.quote == NewsIndex(sample_settings).articles[citation.article_id].text[citation.start:citation.end]
    assert citation.text.find(citation.quote) >= 0

    wrong_number = check_answer(f"The US offered Ukraine a 60-day ceasefire [{n}].", evidence, checker)
    assert not wrong_number.sentences[0].supported and "60" in wrong_number.sentences[0].reason

    wrong_name = check_answer(f"Emmanuel Macron offered Ukraine a 30-day ceasefire [{n}].", evidence, checker)
    assert not wrong_name.sentences[0].supported

    unshown = check_answer("The US offered Ukraine a 30-day ceasefire [42].", evidence, checker)
    assert 42 not in unshown.sentences[0].citations
    assert all(c.n != 42 for c in unshown.citations)


def test_uncited_sentence_gets_the_citation_that_backs_it(sample_settings):
    evidence, checker = evidence_for(sample_settings, "What did the US offer Ukraine?")
    checked = check_answer("The US offered Ukraine a 30-day ceasefire.", evidence, checker)
    sentence = checked.sentences[0]
    assert sentence.supported and sentence.citations and "added" in sentence.reason
    # no marker and nothing shown backs it: the reason says both, not only that the marker is missing
    unbacked = check_answer("This is because the summit was held on a ship.", evidence, checker).sentences[0]
    assert not unbacked.supported and not unbacked.citations
    assert unbacked.reason == "no citation, and no passage shown to the model backs it"


def test_a_claim_the_passage_never_makes_is_flagged_even_on_topic(sample_settings):
    evidence, checker = evidence_for(sample_settings, "What did the meeting decide about sanctions?")
    n = evidence[0].n
    checked = check_answer(f"The meeting decided to impose sanctions on Russia and North Korea [{n}].", evidence, checker)
    assert not checked.sentences[0].supported
    assert "sanctions" in checked.sentences[0].reason


def test_a_wrong_citation_number_is_corrected_and_said(sample_settings):
    evidence, checker = evidence_for(sample_settings, "What did the US offer Ukraine?")
    right = next(e.n for e in evidence if "30-tägigen" in e.sentence.text)
    wrong = next(e.n for e in evidence if e.passage.id != next(x for x in evidence if x.n == right).passage.id)
    checked = check_answer(f"The US offered Ukraine a 30-day ceasefire [{wrong}].", evidence, checker)
    sentence = checked.sentences[0]
    assert sentence.supported and sentence.citations == [right]
    assert f"the model cited [{wrong}]" in sentence.reason


def test_decades_match_across_languages():
    assert numbers_in("in the 1990s") >= {1990, 90}
    assert 90 in numbers_in("seit den 90er Jahren")


def one_sentence_evidence(text: str, title: str = "Tesla") -> Evidence:
    """Evidence [1]: an article of one German sentence, shown whole."""
    article = ArticleInfo(id="t", title=title, source="", url="", published="", language="de", path="",
                          content_hash="", passage_ids=["t#0"], text=text)
    passage = Passage(id="t#0", article_id="t", text=text, start=0, end=len(text), sentences=(Sentence(0, len(text)),))
    return Evidence(1, passage, article, EvidenceSentence(0, len(text), text, 1.0))


def test_a_cited_passage_that_gives_another_figure_is_removed_from_a_verified_sentence(sample_settings):
    three = one_sentence_evidence("Beim Einsturz der Lindenbrücke sind drei Menschen ums Leben gekommen.", "Einsturz")
    five = replace(one_sentence_evidence("Nach dem Einsturz der Lindenbrücke ist die Zahl der Toten auf fünf gestiegen.",
                                         "Fünf Tote"), n=2)
    five = replace(five, article=replace(five.article, id="u"), passage=replace(five.passage, id="u#0", article_id="u"))
    checker = CitationChecker(get_embedder(sample_settings), sample_settings)
    (sentence,) = check_answer("Three people died in the collapse of the Linden Bridge [1][2].", [three, five],
                               checker, "How many people died in the Linden Bridge collapse?").sentences
    assert sentence.supported and sentence.citations == [1]
    assert sentence.reason == "newsrag removed [2]: it gives another figure"
    # a passage with figures for something else (a year, cars a day) gives no other count of the dead
    cars = replace(five, passage=replace(five.passage, text="Die 1962 eröffnete Lindenbrücke war für 12.000 Autos am "
                                                             "Tag ausgelegt."))
    (kept,) = check_answer("Three people died in the collapse of the Linden Bridge [1][2].", [three, cars], checker,
                           "How many people died in the Linden Bridge collapse?").sentences
    assert kept.supported and "another figure" not in kept.reason


def test_decade_claim_checks_against_german_decade(sample_settings):
    e = one_sentence_evidence("Seit den 90er Jahren wächst das Interesse an Tesla wieder.")
    checker = CitationChecker(get_embedder(sample_settings), sample_settings)
    checked = check_answer("Interest in Tesla grew again in the 1990s [1].", [e], checker)
    assert checked.sentences[0].supported, checked.sentences[0].reason


def test_an_amount_written_otherwise_is_the_same_number(sample_settings):
    e = one_sentence_evidence("Im Jahr 1900 besuchten 1.500.000 Menschen die Ausstellung von Tesla.")
    checker = CitationChecker(get_embedder(sample_settings), sample_settings)
    checked = check_answer("In 1900, 1.5 million people visited Tesla's exhibition [1].", [e], checker)
    assert checked.sentences[0].supported, checked.sentences[0].reason
    wrong = check_answer("In 1900, 2.5 million people visited Tesla's exhibition [1].", [e], checker)
    assert not wrong.sentences[0].supported and "number 2.5 million is not in passage [1]" in wrong.sentences[0].reason


def test_a_cause_must_be_the_sources_own():
    report = ("Nach dem Brand hat die Polizei ihre Bilanz korrigiert. Die Zahlen vom Morgen seien vorläufig gewesen. "
              "Der Betreiber will den Betrieb an einem anderen Standort fortsetzen. Die Brandursache ist noch unklar.")
    # two facts of the article, joined by a "because" it never states
    assert unbacked_cause("Die Polizei korrigierte ihre Bilanz, da der Betreiber den Betrieb fortsetzen will.",
                          "Nach dem Brand hat die Polizei ihre Bilanz korrigiert. Der Betreiber will den Betrieb "
                          "an einem anderen Standort fortsetzen.") == "gives no cause or reason (“da”)"
    assert unbacked_cause("The fire was caused by a faulty charger.", report) == "says the cause is not known"
    # an abbreviation ends no sentence: "Die Brandursache ist laut Dr." alone read as a cause given
    assert unbacked_cause("The fire broke out because of a short circuit.",
                          "Die Brandursache ist laut Dr. Meier noch unklar.") == "says the cause is not known"
    assert unbacked_cause("The cause of the fire is still unclear.", report) == ""  # says what the passage says
    # an unknown cause of one thing does not hide a cause the passage gives for another
    assert unbacked_cause("The bus left the road because of black ice.", "Die Brandursache ist noch unklar. Der Bus "
                          "kam wegen Glätte von der Straße ab.") == ""
    assert unbacked_cause("Tesla left Edison because he was not paid.", "Tesla verließ Edison, da er nicht bezahlt "
                                                                        "wurde.") == ""
    assert unbacked_cause("Tesla left Edison in 1885.", "Tesla verließ Edison 1885.") == ""  # no cause claimed
    # "durch" (by, through) names a means, not a reason: an explanation the model adds is not backed by it
    assert unbacked_cause("This is because a computer can perform these operations.",
                          "Solche Probleme werden durch Algorithmen gelöst.") == "gives no cause or reason (“because”)"
    # English gives reasons with "as" and "since" too, when a clause with its own subject follows
    claim = "The footbridge was closed because inspectors found cracks."
    assert unbacked_cause(claim, "The footbridge was closed as inspectors found cracks in its piers.") == ""
    assert unbacked_cause(claim, "It carried 12,000 cars a day, since it was the only crossing.") == ""
    for not_a_reason in ["The footbridge was closed, as the mayor said.", "Cities such as Lindenstadt closed bridges.",
                         "The footbridge has been closed since 2022.", "Since the war started, trade has collapsed.",
                         "The footbridge was closed as planned.", "Since the bridge was opened in 1962, millions crossed.",
                         "The crowd cheered as the mayor arrived.", "He has lived here since he was a child."]:
        assert unbacked_cause(claim, not_a_reason) == "gives no cause or reason (“because”)", not_a_reason


def test_an_invented_cause_is_flagged_in_the_check(sample_settings):
    e = one_sentence_evidence("Tesla verließ 1885 die Firma von Edison. Er gründete danach ein eigenes Unternehmen.")
    checker = CitationChecker(get_embedder(sample_settings), sample_settings)
    checked = check_answer("Tesla left Edison's company in 1885 because he wanted to found his own company [1].", [e],
                           checker)
    assert not checked.sentences[0].supported
    assert checked.sentences[0].reason == "passage [1] gives no cause or reason (“because”)"


def test_a_german_year_phrase_is_not_an_invented_name(sample_settings):
    text = ("Nachdem Tesla Edisons Firma verlassen hatte, verbündete sich Tesla 1886 mit zwei Geschäftsleuten, Robert Lane "
            "und Benjamin Vail, die sich bereit erklärten, ein Elektrikunternehmen in Teslas Namen, Tesla Electric Light & "
            "Manufacturing zu finanzieren.")
    e = one_sentence_evidence(text)
    checker = CitationChecker(get_embedder(sample_settings), sample_settings)
    # "Jahr" is a capitalised German noun, not a name the passage lacks, nor a word it must have: the year is checked
    # as a number
    question = "Wann entstand die Partnerschaft zwischen Tesla, Lane und Vail?"
    checked = check_answer("Die Partnerschaft zwischen Tesla, Lane und Vail entstand im Jahr 1886 [1].", [e], checker,
                           question)
    assert checked.sentences[0].supported, checked.sentences[0].reason
    wrong_year = check_answer("Die Partnerschaft entstand im Jahr 1887 [1].", [e], checker, question)
    assert not wrong_year.sentences[0].supported and "1887" in wrong_year.sentences[0].reason
    invented = check_answer("Die Partnerschaft entstand im Jahr 1886 in Chicago [1].", [e], checker, question)
    assert not invented.sentences[0].supported and "chicago" in invented.sentences[0].reason
    ended = check_answer("Die Partnerschaft wurde im Jahr 1886 von Edison gekündigt [1].", [e], checker, question)
    assert not ended.sentences[0].supported


def test_a_number_that_names_what_the_question_asks_about_is_not_the_claims_to_prove(sample_settings):
    e = one_sentence_evidence("Die ersten Bahnen sollen nach Angaben der Stadt im Dezember 2029 fahren.")
    checker = CitationChecker(get_embedder(sample_settings), sample_settings)
    question = "Wann sollen die ersten Bahnen der Linie 7 fahren?"
    line = check_answer("Die ersten Bahnen der Linie 7 sollen im Dezember 2029 fahren [1].", [e], checker, question)
    assert line.sentences[0].supported, line.sentences[0].reason
    wrong = check_answer("Die ersten Bahnen der Linie 7 sollen im Dezember 2030 fahren [1].", [e], checker, question)
    assert not wrong.sentences[0].supported and "2030" in wrong.sentences[0].reason
    # a year the question asks about is what a made-up answer repeats: it must still be in the passage
    ordered = one_sentence_evidence("Die Stadt bestellte im Dezember zwölf neue Bahnen für die Linie 7.")
    made_up = check_answer("Die Stadt bestellte 2028 zwölf neue Bahnen [1].", [ordered], checker,
                           "Wie viele Bahnen bestellte die Stadt 2028?")
    assert not made_up.sentences[0].supported and "2028" in made_up.sentences[0].reason


def test_german_nouns_from_the_question_are_not_invented_names(sample_settings):
    # a derived German noun names no one, wherever it comes from; a name with a like ending still counts
    assert names_in("Die Ungleichheit wird durch die Verwendung von Klassen beschrieben.") == {"klassen"}
    assert names_in("Samsung und Jung Kim trafen sich.") == {"samsung", "jung", "kim"}
    assert names_in("Ioannis met Giannis in Taichung.") == {"ioannis", "giannis", "taichung"}  # not German text
    question = "Welches Angebot machten die USA der Ukraine?"
    evidence, checker = evidence_for(sample_settings, question)
    n = next(e.n for e in evidence if "30-tägigen" in e.sentence.text)
    claim = f"Die USA machten der Ukraine das Angebot eines 30-tägigen Waffenstillstands [{n}]."
    assert check_answer(claim, evidence, checker, question).sentences[0].supported
    # ...while an invented claim that reuses the question's words is still caught
    evidence, checker = evidence_for(sample_settings, "What did the meeting decide about sanctions?")
    invented = f"The meeting decided to impose sanctions on Russia [{evidence[0].n}]."
    assert not check_answer(invented, evidence, checker, "What did the meeting decide about sanctions?").sentences[0].supported


def test_an_invented_subject_at_the_start_of_a_sentence_is_caught(sample_settings):
    evidence, checker = evidence_for(sample_settings, "What did the US offer Ukraine?")
    n = next(e.n for e in evidence if "30-tägigen" in e.sentence.text)
    checked = check_answer(f"Hadrian offered Ukraine a 30-day ceasefire [{n}].", evidence, checker)
    assert not checked.sentences[0].supported and "hadrian" in checked.sentences[0].reason


def test_a_name_from_the_article_title_is_not_an_invented_name(settings, tmp_path):
    import json

    from rag.ingest import ingest

    text = "Die Erfindung machte ihn berühmt. Tesla starb am 7. Januar 1943 in einem Hotel in New York."
    articles = tmp_path / "a.jsonl"
    articles.write_text("\n".join(json.dumps({"id": i, "title": t, "language": "de", "text": text}) for i, t in
                                  [("titled", "Nikola Tesla"), ("untitled", "Ein Erfinder")]), encoding="utf-8")
    ingest([articles], settings)
    evidence, checker = evidence_for(settings, "When did Tesla die?")
    by_article = {e.article.id: e.n for e in evidence if "1943" in e.sentence.text}
    titled = check_answer(f"Nikola Tesla died in 1943 [{by_article['titled']}].", evidence, checker, "When did Tesla die?")
    assert titled.sentences[0].supported, titled.sentences[0].reason
    # the same sentence under another title (and with the titled article not shown, or the citation would be moved
    # to it): 'Nikola' appears nowhere the model was shown
    only_untitled = [e for e in evidence if e.article.id == "untitled"]
    untitled = check_answer(f"Nikola Tesla died in 1943 [{by_article['untitled']}].", only_untitled, checker,
                            "When did Tesla die?")
    assert not untitled.sentences[0].supported and "nikola" in untitled.sentences[0].reason


def test_a_draft_that_says_the_evidence_does_not_say_is_a_refusal():
    from rag.generate import declines_to_answer

    assert declines_to_answer("NOT_IN_ARTICLES")
    assert declines_to_answer("Not_in_articles.")
    assert declines_to_answer("The names of Tesla's new partners are not mentioned in the given evidence [2].")
    assert declines_to_answer("Count of Melfi was not mentioned in the given articles.")
    assert declines_to_answer("Die Namen werden in den Artikeln nicht genannt [1].")
    assert declines_to_answer("In den Belegen ist kein Name genannt. Dazu steht nichts in den Artikeln.")
    # other verbs of saying: a justified refusal in the model's words is a refusal, not an unverified draft
    assert declines_to_answer("Der Artikel nennt keinen Grund für die Schließung der Brücke [2].")
    assert declines_to_answer("None of the articles mentions why the dam failed.")
    # but a negative answer that names its source is an answer
    for answer in ["Laut dem Artikel gibt es keine Verletzten [1].", "No passengers were hurt, the article reports [1].",
                   "Die Staatsanwaltschaft erklärte, es gebe keine Belege für eine Straftat [1].",
                   "The ministry did not explain the text of the agreement [1]."]:
        assert not declines_to_answer(answer), answer
    # a real answer, even one that reports what someone did not say, is not a refusal
    assert not declines_to_answer("The ministry did not mention the sanctions [1].")
    assert not declines_to_answer("Choe Son Hui attended [1]. The details were not published [2].")
    assert not declines_to_answer("The US offered a ceasefire [1]. Other terms are not mentioned in the articles.")


def test_a_sentence_that_only_repeats_the_question_is_recognised():

    assert restates_question("Tesla erhielt eine Nominierung für den Nobelpreis.",
                             "In welchem Jahr erhielt Tesla eine Nominierung für den Nobelpreis?", "de")
    assert restates_question("Die Patente von Tesla wurden wiederhergestellt.",
                             "Wann wurden die Patente von Tesla wiederhergestellt?", "de")
    assert restates_question("He lived in", "Where did Tesla live for much of his life?", "en")
    # the statement of a yes/no question is its answer, and so is a "not" the question lacks, where the cited
    # sentence says "not" alike
    found = ["Der seit dem Sturm vermisste Fischer ist lebend gefunden worden."]
    assert not restates_question("The fisherman who went missing in the storm has been found.",
                                 "Has the fisherman who went missing in the storm been found?", "en", found)
    assert not restates_question("Der vermisste Fischer wurde gefunden.", "Wurde der vermisste Fischer gefunden?", "de",
                                 found)
    assert not restates_question("Vollmer was re-elected.", "Was Vollmer re-elected?", "en", ["Vollmer gewann die Wahl."])
    not_running = ["Vollmer wird bei der Wahl im Herbst nicht erneut kandidieren."]
    assert not restates_question("Mayor Karin Vollmer will not run again in the mayoral election.",
                                 "Will Mayor Karin Vollmer run again in the mayoral election?", "en", not_running)
    assert not restates_question("Vollmer kandidiert nicht erneut.", "Wann kandidiert Vollmer erneut?", "de",
                                 not_running)
    # "cannot", "weder ... noch" and "neither" say no as well
    assert not restates_question("The cause of the fire cannot be determined yet.",
                                 "When will the cause of the fire be determined?", "en",
                                 ["Die Brandursache kann noch nicht bestimmt werden."])
    assert not restates_question("Weder Vollmer noch Hegmann unterschrieben den Vertrag.",
                                 "Wann unterschrieben Vollmer und Hegmann den Vertrag?", "de",
                                 ["Den Vertrag unterschrieb weder die Bürgermeisterin noch der Werksleiter."])
    # a statement whose "not" its source lacks, or the reverse, stays a restatement
    assert restates_question("The fisherman has been found.", "Has the fisherman been found?", "en",
                             ["The fisherman has not been found."])
    assert restates_question("Die Lindenbrücke wurde nicht gesperrt.", "Wann wurde die Lindenbrücke gesperrt?", "de",
                             ["Die Lindenbrücke wurde am Montag wegen Rissen gesperrt."])
    # German "Was" asks what
    assert restates_question("Lane und Vail finanzierten es.", "Was finanzierten Lane und Vail?", "de")
    # the answer adds a word: a year, a name, a term of the passage
    assert not restates_question("Tesla erhielt 1937 eine Nominierung für den Nobelpreis.",
                                 "In welchem Jahr erhielt Tesla eine Nominierung für den Nobelpreis?", "de")
    assert not restates_question("Function problems can be restated as Entscheidungsprobleme.",
                                 "How can function problems typically be restated?", "en")
    # English "war" is the answer here, not the German "was"
    assert not restates_question("The machine hoped to end war.",
                                 "In the article's title, what did the machine hope to end?", "en")
    # the question's own name, used once more than the question uses it, is the answer
    assert not restates_question("Tesla designed the illumination systems that Tesla Electric Light & Manufacturing "
                                 "installed.", "Who designed the illumination systems that Tesla Electric Light & "
                                 "Manufacturing installed?", "en")


def test_words_spelled_alike_across_languages_are_aligned(sample_settings):
    checker = CitationChecker(get_embedder(sample_settings), sample_settings)
    passage = ("Das Unternehmen installierte Lichtbogenbeleuchtungssysteme, die von Tesla entworfen wurden, und hatte "
               "Entwürfe für Kommutatoren für dynamoelektrische Maschinen.")
    # cognates ('machines' / 'Maschinen', 'commutators' / 'Kommutatoren') and a compound's tail ('systems' /
    # '...beleuchtungssysteme') are the passage's own words, not additions
    unaligned = checker.unaligned_words("The company installed lighting systems and commutators for machines.", passage)
    assert not {"systems", "commutators", "machines", "installed"} & set(unaligned)
    # a word with no counterpart at all is still reported
    assert "sanctions" in checker.unaligned_words("The company faced sanctions.", passage)


def test_a_name_from_another_shown_sentence_gets_that_sentence_cited_too(sample_settings):
    question = "Wer nahm an dem Treffen in Pjöngjang teil?"
    evidence, checker = evidence_for(sample_settings, question)
    choe = next(e.n for e in evidence if "Choe Son Hui" in e.sentence.text)
    matsegora = next(e.n for e in evidence if "Matsegora" in e.sentence.text)
    checked = check_answer(f"Choe Son Hui und der Botschafter Alexander Matsegora nahmen an dem Treffen teil [{matsegora}].",
                           evidence, checker, question)
    sentence = checked.sentences[0]
    # each name now opens on a highlight that holds it
    assert sentence.supported and sentence.citations == sorted([choe, matsegora])
    assert {c.n: c.quote for c in checked.citations}[choe] == next(e.sentence.text for e in evidence if e.n == choe)
    # a sentence whose cited evidence already holds all its names keeps its one citation
    alone = check_answer(f"Alexander Matsegora nahm an den Verhandlungen teil [{matsegora}].", evidence, checker, question)
    assert alone.sentences[0].citations == [matsegora]


HARBOR = """Harbor Bridge closed for repairs after ferry collision

The Harbor Bridge in Port Ellis will stay closed to traffic until 14 March 2025, city engineer Maria Lindqvist said on \
Tuesday.

The ferry "Northern Star" struck the bridge's second pillar at 6:40 a.m. on Monday. Its captain, Tomas Berg, said a \
steering failure caused the collision. Two of the 212 passengers were slightly injured.

Repairs are expected to cost 4.2 million euros, Mayor Anna Kowalski told reporters. About 41,000 vehicles cross the \
bridge every day, and the city has added 30 extra buses to carry commuters.
"""


def test_the_sentence_next_to_the_backing_one_is_not_left_highlighted(settings, tmp_path):
    """A passage backs a claim through any of its sentences; the citation must point at the one that does."""
    from rag.ingest import ingest

    (tmp_path / "harbor.txt").write_text(HARBOR, encoding="utf-8")
    ingest([tmp_path / "harbor.txt"], settings)
    question = "How much will the Harbor Bridge repairs cost, and who said so?"
    evidence, checker = evidence_for(settings, question)
    mayor = next(e.n for e in evidence if "Kowalski" in e.sentence.text)
    traffic = next(e.n for e in evidence if "41,000 vehicles" in e.sentence.text)
    checked = check_answer(f"The repairs will cost 4.2 million euros [{mayor}]. Mayor Anna Kowalski said so [{traffic}].",
                           evidence, checker, question)
    first, second = checked.sentences
    assert first.supported and first.citations == [mayor] and not first.reason
    assert second.supported and second.citations == [mayor]
    assert second.reason == f"citation corrected by newsrag: the model cited [{traffic}]"
    assert [c.n for c in checked.citations] == [mayor] and "Kowalski" in checked.citations[0].quote
    # a claim the cited sentence itself backs keeps its citation
    kept = check_answer(f"About 41,000 vehicles cross the bridge every day [{traffic}].", evidence, checker, question)
    assert kept.sentences[0].citations == [traffic] and not kept.sentences[0].reason


def test_a_sentence_citing_several_sentences_keeps_them(sample_settings):
    """"Choe met a Russian diplomat in Pyongyang [1][2]" draws on both: [2] alone is not the closest to the claim."""
    question = "Who attended the meeting in Pyongyang?"
    evidence, checker = evidence_for(sample_settings, question)
    choe = next(e.n for e in evidence if "Choe Son Hui traf" in e.sentence.text)
    place = next(e.n for e in evidence if "in Pjöngjang stattfand" in e.sentence.text)
    claim = (f"The North Korean foreign minister Choe Son Hui met a high-ranking Russian diplomat in Pyongyang "
             f"[{choe}] [{place}].")
    checked = check_answer(claim, evidence, checker, question)
    assert checked.sentences[0].citations == sorted([choe, place]) and "corrected" not in checked.sentences[0].reason
    # cited alone, [place] stays too: the sentence about the envoys embeds closer to the claim, but spells no more
    # of its words than [place] does
    alone = check_answer(f"The North Korean foreign minister Choe Son Hui met a high-ranking Russian diplomat in "
                         f"Pyongyang [{place}].", evidence, checker, question)
    assert place in alone.sentences[0].citations and "corrected" not in alone.sentences[0].reason


def test_unnamed_is_dropped_unless_a_source_says_someone_is_not_named():
    assert drop_unstated_absence("Choe met with an unnamed Russian diplomat.", ["Choe traf Rudenko."]) == (
        "Choe met with a Russian diplomat.", ["unnamed"])
    assert drop_unstated_absence("Choe traf einen ungenannten Diplomaten.", ["x"]) == (
        "Choe traf einen Diplomaten.", ["ungenannten"])
    assert drop_unstated_absence("A unidentified official spoke.", ["x"]) == ("An official spoke.", ["unidentified"])
    assert drop_unstated_absence("Unnamed officials said so.", ["x"]) == ("Officials said so.", ["Unnamed"])
    # a source that says so keeps the word; so does a predicative use, which is no qualifier
    assert drop_unstated_absence("Choe met an unnamed diplomat.", ["Der Diplomat wollte nicht genannt werden."])[1] == []
    assert drop_unstated_absence("The source remained anonymous and left.", ["x"])[1] == []


def test_an_unnamed_person_the_evidence_names_elsewhere_loses_the_qualifier_and_says_so(sample_settings):
    question = "Who attended the meeting in Pyongyang?"
    evidence, checker = evidence_for(sample_settings, question)
    choe = next(e.n for e in evidence if "Choe Son Hui traf" in e.sentence.text)
    place = next(e.n for e in evidence if "in Pjöngjang stattfand" in e.sentence.text)
    checked = check_answer(f"Choe Son Hui met with an unnamed Russian diplomat in Pyongyang [{choe}] [{place}].",
                           evidence, checker, question)
    sentence = checked.sentences[0]
    assert sentence.text == "Choe Son Hui met with a Russian diplomat in Pyongyang."
    assert sentence.supported and "newsrag removed 'unnamed'" in sentence.reason


def test_a_cited_sentence_that_fails_its_own_check_is_quoted_as_cited_not_as_its_whole_passage(sample_settings):
    """ "The fire caused 17 deaths [2][4]": [4] backed it, [2] alone did not, and [2] was shown as its whole passage,
    title and all, so the highlight no longer pointed at what the model had cited."""
    evidence, checker = evidence_for(sample_settings, "What did the US offer Ukraine?")
    n = next(e.n for e in evidence if "30-tägigen" in e.sentence.text)
    other = next(e for e in evidence if e.n != n and "30" not in e.sentence.text)
    checked = check_answer(f"The US offered Ukraine a 30-day ceasefire [{n}][{other.n}].", evidence, checker)
    assert checked.sentences[0].supported
    quoted = {c.n: c.quote for c in checked.citations}
    assert quoted[other.n] == other.sentence.text


def test_citations_are_numbered_in_the_order_the_answer_cites_them():
    """The model cites by evidence number ("... [4]. ... [2][4]. ... [6]."): the reader gets [1], [2], [3] with no
    gaps, each citation keeps its passage, and reasons follow the new numbers."""
    def cite(n: int) -> Citation:
        return Citation(n=n, article_id=f"a{n}", title="t", passage_id=f"p{n}", text="x", start=0, end=1, quote="x")

    sentences = [
        AnswerSentence("Choe met Rudenko.", [4], True, reason="citation corrected by newsrag: the model cited [5]"),
        AnswerSentence("They met in Pyongyang.", [2, 4], True),
        AnswerSentence("Sanctions were lifted.", [6], False, reason="number 3 is not in passage [6]"),
        AnswerSentence("Talks went on.", [2], True, reason="citation corrected by newsrag: the model cited [2][3][5]"),
    ]
    citations = number_in_order(sentences, [cite(2), cite(4), cite(6)])
    assert [s.citations for s in sentences] == [[1], [1, 2], [3], [2]]
    assert [(c.n, c.article_id) for c in citations] == [(1, "a4"), (2, "a2"), (3, "a6")]
    assert sentences[0].reason == "citation corrected by newsrag: the model cited another passage"
    assert sentences[2].reason == "number 3 is not in passage [3]"  # "number 3" is a claim's number, not a marker
    assert sentences[3].reason == "citation corrected by newsrag: the model cited [2] and other passages"


def test_quotation_marks_promise_the_sources_own_words():
    source = ("Dies brachte ihm den Ruf eines „verrückten Wissenschaftlers“ ein. Die Gewerkschaft nannte den Plan "
              "„einen Schlag ins Gesicht der Belegschaft“.")
    assert misquotations("Er galt als „verrückter Wissenschaftler“.", source) == []  # an inflection ending may differ
    assert misquotations('The union called it "a slap in the face of the workforce".', source) == [
        "a slap in the face of the workforce"]  # a translation is not a quote
    assert misquotations("Sie nannte ihn „einen Schlag … der Belegschaft“.", source) == []  # cut with an ellipsis
    assert misquotations("Sie nannte ihn „einen Schlag … der Firma“.", source) == ["einen Schlag … der Firma"]
    assert misquotations('He was called a "mad scientist".', source) == ["mad scientist"]
    # words the question puts in quotation marks are the asker's; apostrophes and single quotes are not quotations
    assert misquotations("Die Einheit wurde „die Tesla-Einheit“ genannt.", source,
                         question="Was wurde „die Tesla-Einheit“ genannt?") == []
    assert misquotations("It's the union's 'plan'.", source) == []
    assert misquotations('It comes as a 12" and a 15" model.', source) == []  # inch marks
    # a quote inside a German quote is looked up on its own, and the outer one with its words
    assert quotations("Sie sagte: „Er nannte es „verrückt“ und ging.“") == ["Er nannte es „verrückt“ und ging.",
                                                                          "verrückt"]
    assert quotations('„a“ und „b“, "c" and “d”') == ["a", "b", "c", "d"]
    # a question that only uses the words, unquoted, does not exempt them: that is how a model confirms a leading quote
    assert misquotations("Die Gewerkschaft nannte den Plan „eine Katastrophe“.", source,
                         question="Hat die Gewerkschaft den Plan eine Katastrophe genannt?") == ["eine Katastrophe"]


def test_a_translated_quotation_is_flagged_and_the_verbatim_one_verified(sample_settings):
    evidence, checker = evidence_for(sample_settings, "What did the US offer Ukraine?")
    n = next(e.n for e in evidence if "30-tägigen" in e.sentence.text)
    verbatim = check_answer(f"Die USA boten der Ukraine einen „30-tägigen Waffenstillstand“ an [{n}].", evidence,
                            checker)
    assert verbatim.sentences[0].supported, verbatim.sentences[0].reason
    translated = check_answer(f'The US offered Ukraine what it called a "thirty-day truce" [{n}].', evidence, checker)
    sentence = translated.sentences[0]
    assert not sentence.supported
    assert "thirty-day truce" in sentence.reason and "word for word" in sentence.reason


def test_a_unit_without_its_amount_is_no_figure():
    # a small model that leaves the amount out still writes its unit
    assert missing_amount("Die Reparatur der Fußgängerbrücke kostet Euro.") == "Euro"
    assert missing_amount("Ein Ersatz der Brücke könnte Euro kosten.") == "Euro"
    assert missing_amount("The rate rose by percent.") == "percent"
    for fine in ["Die Reparatur kostet 3 Millionen Euro.", "It costs $3m.", "billions of euros were lost",
                 "Das wird Millionen kosten.", "The price is in euros.", "Kroatien wird Euro-Land.",
                 "Kroatien hat 2023 auf Euro umgestellt.", "Der Wechsel von Pfund zu Euro", "Dozens of euros were lost.",
                 "The amount of euros spent was not disclosed."]:
        assert missing_amount(fine) == "", fine


def test_an_answer_to_how_many_must_give_a_figure():
    question = "Zu welchem Zinssatz nimmt die Stadt den Kredit auf, und wie hoch ist er?"
    assert lacks_asked_figure(question, ["Die Stadt nimmt den Kredit bei der Landesförderbank auf.",
                                         "Der Zinssatz ist pro Jahr."])
    assert not lacks_asked_figure(question, ["Der Kredit über 1,5 Millionen Euro kostet 0,375 Prozent."])
    assert not lacks_asked_figure("How many people died?", ["Nobody died."])  # none is a figure
    assert not lacks_asked_figure("Wer war dabei?", ["Der Bürgermeister."])  # not asked for one
    assert not lacks_asked_figure("How many drivers died?", ["Both drivers died."])
    assert not lacks_asked_figure("How much did the mayor know about the cracks?", ["The mayor knew of them."])
    assert lacks_asked_figure("How much did the repair cost?", ["The repair was expensive."])
    # a question with another part: a sentence without a figure may answer that part
    assert not lacks_asked_figure("Who built the bridge and how much did it cost?", ["Hochtief built the bridge."])


def test_a_question_that_opens_with_a_verb_asks_yes_or_no():
    from rag.claims import asks_yes_or_no

    for question in ["Was the fisherman found?", "Was Vollmer re-elected?", "Wurde der Fischer gefunden?",
                     "Muss die Stadt zahlen?", "Has the council approved the aid?", "Kam es zu Verletzten?",
                     "Isn't the bridge closed?", "Bleibt die Brücke gesperrt?"]:
        assert asks_yes_or_no(question), question
    # German "Was" asks what
    for question in ["Was umgibt Chloroplasten?", "Was ist passiert?", "Who attended the meeting?"]:
        assert not asks_yes_or_no(question), question


def test_decimals_are_written_as_the_answers_language_writes_them():
    from rag.claims import decimal_notation, numbers_in

    assert decimal_notation("Der Deich hätte 6.8 Millionen Euro gekostet.", "de") == \
        "Der Deich hätte 6,8 Millionen Euro gekostet."
    assert decimal_notation("Die Arbeitslosigkeit stieg um 2.5 Prozent.", "de") == "Die Arbeitslosigkeit stieg um 2,5 Prozent."
    assert decimal_notation("The damage rose to 14,5 million euros.", "en") == "The damage rose to 14.5 million euros."
    assert decimal_notation("Die Quote lag bei 2.5 %.", "de") == "Die Quote lag bei 2,5 %."
    # not a decimal: a date, a thousands group, a list, or a decimal already right
    for text, language in [("Am 1.5. wurde gewählt.", "de"), ("Es kamen 6.800 Menschen.", "de"),
                           ("Die Wahl war am 12.03.2025 um 18 Uhr.", "de"), ("Items 1,2 and 3 were sold.", "en"),
                           ("It cost 6.8 million euros.", "en"), ("Es kostete 6,8 Millionen Euro.", "de"),
                           ("It cost 6.8 million euros.", "fr")]:
        assert decimal_notation(text, language) == text, text
    # the checks read both notations as the same number
    assert numbers_in("6,8 Millionen") == numbers_in("6.8 million")


def test_clock_times_are_read_and_written_as_24_hour_times():
    from rag.claims import numbers_in, time_notation

    # an English answer's "3:40 p.m." is the German article's "15.40 Uhr": the number check must agree
    assert numbers_in("at 3:40 p.m.") == numbers_in("um 15.40 Uhr") == {15, 40}
    assert numbers_in("at 9 pm") == numbers_in("um 21 Uhr") == {21}
    assert numbers_in("shortly after 7 a.m.") == numbers_in("kurz nach 7 Uhr") == {7}
    assert numbers_in("at 12 a.m.") == {0}
    # a German answer says it as a German reader would, and keeps the sentence's full stop
    assert time_notation("Das Feuer brach um 3:40 a.m. aus.", "de") == "Das Feuer brach um 3:40 Uhr aus."
    assert time_notation("Der Zug kam um 3 p.m.", "de") == "Der Zug kam um 15 Uhr."
    assert time_notation("Um 11:15 PM war alles vorbei.", "de") == "Um 23:15 Uhr war alles vorbei."
    # German "am", English answers and times already in 24 hours stay as they are
    for text, language in [("Er stieg um 9 am Bahnhof aus.", "de"), ("The fire broke out at 3:40 a.m.", "en"),
                           ("Es begann um 15:40 Uhr.", "de")]:
        assert time_notation(text, language) == text, text
    assert numbers_in("Er stieg um 9 am Bahnhof aus.") == {9}


def test_places_and_peoples_english_and_german_name_differently_count_as_the_same_name():
    from rag.cite import _name_found
    from rag.language import content_words, fold

    def found(name: str, passage: str) -> bool:
        return _name_found(fold(name), {fold(w) for w in content_words(passage)})

    # an English answer over a German article, and a German answer over an English one
    for name, passage in [("Turkish", "Einige Normannen schlossen sich türkischen Streitkräften an."),
                          ("Cologne", "Der Zug entgleiste hinter dem Bahnhof Köln-Mülheim."),
                          ("Vienna", "Die Wiener Polizei ermittelt."), ("Seljuks", "vor allem gegen die Seldschuken"),
                          ("Moscow", "in Moskaus Zentrum"), ("Polish", "Die polnische Regierung protestierte."),
                          ("Crimea", "Die Lage auf der Krim bleibt angespannt."),
                          ("München", "The conference in Munich ended."), ("Türkei", "Turkey closed the border.")]:
        assert found(name, passage), (name, passage)
    # another place, or a word that only starts like one, is still a name the passage lacks
    for name, passage in [("Munich", "Die Konferenz fand in Berlin statt."), ("Crimea", "Die Kriminalpolizei ermittelt."),
                          ("Saxony", "Der Sachschaden ist hoch."), ("German", "Die österreichische Regierung lehnte ab."),
                          ("Turkish", "Die Turkmenen protestierten."), ("Austrian", "Die Regierung Australiens lehnte ab.")]:
        assert not found(name, passage), (name, passage)


def test_a_sentence_that_joins_names_from_two_cited_passages_is_backed_by_both(sample_settings):
    """"Anna Berger and Jonas Keller founded the cooperative [1][2]", where [1] names Berger and [2] Keller: each name
    has its source among the citations. A name neither cited passage holds is still caught, and a co-cited passage
    that does not back the sentence lends it no name."""
    berger = one_sentence_evidence("Anna Berger gründete 1998 eine Genossenschaft für Solarstrom in Freiburg.",
                                   "Genossenschaft")
    keller = replace(one_sentence_evidence("Auch Jonas Keller gründete 1998 die Genossenschaft für Solarstrom mit.",
                                           "Solarstrom"), n=2)
    keller = replace(keller, article=replace(keller.article, id="u"),
                     passage=replace(keller.passage, id="u#0", article_id="u"))
    checker = CitationChecker(get_embedder(sample_settings), sample_settings)
    question = "Who founded the solar power cooperative?"
    (joined,) = check_answer("Anna Berger and Jonas Keller founded the solar power cooperative in 1998 [1][2].",
                             [berger, keller], checker, question).sentences
    assert joined.supported and joined.citations == [1, 2], joined.reason
    (invented,) = check_answer("Anna Berger and Lukas Brandt founded the solar power cooperative in 1998 [1][2].",
                               [berger, keller], checker, question).sentences
    assert not invented.supported
    assert invented.reason == "brandt, lukas not in passage [1]; anna, berger, brandt not in passage [2]"
    # a co-cited passage that does not back the sentence lends it no names: [2] names Brandt at a fair
    fair = replace(keller, passage=replace(keller.passage, text="Bürgermeister Lukas Brandt eröffnete am Samstag die "
                                                                 "Messe in der Stadthalle."))
    (borrowed,) = check_answer("Lukas Brandt founded the solar power cooperative in 1998 [1][2].", [berger, fair],
                               checker, question).sentences
    assert not borrowed.supported and "brandt, lukas not in passage [1]" in borrowed.reason, borrowed.reason


def test_a_form_of_a_question_word_is_no_name_the_answer_brings_in(sample_settings):
    """"Economics" in the answer to a question about the "Economic Sciences" award is the question's word, not a
    name to find in a German passage that writes "Wirtschaftswissenschaften"."""
    question = "Which winner of the Hansen Award in Economic Sciences taught in Kiel?"
    claim = "Anna Berger, a winner of the Hansen Award in Economics, taught in Kiel [1]."
    assert claimed_names(claim, question, []) == {"anna", "berger"}
    assert claimed_names(claim, question, ["Anna Berger wird 80"]) == set()
    # a name that only starts like a question word is the answer's own
    assert claimed_names("Miller owns the mill.", "Who owns the mill?", []) == {"miller"}
    assert claimed_names("Zimmermann rented the room.", "Who rented the Zimmer?", []) == {"zimmermann"}
    passage = one_sentence_evidence("Anna Berger, Gewinnerin des Hansen Award für Wirtschaftswissenschaften, lehrte "
                                    "zwanzig Jahre in Kiel.", "Porträt")
    checker = CitationChecker(get_embedder(sample_settings), sample_settings)
    (sentence,) = check_answer(claim, [passage], checker, question).sentences
    assert "economics" not in sentence.reason and sentence.supported, sentence.reason


def test_a_restatement_with_a_hedge_or_another_verb_form_is_still_a_restatement():
    """"Manchmal befürchtet mancher Anwohner …" for "Was befürchten manche Anwohner …?" adds a hedge and a verb's
    -t, and no answer; "Anwohner befürchten Hochwasser" adds one."""
    question = "Was befürchten manche Anwohner, die am Fluss wohnen?"
    assert restates_question("Manchmal befürchtet mancher Anwohner, der am Fluss wohnt.", question, "de")
    assert not restates_question("Manche Anwohner, die am Fluss wohnen, befürchten Hochwasser.", question, "de")
    assert restates_question("Residents often fear.", "What do residents fear?", "en")
    assert not restates_question("Residents often fear floods.", "What do residents fear?", "en")
    # the answer to "how often" is a hedge; a noun's -t is no verb ending ("Nacht" is not "nach")
    assert not restates_question("The ferry usually runs.", "How often does the ferry run?", "en")
    assert not restates_question("Er kehrte in der Nacht zurück.", "Wann kehrte er nach Berlin zurück?", "de")
