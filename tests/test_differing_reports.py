"""Two reports of one event that give different figures: the answer states one, and must say that another article
gives another, instead of settling it silently."""

import re

import pytest

from rag.differs import differing_reports
from rag.claims import figures, other_count, other_outcome
from rag.ingest import ingest
from tests.fake_ollama import FakeOllama
from tests.test_ollama import ask_through

FIRST = """Großbrand in Rheinfelden: Neun Verletzte
Rheinfelden, 3. Juni 2025. Beim Brand einer Papierfabrik in Rheinfelden sind am Dienstag neun Menschen verletzt worden.
Die Polizei schätzt den Schaden auf rund 1,2 Millionen Euro. Die Ursache ist noch unklar.
"""
LATER = """Papierfabrik: Zahl der Verletzten steigt
Rheinfelden, 5. Juni 2025. Nach dem Brand in der Papierfabrik ist die Zahl der Verletzten nach Angaben des Kreisklinikums auf 14 gestiegen.
Die Stadt will im Herbst einen neuen Feuerwehrstandort eröffnen. Er soll 40 Einsatzkräfte aufnehmen.
"""


@pytest.fixture
def two_reports(settings, tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "brand-erster-bericht.txt").write_text(FIRST, encoding="utf-8")
    (folder / "brand-spaeterer-bericht.txt").write_text(LATER, encoding="utf-8")
    ingest([folder], settings)
    return settings


def test_figures_are_counts_with_what_they_count_not_dates_or_ranks():
    found = figures("Am 7. Januar 2025 wurden im 19. Stock zwölf Menschen verletzt, drei davon schwer.")
    assert [f.value for f in found] == [12, 3]  # not the day, the year or the floor
    assert {"menschen", "verletzt"} <= found[0].context
    assert figures("Tesla died on January 7, 1943.") == []
    # a label's number, a clock time and the verb "may" are not counts
    assert [f.value for f in figures("Gegen 21 Uhr sendete MPEG-2 für 80 Feuerwehrleute, 300 may have died.")] == [
        80, 300]


def test_amounts_are_read_as_written_in_either_language():
    assert [(f.value, f.unit) for f in figures("Die Polizei schätzt den Schaden auf 2,8 Millionen Euro.")] == [
        (2_800_000, "euro")]
    assert [f.value for f in figures("damage of 2.8 million euros")] == [2_800_000]
    # a separator before three digits groups them: the same amount, and "2.000" is a count, not a year
    assert figures("1,5 Millionen Besucher")[0].value == figures("1.500.000 visitors")[0].value == 1_500_000
    assert [f.value for f in figures("Rund 2.000 Besucher kamen, 2000 waren erwartet.")] == [2000]
    assert figures("drei Millionen Menschen")[0].written == "drei Millionen"  # "Millionen" is not a figure of its own
    assert [f.value for f in figures("1 Million Euro, one million euros")] == [1_000_000, 1_000_000]
    assert [(f.value, f.unit) for f in figures("eine Million Euro, £2bn, $3m, €4.5bn")] == [
        (1_000_000, "euro"), (2e9, "pound"), (3e6, "dollar"), (4.5e9, "euro")]
    assert figures("a 5m wall, 10k steps") == []  # a suffix without a currency sign may be metres
    assert [(f.value, f.unit) for f in figures("Der Leitzins liegt bei 0,375 Prozent.")] == [(0.375, "percent")]
    # a rate is not a total: the state's 500 euros per household and the town's 750,000 euros are two sums of aid
    (per_household,) = figures("Das Land zahlt 500 Euro pro betroffenem Haushalt.")
    (total,) = figures("The town council approved 750,000 euros from the town budget.")
    assert per_household.rate and not total.rate and not per_household.same_kind(total)
    assert not figures("Inflation was 20 per cent.")[0].rate
    # the unit, written as a word or a sign, before or after
    assert [f.unit for f in figures("2,5 %, up 2.5%, €4.5 million, 4,5 Mio. €, 2,5 Milliarden US-Dollar, "
                                    "20 per cent, 17 Verletzte")] == [
        "percent", "percent", "euro", "euro", "dollar", "percent", ""]
    # what may count the same thing: an amount whose unit a later sentence leaves out, not a sum against a count
    first = lambda text: figures(text)[0]  # noqa: E731
    assert first("auf 4,5 Millionen geschätzt").same_kind(first("2,8 Millionen Euro"))
    assert first("17 Verletzte").same_kind(first("zwölf Menschen verletzt"))
    assert not first("30 Mio. GBP").same_kind(first("drei Kanäle"))
    assert not first("2,5 %").same_kind(first("17 Verletzte"))
    # "ein Mensch" is a count of one; "ein Plan" and "one of them" are none
    assert [(f.value, f.written) for f in figures("Demnach starb ein Mensch, 16 Personen wurden verletzt.")] == [
        (1, "ein"), (16, "16")]
    assert figures("Ein Plan sieht einen Mann vor, one of them said.") == []


def test_a_casualty_figure_must_count_what_the_passage_says_it_counts():
    passage = "Zwei Tage nach dem Feuer ist die Zahl der Verletzten auf 17 gestiegen. Zwei Menschen starben."
    assert other_outcome("In the fire, 17 people died.", passage) == ("17", "dead", "injured")
    assert other_outcome("The death toll rose to 17.", passage) == ("17", "dead", "injured")
    assert other_outcome("The number of injured rose to 17.", passage) is None
    assert other_outcome("Two people were killed and 17 injured.", passage) is None  # each in its own clause
    assert other_outcome("Two people were injured.", passage) == ("two", "injured", "dead")
    assert other_outcome("About 17 firefighters were deployed.", passage) is None  # not a casualty count
    assert other_outcome("1,000 people died.", "Zwei Menschen starben, 1.000 wurden verletzt.") == (
        "1,000", "dead", "injured")  # the comma inside "1,000" ends no clause
    assert other_outcome("17 people were injured.", "17 Menschen wurden tödlich verletzt.") == (
        "17", "injured", "dead")
    # who was among the dead is still dead: two children among them were not injured
    assert other_outcome("Two people were injured.", "Fünf Menschen starben, darunter zwei Kinder.") == (
        "two", "injured", "dead")
    # the person an age names: "a 17-year-old died" where the passage's 17-year-old was injured
    assert other_outcome("A 17-year-old died.", "Ein 17-Jähriger wurde verletzt.") == ("the 17-year-old", "dead", "injured")
    assert other_outcome("Der 17 Jahre alte Fahrer starb.", "Ein 17 Jahre alter Radfahrer wurde verletzt.") == (
        "the 17-year-old", "dead", "injured")


@pytest.mark.parametrize("claim, passage", [
    ("Two people died and 1,000 were injured.", "Zwei Menschen starben, 1.000 wurden verletzt."),
    ("17 people were killed.", "Der Anschlag tötete 17 Menschen und verletzte 40."),
    ("17 people died.", "17 Menschen kamen ums Leben, 3 wurden verletzt."),
    ("Two people were shot dead.", "Zwei Menschen wurden erschossen, 17 verletzt."),
    ("Two people died.", "Zwei Menschen erlagen ihren Verletzungen."),
    ("17 people were fatally injured.", "17 Menschen wurden tödlich verletzt."),
    ("The attack cost two people their lives.", "Zwei Tote, 17 Verletzte."),
    # a clause that names no outcome takes its sentence's only if the sentence names one
    ("Two people died; 17 were taken to hospital.", "Zwei Menschen starben; 17 Verletzte kamen ins Krankenhaus."),
    ("17 people were hospitalised with injuries.", "Zwei Menschen starben; 17 wurden ins Krankenhaus gebracht."),
    # a part of another count: no judgement
    ("Two of the 17 injured died.", "17 Menschen wurden verletzt. Zwei von ihnen starben."),
    ("Two people were injured.", "Unter den Toten waren ein Ehepaar und zwei Lieferfahrer. Zwei wurden verletzt."),
    ("Three firefighters were injured.", "Drei Menschen starben. Unter den Verletzten waren drei Feuerwehrleute."),
    # an age in a sentence that names two outcomes: whose is whose is not read
    ("A cyclist was killed by a 17-year-old driver.",
     "Ein 17-jähriger Autofahrer wurde leicht verletzt, der Radfahrer starb."),
    ("The 80-year-old woman died in hospital.",
     "Eine 80-Jährige wurde schwer verletzt ins Krankenhaus gebracht, wo sie später starb."),
    # an age names a person; it is compared with the same age, never with a count
    ("The 45-year-old driver died.", "Der Fahrer, 45 Jahre alt, starb am Unfallort; ein 17-Jähriger wurde verletzt."),
    ("17 people were injured.", "Ein 17-Jähriger starb, 17 weitere wurden verletzt."),
    ("A 17-year-old was seriously injured.", "Ein 17-Jähriger wurde schwer verletzt, zwei Menschen starben."),
])
def test_ways_of_saying_who_died_and_who_was_hurt_are_not_mistaken(claim, passage):
    assert other_outcome(claim, passage) is None


def ask_citing(settings, question, cited_text, claim, *alternatives, prompts=None):
    """Ask through a fake Ollama whose answer cites the shown line holding cited_text (or the first alternative
    (cited_text, claim) that is shown)."""
    def reply(messages):
        user = messages[-1]["content"]
        if messages[0]["content"].startswith("You decide whether evidence sentences") or user.startswith("Article:"):
            return "YES"
        if prompts is not None:
            prompts.append(user)
        for text, said in [(cited_text, claim), *alternatives]:
            line = re.search(rf"^\[(\d+)\][^\n]*{re.escape(text)}", user, flags=re.MULTILINE)
            if line:
                return f"{said} [{line.group(1)}]."
        return "NOT_IN_ARTICLES"

    return ask_through(FakeOllama(reply=reply), settings, question)


def citing_lines(template, **lines):
    """A fake model's reply that cites, for each named text, the shown evidence line holding it (all must be shown)."""
    def reply(messages):
        user = messages[-1]["content"]
        if messages[0]["content"].startswith("You decide whether evidence sentences") or user.startswith("Article:"):
            return "YES"
        found = {name: re.search(rf"^\[(\d+)\][^\n]*{re.escape(text)}", user, flags=re.MULTILINE)
                 for name, text in lines.items()}
        if not all(found.values()):
            return "NOT_IN_ARTICLES"
        return template.format(**{name: match.group(1) for name, match in found.items()})

    return reply


def test_an_answer_that_states_one_figure_says_that_another_article_gives_another(two_reports):
    answer = ask_citing(two_reports, "Wie viele Menschen wurden beim Brand der Papierfabrik verletzt?",
                        "auf 14 gestiegen", "Die Zahl der Verletzten ist auf 14 gestiegen")
    assert not answer.refused, answer.refusal_reason
    (sentence,) = answer.sentences
    assert sentence.supported and sentence.citations == [1] and sentence.differs == [2]
    cited, other = answer.citations
    assert cited.article_id == "brand-spaeterer-bericht" and other.article_id == "brand-erster-bericht"
    assert not cited.other_figure and other.other_figure  # labelled: it backs no sentence
    assert "neun Menschen verletzt" in other.quote or "Neun Verletzte" in other.quote
    assert answer.answer == ("Die Zahl der Verletzten ist auf 14 gestiegen [1] "
                             "(ein anderer Artikel nennt eine andere Zahl: [2]).")


def test_a_figure_a_later_report_gives_otherwise_says_the_later_date(two_reports):
    # the first report's nine injured: the count of 5 June is newer, and the reader must see that it is
    answer = ask_citing(two_reports, "Wie viele Menschen wurden beim Brand der Papierfabrik verletzt?",
                        "neun Menschen verletzt", "Beim Brand der Papierfabrik wurden neun Menschen verletzt")
    assert not answer.refused, answer.refusal_reason
    (sentence,) = answer.sentences
    assert sentence.differs == [2] and sentence.newer_report == "2025-06-05"
    # the page, the CLI and the export show the note as the answer says it, in the answer's language
    assert sentence.differs_note == "ein späterer Artikel (2025-06-05) nennt eine andere Zahl: [2]"
    assert answer.answer == ("Beim Brand der Papierfabrik wurden neun Menschen verletzt [1] "
                             "(ein späterer Artikel (2025-06-05) nennt eine andere Zahl: [2]).")
    # the later report's own figure: the other article is older, so nothing is said of dates
    later = ask_citing(two_reports, "Wie viele Menschen wurden beim Brand der Papierfabrik verletzt?",
                       "auf 14 gestiegen", "Die Zahl der Verletzten ist auf 14 gestiegen")
    assert later.sentences[0].differs and later.sentences[0].newer_report == ""


MIDDLE = """Papierfabrik: Elf Verletzte nach Großbrand
Rheinfelden, 4. Juni 2025. Nach dem Brand in der Papierfabrik werden nach Angaben der Polizei elf Verletzte behandelt.
Die Ermittlungen zur Ursache dauern an.
"""


def test_a_later_article_is_said_only_when_every_listed_report_is_later(two_reports, tmp_path):
    # the middle report's eleven: one report is older (nine), one later (14); "a later article" over both would call
    # the older one an update
    folder = tmp_path / "middle"
    folder.mkdir()
    (folder / "brand-mittlerer-bericht.txt").write_text(MIDDLE, encoding="utf-8")
    ingest([folder], two_reports)
    answer = ask_citing(two_reports, "Wie viele Menschen wurden beim Brand der Papierfabrik verletzt?",
                        "elf Verletzte", "Nach dem Brand in der Papierfabrik werden elf Verletzte behandelt")
    assert not answer.refused, answer.refusal_reason
    (sentence,) = answer.sentences
    assert len(sentence.differs) == 2 and sentence.newer_report == ""
    assert sentence.differs_note == "ein anderer Artikel nennt eine andere Zahl: [2][3]"


def test_a_figure_for_something_else_is_no_disagreement(two_reports):
    # the damage figure: the other article gives numbers too, but they count something else (Einsatzkräfte)
    answer = ask_citing(two_reports, "Wie hoch ist der Schaden beim Brand der Papierfabrik?",
                        "1,2 Millionen Euro", "Die Polizei schätzt den Schaden auf rund 1,2 Millionen Euro")
    assert not answer.refused, answer.refusal_reason
    assert [s.differs for s in answer.sentences] == [[]]
    assert "andere Zahl" not in answer.answer and len(answer.citations) == 1


def test_differing_reports_needs_a_figure_in_the_claim(two_reports):
    answer = ask_citing(two_reports, "Wo hat es in Rheinfelden gebrannt?", "Beim Brand einer Papierfabrik",
                        "In Rheinfelden brannte eine Papierfabrik")
    assert not answer.refused, answer.refusal_reason
    assert [s.differs for s in answer.sentences] == [[]]
    assert differing_reports("The fire broke out at a paper mill.", "", [], [], {}, 0.35) == []


def test_the_other_report_is_found_beyond_the_evidence_the_model_was_shown(two_reports):
    # one passage of evidence: the earlier report is retrieved, but not shown to the model
    narrow = two_reports.with_overrides(evidence_passages=1)
    prompts = []
    answer = ask_citing(narrow, "Wie viele Menschen wurden beim Brand der Papierfabrik verletzt?",
                        "auf 14 gestiegen", "Die Zahl der Verletzten ist auf 14 gestiegen",
                        ("neun Menschen verletzt", "Beim Brand wurden neun Menschen verletzt"), prompts=prompts)
    # the answer's prompt showed one report only
    shown = next(p for p in prompts if p.startswith("Question:") or "Evidence" in p)
    assert ("auf 14 gestiegen" in shown) != ("neun Menschen verletzt" in shown)
    assert not answer.refused, answer.refusal_reason
    (sentence,) = answer.sentences
    cited, other = answer.citations
    assert sentence.citations == [1] and sentence.differs == [2]
    assert {cited.article_id, other.article_id} == {"brand-erster-bericht", "brand-spaeterer-bericht"}


def test_a_count_of_the_injured_given_as_deaths_is_not_verified(two_reports):
    answer = ask_citing(two_reports, "Wie viele Menschen starben beim Brand der Papierfabrik?",
                        "auf 14 gestiegen", "Beim Brand der Papierfabrik starben 14 Menschen")
    (sentence,) = answer.sentences
    assert not sentence.supported
    assert "passage [1] counts 14 injured, not dead" in sentence.reason
    assert answer.refused  # the draft's only sentence is unverified: held back, not shown as an answer


def test_a_passage_that_backs_one_sentence_and_differs_from_another_stays_a_source(two_reports):
    """Each report's figure, each sentence citing its own: the first report's sentence is a source of the answer, not
    only the other figure for the second sentence, so it keeps its checked quote and no label."""
    reply = citing_lines("Beim Brand der Papierfabrik sind neun Menschen verletzt worden [{first}]. "
                         "Die Zahl der Verletzten ist auf 14 gestiegen [{later}].",
                         first="neun Menschen verletzt", later="auf 14 gestiegen")
    answer = ask_through(FakeOllama(reply=reply), two_reports, "Wie viele Menschen wurden beim Brand verletzt?")
    assert not answer.refused, (answer.refusal_reason, answer.sentences)
    nine, fourteen = answer.sentences
    assert nine.supported and fourteen.supported
    assert nine.differs == fourteen.citations and fourteen.differs == nine.citations
    assert len(answer.citations) == 2 and not any(c.other_figure for c in answer.citations)
    by_n = {c.n: c for c in answer.citations}
    assert "neun Menschen verletzt" in by_n[nine.citations[0]].quote


NEUSTADT_FIRST = """Großbrand in Lagerhalle in Neustadt
Neustadt, 4. März 2025. Bei einem Großbrand in einer Lagerhalle im Neustädter Gewerbegebiet Süd sind am Dienstag zwei Menschen ums Leben gekommen. 14 weitere wurden verletzt, drei von ihnen schwer.
Unter den Verletzten ist ein 17-jähriger Auszubildender. Die Brandursache ist noch unklar.
"""
NEUSTADT_LATER = """Feuer im Gewerbegebiet Süd: Polizei korrigiert Bilanz
Neustadt, 5. März 2025. Nach dem Brand einer Lagerhalle in Neustadt hat die Polizei ihre Bilanz korrigiert. Demnach starb ein Mensch, 16 Personen wurden verletzt.
Der Betreiber will den Betrieb an einem anderen Standort fortsetzen.
"""
KIEL = """Lagerhallenbrand im Kieler Hafen
Kiel, 6. März 2025. In einer Lagerhalle im Kieler Hafen ist am Mittwoch ein Feuer ausgebrochen. Drei Menschen kamen ums Leben, drei Arbeiter wurden verletzt.
"""


@pytest.fixture
def three_fires(settings, tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    for name, text in [("neustadt-erster", NEUSTADT_FIRST), ("neustadt-spaeter", NEUSTADT_LATER), ("kiel", KIEL)]:
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    ingest([folder], settings)
    return settings


def test_a_death_toll_another_report_of_the_named_event_gives_is_noted_however_unalike_the_sentences(three_fires):
    """"Demnach starb ein Mensch" and "… sind zwei Menschen ums Leben gekommen" are not alike as sentences, but both
    count the dead of the fire the question names. The Kiel fire's dead are another fire's."""
    answer = ask_citing(three_fires, "How many people died in the Neustadt warehouse fire?",
                        "Demnach starb ein Mensch", "One person died and 16 people were injured")
    assert not answer.refused, answer.refusal_reason
    (sentence,) = answer.sentences
    assert sentence.supported and sentence.citations == [1]
    others = {c.n: c for c in answer.citations if c.other_figure}
    assert sorted(others) == sentence.differs
    quotes = [c.quote for c in others.values()]
    assert any("zwei Menschen ums Leben gekommen" in q for q in quotes), quotes  # the dead: two, not one
    assert any("14 weitere wurden verletzt" in q for q in quotes), quotes  # the injured: 14, not 16
    assert all(c.article_id == "neustadt-erster" for c in others.values())  # not Kiel's three dead


@pytest.mark.parametrize("reply, verified", [("Ja, ein 17-jähriger Auszubildender wurde verletzt", False),
                                             ("Nein, der 17-jährige Auszubildende wurde verletzt", True)])
def test_a_yes_claims_what_the_question_asks(three_fires, reply, verified):
    """"Ja, … wurde verletzt" for "… ums Leben gekommen?" is true of the passage sentence by sentence, and wrong."""
    answer = ask_citing(three_fires, "Ist der 17-Jährige beim Brand in Neustadt ums Leben gekommen?",
                        "ein 17-jähriger Auszubildender", reply)
    (sentence,) = answer.sentences
    assert sentence.supported == verified, sentence.reason
    if not verified:
        assert "says the 17-year-old was injured, not dead" in sentence.reason


def test_a_draft_without_the_figure_the_question_asks_for_is_held_back(three_fires):
    # the model copied the sentence's frame and left the number out
    claim = "Beim Brand in Neustadt sind Menschen ums Leben gekommen"
    answer = ask_citing(three_fires, "Wie viele Menschen starben beim Brand in Neustadt?", "zwei Menschen", claim,
                        ("Neustadt", claim), ("Lagerhalle", claim))
    assert answer.refused and answer.refusal_kind == "no_answer"
    assert answer.refusal_reason.startswith("the question asks for a figure and the model's draft gives none")
    assert not answer.sentences[0].supported


TALHEIM_BOTE = """Busunglück bei Talheim: Drei Tote
Talheim, 12. Februar 2025 – Bei einem Busunglück auf der B 27 bei Talheim sind am Dienstagmorgen drei Menschen ums Leben gekommen. Zwölf weitere Fahrgäste wurden verletzt, vier davon schwer.
Der Linienbus war auf glatter Fahrbahn von der Straße abgekommen.
"""
KREISANZEIGER = """Vier Tote bei Busunglück
Talheim, 12. Februar 2025. Bei dem Busunglück auf der B 27 bei Talheim sind nach Angaben der Polizei vier Menschen gestorben. Neun Fahrgäste wurden verletzt.
"""


@pytest.mark.parametrize("claim, passage, expected", [
    # the number stands in the passage, for something else: the passage's own count of the dead is three
    ("Four people died in the bus accident.", TALHEIM_BOTE, ("four", "dead", "drei")),
    ("Bei dem Unglück starben vier Menschen.", TALHEIM_BOTE, ("vier", "dead", "drei")),
    ("Three people died.", TALHEIM_BOTE, None),
    ("Twelve people were injured, four of them seriously.", TALHEIM_BOTE, None),
    ("Four people were seriously injured.", TALHEIM_BOTE, None),  # "vier davon schwer": a part the claim may name
    ("Two of the three dead were children.", "Drei Menschen starben, darunter zwei Kinder.", None),
    ("Four people died.", "Zunächst war von drei Toten die Rede, inzwischen starben vier Menschen.", None),
    ("Four people died.", "Der Bus hatte vier Achsen.", None),  # the passage counts no dead
])
def test_a_claim_that_gives_another_total_for_the_same_outcome_is_caught(claim, passage, expected):
    assert other_count(claim, passage) == expected


def test_a_cited_report_that_gives_another_death_toll_is_no_source_of_the_sentence(settings, tmp_path):
    """Found by a new-user trial: "Four people died … [1][2]" was verified at 0.90 while [2] says three died; the
    number check passed [2] because its "vier davon schwer" (the badly injured) holds a four."""
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "talheimer-bote.txt").write_text(TALHEIM_BOTE, encoding="utf-8")
    (folder / "kreisanzeiger.txt").write_text(KREISANZEIGER, encoding="utf-8")
    ingest([folder], settings)

    reply = citing_lines("Four people died in the bus accident near Talheim [{four}][{three}].",
                         four="vier Menschen gestorben", three="drei Menschen ums Leben")
    answer = ask_through(FakeOllama(reply=reply), settings, "How many people died in the bus accident near Talheim?")
    assert not answer.refused, answer.refusal_reason
    (sentence,) = answer.sentences
    assert sentence.supported and "it gives another figure" in sentence.reason
    by_n = {c.n: c for c in answer.citations}
    assert [by_n[n].article_id for n in sentence.citations] == ["kreisanzeiger"]
    assert [by_n[n].article_id for n in sentence.differs] == ["talheimer-bote"]  # listed as the other figure
    assert "drei Menschen ums Leben gekommen" in by_n[sentence.differs[0]].quote
