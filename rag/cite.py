"""Citations: parse the model's [n] markers, map them to passages and spans, and check every answer sentence against
what it cites. The system, not the model, decides what counts as supported."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from .claims import (CALENDAR_NOUNS, YES, asks_yes_or_no, casualty_counts, figures, missing_amount, numbers_in,
                     other_count, other_outcome, unbacked_cause)
from .config import Settings
from .embed import Embedder
from .language import FUNCTION_WORDS, NEGATION, STOPWORDS, content_words, detect_language, fold, words
from .lexical import english_stem, word_stems
from .split import split_sentences
from .types import AnswerSentence, Citation, Evidence, markers

MARKER = re.compile(
    r"\[\s*(?:(?:source|passage|quelle|evidence|passage|doc(?:ument)?)\s*)?(\d{1,2}(?:\s*[,;]\s*(?:(?:source|passage|quelle)\s*)?\d{1,2})*)\s*\]",
    re.IGNORECASE,
)


def normalise_markers(answer: str) -> str:
    """'[Source 3]' and '[1, 2]' become '[3]' and '[1][2]'; a marker after the full stop moves before it."""
    def one(match: re.Match) -> str:
        return markers(int(n) for n in re.findall(r"\d+", match.group(1)))

    text = MARKER.sub(one, answer)
    return re.sub(r"([.!?])(\s*)((?:\[\d+\])+)", r"\3\1", text)


# Capitalised in English but translated, not transliterated, in German text: not evidence of an invented name.
TRANSLATED_WORDS = {
    "north", "south", "east", "west", "northern", "southern", "eastern", "western", "central", "minister",
    "foreign", "deputy", "president", "prime", "ministry", "republic", "united", "states", "kingdom", "union",
    "european", "government", "army", "the", "and", "april", "march", "may", "june", "july", "october",
    "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    # name parts that German translates: "New York City", "Canary Islands", "River Thames", "Weights and Measures"
    "city", "island", "islands", "river", "sea", "ocean", "lake", "bay", "mountains", "mount", "empire", "church",
    "university", "company", "conference", "council", "court", "party", "war", "world", "national", "international",
    "general", "measures", "weights", "institute", "academy", "museum", "street", "square", "palace",
}


def question_labels(question: str, claim: str) -> set[int]:
    """Numbers that name something the question asks about and the claim repeats with it: "Linie 7", "Terminal 2",
    "Artikel 5". Like the question's own names, they are not the claim's to prove; a year or count the claim adds
    ("published in 1937" for "What was published in 1937?") still is."""
    found = set()
    for word, number in re.findall(r"\b([A-ZÄÖÜ][\w-]+)\s+(\d+)\b", question):
        if fold(word) in CALENDAR_NOUNS or word.lower() in FUNCTION_WORDS or 1500 <= int(number) <= 2100:
            continue  # "Im Jahr 1937", "In 1785", "Tesla 1886": a date, not a label
        if re.search(rf"\b{re.escape(word)}\s+{number}\b", claim, re.IGNORECASE):
            found.add(int(number))
    return found


# German capitalises every noun; one derived with these endings ("Verwendung", "Ungleichheit", "Wissenschaft") names
# no one. Whether the passage backs it is the word alignment's to check, as for any other word.
# Only in German text ("Taichung", "Ioannis" are names); "Samsung" is not one: -ung needs five letters before it,
# -nis a consonant ("Ergebnis", "Bündnis", not "Giannis")
GERMAN_COMMON_NOUN = re.compile(
    r"[a-z]{5}ung(?:en)?$|[a-z]{4}(?:heit|heiten|keit|keiten|schaft|schaften)$|[a-z]{3}[bdgmrt]nis(?:se|sen)?$")


def names_in(text: str) -> set[str]:
    """Capitalised words: names, places, organisations. The first word counts too unless it is a function word
    ("The", "Er"): an invented subject ("Hadrian gave ...") is the worst kind of invented name."""
    tokens = words(text)
    german = detect_language(text) == "de"
    found = set()
    for i, token in enumerate(tokens):
        bare = re.sub(r"['’]s$", "", token)
        if not bare[:1].isupper() or len(bare) < 3 or bare.lower() in TRANSLATED_WORDS or fold(bare) in CALENDAR_NOUNS:
            continue
        if i == 0 and bare.lower() in FUNCTION_WORDS or german and GERMAN_COMMON_NOUN.search(fold(bare)):
            continue
        found.add(fold(bare))
    return found


# Places and peoples that English and German name differently, so that neither spelling nor word vectors pair them
# ("Munich" / "München", "Turkish" / "türkischen", "Seljuks" / "Seldschuken"). Folded stems: a word matches a stem it
# starts with, so inflections and compounds count ("Köln-Mülheim", "Moskaus"); a stem of four letters or fewer only
# with an ending ("Wiener", "polnisch"), so "Krim" does not match "Kriminalpolizei".
EXONYMS = [
    {"cologne", "koeln"}, {"munich", "muenchen"}, {"vienna", "viennese", "wien"}, {"moscow", "moskau"},
    {"nuremberg", "nuernberg"}, {"brunswick", "braunschweig"}, {"hanover", "hannover"}, {"geneva", "genf"},
    {"prague", "prag"}, {"warsaw", "warschau"}, {"brussels", "bruessel"}, {"venice", "venedig"}, {"naples", "neapel"},
    {"milan", "mailand"}, {"florence", "florenz"}, {"lisbon", "lissabon"}, {"beijing", "peking"},
    {"kyiv", "kiev", "kiew"}, {"constance", "konstanz", "bodensee"}, {"bavaria", "bayer"},
    {"saxony", "saxon", "sachsen", "saechs"}, {"hesse", "hessian", "hessen", "hessisch"}, {"thuringia", "thuering"},
    {"prussia", "preuss"}, {"silesia", "schlesi"}, {"pomerania", "pommer"}, {"bohemia", "boehm"},
    {"styria", "steiermark"}, {"carinthia", "kaernt"}, {"crimea", "krim"}, {"caucasus", "kaukasus"},
    {"danube", "donau"}, {"rhine", "rhein"}, {"alps", "alpine", "alpen"}, {"mediterranean", "mittelmeer"},
    {"baltic", "ostsee", "baltisch"}, {"arctic", "arktis", "arktisch"},
    {"germany", "german", "germans", "deutsch"}, {"austria", "austrian", "austrians", "oesterreich"},
    {"switzerland", "swiss", "schweiz"}, {"france", "french", "frankreich", "franzoes"},
    {"netherlands", "dutch", "holland", "niederland", "niederlaend"}, {"hungary", "hungarian", "hungarians", "ungar"},
    {"turkey", "turkish", "turks", "tuerk"}, {"greece", "greek", "greeks", "griech"},
    {"egypt", "egyptian", "egyptians", "aegypt"}, {"denmark", "danish", "danes", "daenemark", "daen"},
    {"sweden", "swedish", "swedes", "schwed"}, {"poland", "polish", "poles", "polen", "poln"},
    {"czech", "czechs", "tschech"}, {"belarus", "belarusian", "weissruss"}, {"romania", "romanian", "rumaen"},
    {"croatia", "croatian", "kroat"}, {"slovakia", "slovak", "slowak"}, {"slovenia", "slovenian", "slowen"},
    {"lithuania", "lithuanian", "litau"}, {"latvia", "latvian", "lettland", "lettisch"},
    {"estonia", "estonian", "estland", "estnisch"}, {"cyprus", "cypriot", "zypern", "zypriot"},
    {"iraq", "iraqi", "irak"}, {"lebanon", "lebanese", "libanes", "libanon"}, {"morocco", "moroccan", "marokk"},
    {"britain", "british", "grossbritann", "britisch", "brite"},
    {"scotland", "scottish", "scots", "schottland", "schottisch"}, {"wales", "welsh", "walis"},
    {"seljuk", "seljuks", "seldschuk"}, {"canary", "canarian", "kanar"},
    # places that only start like one above, listed so that they are not taken for it ("Turkmenen", "Australien")
    {"turkmen"}, {"australia", "australian", "australi"}, {"slavonia", "slawoni"},
]
_EXONYM_GROUPS = {form: group for group in EXONYMS for form in group}


def _is_form_of(word: str, stem: str) -> bool:
    ending = word[len(stem):]
    return word.startswith(stem) and (len(stem) >= 5 or ending in ("", "s", "er") or ending.startswith(("isch", "-")))


def _exonym_group(word: str) -> set[str] | None:
    return next((g for form, g in _EXONYM_GROUPS.items() if _is_form_of(word, form)), None)


def claimed_names(claim: str, question: str, titles: Sequence[str]) -> set[str]:
    """The names a claim brings in: not a word of the question (German capitalises every noun: "Partner",
    "Menschen") or an English inflection of one ("Economics" for a question about the "Economic Sciences" prize; the
    English stemmer keeps "Miller" apart from "mill", where the German one would join "Müller" and "Müll"), nor a
    word of a cited article's title, shown above the evidence ("Nikola" in an article titled "Nikola Tesla"). Whether
    the passage backs such a word is the word alignment's to check."""
    asked = {fold(w) for w in words(question)}
    asked_stems = {english_stem(w) for w in asked if w not in FUNCTION_WORDS}
    shown = {fold(w) for title in titles for w in words(title)}
    return {name for name in names_in(claim) - shown - asked if english_stem(name) not in asked_stems}


def _name_found(name: str, passage_words: set[str]) -> bool:
    group = _exonym_group(name)
    if group and any(_is_form_of(word, form) for word in passage_words for form in group):
        return True
    for word in passage_words:
        if word != name and _exonym_group(word) not in (None, group):
            continue  # another place the table knows: "Turkmenen" is no form of "Turkish", "Australien" of "Austria"
        if word == name or (len(name) >= 4 and (name in word or word[:4] == name[:4])):
            return True  # inflection and compounds: Rudenkos, Nordkorea, Russlands
        if abs(len(word) - len(name)) <= 3 and difflib.SequenceMatcher(None, word, name).ratio() >= 0.73:
            return True  # transliterations: Pyongyang / Pjoengjang
    return False


def spelled_alike(term: str, passage_words: set[str]) -> bool:
    """A claim word the passage spells (nearly) the same, alone or inside a compound: 'machine' / 'maschinen',
    'systems' / 'beleuchtungssysteme', 'commutators' / 'kommutatoren'. Stricter than names: no bare prefixes."""
    stem = re.sub(r"(?:es|s)$", "", term) if len(term) >= 6 else term
    for word in passage_words:
        if word == term or (len(stem) >= 5 and stem in word):
            return True
        if abs(len(word) - len(term)) <= 3 and difflib.SequenceMatcher(None, word, term).ratio() >= 0.75:
            return True
    return False


# text in quotation marks, in the styles English and German answers use; single quotes are left alone (apostrophes).
# A straight quote opens only before a word and after none, so inch marks (12" and 15") are not a quotation. German
# quotes („…“) are paired first, as they nest; the rest is matched on what they leave.
QUOTED = re.compile(r'(?<![\w"])"(?=\S)([^"]+?)(?<=\S)"(?!\w)|“([^”“]+)[”“]|«([^»]+)»|»([^«]+)«')
ELLIPSIS = re.compile(r"\s*(?:…|\.\.\.|\[(?:…|\.\.\.)\])\s*")


def quotations(text: str) -> list[str]:
    """Quoted passages in the order they open; a quote inside a quote is one too, and the outer one keeps its words."""
    found: list[tuple[int, str]] = []
    opened: list[int] = []
    rest = list(text)
    for i, ch in enumerate(text):
        if ch == "„":
            opened.append(i)
        elif ch in "“”\"" and opened:
            start = opened.pop()
            found.append((start, text[start + 1:i]))
            rest[start] = rest[i] = " "  # paired: not for the other styles below
    found += [(m.start(), next(g for g in m.groups() if g)) for m in QUOTED.finditer("".join(rest))]
    return [quote for _, quote in sorted(found)]


def _same_word(quoted: str, source: str) -> bool:
    # an inflection ending may differ ("Rechenproblem" / "Rechenprobleme", "verrückter" / "verrückten"); the word
    # itself may not
    if quoted == source:
        return True
    stem = len(os.path.commonprefix([quoted, source]))
    return stem >= 4 and len(quoted) - stem <= 2 and len(source) - stem <= 2


def _words_in_order(needle: list[str], haystack: list[str]) -> bool:
    return any(all(_same_word(q, s) for q, s in zip(needle, haystack[i:i + len(needle)]))
               for i in range(len(haystack) - len(needle) + 1))


def misquotations(claim: str, source: str, question: str = "") -> list[str]:
    """Quoted words of the claim that the source does not contain word for word. Quotation marks promise the
    article's own words: a reporter must not print a paraphrase, or a translation, as a quote. Words the question
    itself puts in quotation marks are the asker's, not a claim about the source. Each part of a quote cut with an
    ellipsis is looked up on its own."""
    source_words = [fold(w) for w in words(source)]
    question_words = [fold(w) for w in words(" … ".join(quotations(question)))]
    missing = []
    for quote in quotations(claim):
        parts = [[fold(w) for w in words(part)] for part in ELLIPSIS.split(quote)]
        parts = [p for p in parts if p]
        if not parts or all(_words_in_order(p, question_words) for p in parts):
            continue
        if not all(_words_in_order(p, source_words) for p in parts):
            missing.append(quote.strip())
    return missing


@dataclass
class SentenceCheck:
    supported: bool
    support: float
    reason: str
    best_span: tuple[int, int] | None  # offsets into the article of the best supporting sentence
    focus: float = 0.0  # similarity of the claim with the numbered sentence itself
    closest_span: tuple[int, int] | None = None  # the passage sentence most like the claim, and its similarity
    closest_similarity: float = 0.0
    other_figure: bool = False  # not supported because the passage gives another figure or outcome


class CitationChecker:
    def __init__(self, embedder: Embedder, settings: Settings) -> None:
        self.embedder = embedder
        self.threshold = settings.support_threshold
        self.word_threshold = settings.word_match_min
        self.name_threshold = settings.name_match_min
        self.closer_by = settings.recite_closer_by
        self._word_vectors: dict[str, np.ndarray] = {}

    def _vectors(self, terms: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(terms) if t not in self._word_vectors]
        if missing:
            for term, vector in zip(missing, self.embedder.embed_queries(missing)):
                self._word_vectors[term] = vector
        return np.array([self._word_vectors[t] for t in terms])

    def _missing_names(self, names: set[str], passage_words: set[str]) -> list[str]:
        """Names with no spelling match in the passage, and no close cross-lingual counterpart either
        ('canarian' / 'kanarischen')."""
        missing = sorted(n for n in names if not _name_found(n, passage_words))
        if not missing:
            return []
        sims = self._vectors(missing) @ self._vectors(sorted(passage_words)).T
        return [n for n, best in zip(missing, sims.max(axis=1)) if best < self.name_threshold]

    def unaligned_words(self, claim: str, passage_text: str) -> list[str]:
        """Content words of the claim with no counterpart in the passage, in either language: 'sanctions' has none
        in a passage that never mentions Sanktionen, however close the topic."""
        claim_words = [w for w in dict.fromkeys(content_words(claim))
                       if len(w) >= 4 and not w.isdigit() and fold(w) not in CALENDAR_NOUNS]
        passage_words = list(dict.fromkeys(content_words(passage_text)))
        if not claim_words or not passage_words:
            return []
        folded = {fold(w) for w in passage_words}
        # spelling first: cognates and compounds ('machine' / 'Maschinen', 'systems' / 'Beleuchtungssysteme')
        todo = [w for w in claim_words if not spelled_alike(fold(w), folded)]
        if not todo:
            return []
        sims = self._vectors(todo) @ self._vectors(passage_words).T
        return [w for w, best in zip(todo, sims.max(axis=1)) if best < self.word_threshold]

    def check(self, claim: str, claim_vector: np.ndarray, evidence: Evidence,
              sentence_vectors: np.ndarray, question: str = "", cited_with: Sequence[Evidence] = ()) -> SentenceCheck:
        """Does this evidence passage back the claim? Meaning (cross-lingual embeddings) and anchors (names,
        numbers) must both agree: a fluent sentence with a wrong name or number is not supported.
        `cited_with` are other passages the sentence cites that back it too: a sentence that joins "Ibn Sina [1]"
        and "Shen Kuo [2]" names each from its own source, so a name one of them holds is backed (check_answer passes
        only passages that pass their own check, so an unrelated co-citation lends no names)."""
        sims = sentence_vectors @ claim_vector if len(sentence_vectors) else np.zeros(0)
        semantic = float(sims.max()) if len(sims) else 0.0
        passage_words = {fold(w) for w in words(evidence.passage.text)}
        names = claimed_names(claim, question, [e.article.title for e in (evidence, *cited_with)])
        missing_names = self._missing_names(names, passage_words)
        if cited_with and missing_names:
            elsewhere = set().union(*({fold(w) for w in words(e.passage.text)} for e in cited_with))
            lent = set(missing_names) - set(self._missing_names(set(missing_names), elsewhere))
            missing_names = [n for n in missing_names if n not in lent]
        else:
            lent = set()
        cited_as = markers(sorted({evidence.n, *(e.n for e in cited_with)}))
        numbers = numbers_in(claim) - question_labels(question, claim)
        passage_numbers = numbers_in(evidence.passage.text)
        # an amount the passage writes otherwise: "1.5 million" for "1.500.000", "2,000" for "2.000"
        passage_amounts = {f.value for f in figures(evidence.passage.text)}
        passage_numbers |= {n for f in figures(claim) if f.value in passage_amounts for n in numbers_in(f.written)}
        missing_numbers = sorted(
            n for n in numbers - passage_numbers
            # a decade may be written either way: "1990s" / "90er", "the 90s" / "1990er"
            if not (f"{n}s" in claim and n % 100 in passage_numbers) and not (n < 100 and 1900 + n in passage_numbers)
        )
        name_share = 1.0 - len(missing_names) / len(names) if names else 1.0
        support = round(0.6 * semantic + 0.4 * name_share, 4)
        span = (evidence.sentence.start, evidence.sentence.end)  # the quote is the sentence the model cited
        focus = next((float(sims[i]) for i, s in enumerate(evidence.passage.sentences)
                      if s.start == evidence.sentence.start), 0.0)
        unit_alone = missing_amount(claim)
        if unit_alone:
            return SentenceCheck(False, support, f"the sentence gives no amount before “{unit_alone}”", span)
        if missing_numbers:  # named as the claim writes it: "2.5 million", not 25
            shown = next((f.written for f in figures(claim) if missing_numbers[0] in numbers_in(f.written)),
                         str(missing_numbers[0]))
            # another figure for the same thing: "fünf Tote" against "three people died", not "1962" or "12.000 Autos"
            # (words of the question name the topic, not what is counted: "Linden Bridge" / "Lindenbrücke")
            asked = {fold(w) for w in words(question)}
            claimed = [f for f in figures(claim) if f.value not in passage_amounts]
            outcomes = {o for f, o, _ in casualty_counts(claim) if o and f.value not in passage_amounts}
            differs = any(o in outcomes for _, o, age in casualty_counts(evidence.passage.text, True) if not age) or any(
                p.counts_same(c, asked) for c in claimed for p in figures(evidence.passage.text))
            return SentenceCheck(False, support, f"number {shown} is not in passage [{evidence.n}]", span,
                                 other_figure=differs)
        # "Ja, der 17-Jährige wurde verletzt" for "Ist der 17-Jährige ums Leben gekommen?": a yes claims the question
        miscounted = other_outcome(claim, evidence.passage.text) or (
            other_outcome(question, evidence.passage.text) if YES.match(claim) and asks_yes_or_no(question)
            else None)
        if miscounted:
            figure, claimed, stated = miscounted
            said = f"says {figure} was" if figure.startswith("the ") else f"counts {figure}"  # an age names one person
            return SentenceCheck(False, support, f"passage [{evidence.n}] {said} {stated}, not {claimed}", span,
                                 other_figure=True)
        recounted = other_count(claim, evidence.passage.text)
        if recounted:
            claimed_figure, outcome, stated_figure = recounted
            return SentenceCheck(False, support, f"passage [{evidence.n}] gives {stated_figure} {outcome}, not "
                                                 f"{claimed_figure}", span, other_figure=True)
        cause = unbacked_cause(claim, evidence.passage.text)
        if cause:
            return SentenceCheck(False, support, f"passage [{evidence.n}] {cause}", span)
        # the title and the publication's name count as its words too ("the "Rundschau" reported")
        misquoted = misquotations(
            claim, f"{evidence.article.title}. {evidence.article.source}. {evidence.passage.text}", question)
        if misquoted:
            return SentenceCheck(False, support, f"the words quoted as “{misquoted[0]}” are not in passage "
                                                 f"[{evidence.n}] word for word", span)
        if missing_names:
            where = f"passages {cited_as}" if cited_with else f"passage {cited_as}"
            return SentenceCheck(False, support, f"{', '.join(missing_names[:3])} not in {where}", span)
        if support < self.threshold:
            return SentenceCheck(False, support, f"passage [{evidence.n}] does not say this", span)
        unaligned = [w for w in self.unaligned_words(claim, evidence.passage.text) if fold(w) not in lent]
        if len(unaligned) >= 2 and len(unaligned) >= 0.2 * len(content_words(claim)):
            return SentenceCheck(False, support, f"passage [{evidence.n}] has nothing for: {', '.join(unaligned[:4])}",
                                 span)
        if not len(sims):
            return SentenceCheck(True, support, "", span, focus)
        best = int(np.argmax(sims))
        closest = evidence.passage.sentences[best]
        return SentenceCheck(True, support, "", span, focus, (closest.start, closest.end), float(sims[best]))


def names_elsewhere(claim: str, cited: Sequence[int], evidence: Sequence[Evidence], question: str = "",
                    most: int = 2) -> list[int]:
    """Shown sentences of the cited articles that hold the claim's names its cited sentences lack: "Choe and Matsegora
    attended [3]" where only [1] names Choe gets [1] too, so every name in the answer opens on its own highlight."""
    by_n = {e.n: e for e in evidence}
    sentence_words = {e.n: {fold(w) for w in words(e.sentence.text)} for e in evidence}
    articles = {by_n[n].article.id for n in cited}
    cited_words = set().union(*(sentence_words[n] for n in cited))
    missing = {name for name in claimed_names(claim, question, [by_n[n].article.title for n in cited])
               if not _name_found(name, cited_words)}
    candidates = [e.n for e in evidence if e.article.id in articles and e.n not in cited]
    added: list[int] = []
    while missing and len(added) < most:
        count, best = max(((sum(_name_found(m, sentence_words[n]) for m in missing), n)
                           for n in candidates if n not in added), default=(0, 0))
        if not count:
            break
        added.append(best)
        missing = {m for m in missing if not _name_found(m, sentence_words[best])}
    return sorted(added)


def _negations(text: str) -> set[str]:
    return {m.lower() for m in NEGATION.findall(text)}


# how often or how far: "Manchmal glauben manche Menschen, … anerkennen zu müssen" adds nothing its question lacks,
# unless the question asks how often
HEDGES = {"sometimes", "often", "usually", "always", "generally", "typically", "still", "already", "manchmal", "oft",
          "häufig", "meist", "meistens", "immer", "bereits", "schon", "allgemein", "generell"}
ASKS_HOW_OFTEN = re.compile(r"\b(?:how (?:often|frequently|usually)|wie (?:oft|häufig|haeufig))\b", re.IGNORECASE)


def restates_question(sentence: str, question: str, language: str, sources: Sequence[str] = ()) -> bool:
    """The sentence says nothing the question does not: each of its words is a function word, a hedge ("often",
    "manchmal") or uses up one word of the question. "Tesla erhielt eine Nominierung für den Nobelpreis" for "In
    welchem Jahr erhielt Tesla eine Nominierung für den Nobelpreis?" answers nothing, however well its citation
    supports it; "Tesla designed the systems that Tesla Electric installed" names Tesla once more than its question,
    and that is its answer.
    Function words of the answer's own language only: English "war" is a noun. A yes/no question is answered by its
    own statement ("The fisherman has been found" for "Has the fisherman been found?"), and so is a "not" the question
    lacks ("Vollmer will not run again"), but only where the cited `sources` say "not" alike: "has been found" against
    "has not been found" stays a restatement, as it was before these exemptions."""
    same_polarity = bool(_negations(sentence)) == any(NEGATION.search(text) for text in sources)
    if same_polarity and (asks_yes_or_no(question) or _negations(sentence) - _negations(question)):
        return False
    german = language == "de"
    unused = [word_stems(w, german) for w in words(question)]
    stop = STOPWORDS.get(language, STOPWORDS["en"]) | (set() if ASKS_HOW_OFTEN.search(question) else HEDGES)
    for word in words(sentence):
        if word.lower() in stop:
            continue
        stems = word_stems(word, german)
        match = next((i for i, asked in enumerate(unused) if asked & stems), None)
        if match is None:
            return False
        del unused[match]
    return True


# A small model that sees a person in one sentence and the name in another calls them "an unnamed Russian diplomat":
# a claim that the articles do not name someone, which no check can tie to a quote. Unless some shown passage says so
# itself, the qualifier is removed; what remains is a weaker claim the original implies.
ABSENCE_QUALIFIER = re.compile(
    r"\b(?:(an?)\s+)?(unnamed|unidentified|undisclosed|anonymous|(?:namentlich\s+nicht\s+genannt|ungenannt|anonym)"
    r"e[nmrs]?)\s+(?=(\w))", re.IGNORECASE)
ABSENCE_IN_SOURCE = re.compile(
    r"\b(?:unnamed|unidentified|undisclosed|anonym\w*|ungenannt\w*|nicht\s+(?:namentlich\s+)?genannt\w*|"
    r"(?:not|did\s+not|declined\s+to)\s+(?:be\s+)?name[ds]?|nicht\s+nennen)\b", re.IGNORECASE)


def drop_unstated_absence(claim: str, sources: Sequence[str]) -> tuple[str, list[str]]:
    """The claim without 'unnamed'/'ungenannten'-type qualifiers that no source states, and the words removed."""
    if any(ABSENCE_IN_SOURCE.search(text) for text in sources):
        return claim, []
    removed: list[str] = []

    def drop(match: re.Match) -> str:
        article, word, following = match.groups()
        if re.match(r"\w+", match.string[match.end():]).group(0).lower() in FUNCTION_WORDS:
            return match.group(0)  # predicative ("stayed anonymous and ..."): not a qualifier
        removed.append(word)
        if not article:
            return ""
        # "an unnamed diplomat" -> "a diplomat", "a unidentified official" -> "an official"
        return article[0] + ("n " if following.lower() in "aeiou" else " ")

    edited = ABSENCE_QUALIFIER.sub(drop, claim)
    if edited[:1].islower() and claim[:1].isupper():
        edited = edited[0].upper() + edited[1:]
    return edited, removed


@dataclass
class CheckedAnswer:
    sentences: list[AnswerSentence]
    citations: list[Citation]


def split_answer(answer: str) -> list[tuple[str, list[int]]]:
    text = normalise_markers(answer)
    out = []
    for s in split_sentences(text):
        sentence = text[s.start:s.end]
        cited = [int(n) for n in re.findall(r"\[(\d+)\]", sentence)]
        plain = re.sub(r"\s*\[\d+\]", "", sentence).strip()
        if plain and re.search(r"\w", plain):
            repeat = next((item for item in out if item[0] == plain), None)
            if repeat is not None:  # small models loop; a repeated sentence says nothing new
                repeat[1].extend(n for n in cited if n not in repeat[1])
                continue
            out.append((plain, list(dict.fromkeys(cited))))
        elif cited and out:  # a lone marker belongs to the sentence before it
            out[-1][1].extend(n for n in cited if n not in out[-1][1])
    return out


def _cite_the_backing_sentence(claim: str, vector: np.ndarray, cited: list[int], checks: dict[int, SentenceCheck],
                               evidence: Sequence[Evidence], sentence_vectors: dict[int, np.ndarray],
                               checker: CitationChecker, question: str) -> tuple[list[int], dict[int, SentenceCheck],
                                                                                 list[int]]:
    """A passage backs a claim through any of its sentences, so a small model's habit of citing the sentence next to
    the one it used ("Mayor Kowalski said so [4]", where [4] is about traffic and [3] quotes the mayor) passed with
    the wrong sentence highlighted. When another shown sentence is clearly the one that backs the claim, cite it.
    Only a lone citation is moved: a sentence that cites several combines them ("Choe met a Russian diplomat [1][2]",
    where [2] says the meeting was in Pjöngjang), and no one of its sentences is the closest to the whole claim.
    Returns the citations, their checks, and the numbers replaced."""
    if len(cited) != 1:
        return cited, checks, []
    (n,) = cited
    check, cited_evidence = checks[n], next(e for e in evidence if e.n == n)
    at = {(e.sentence.start, e.sentence.end, e.article.id): e for e in evidence}
    other = at.get((*check.closest_span, cited_evidence.article.id)) if check.supported and check.closest_span else None
    if other is None or other.n == n or check.closest_similarity - check.focus < checker.closer_by:
        return cited, checks, []
    # the words must agree: embeddings alone moved "… OpenTV [3]" to the sentence about Sky+HD, and "… in Pyongyang
    # [2]" away from the sentence that names the meeting's place
    claim_words = [fold(w) for w in dict.fromkeys(content_words(claim)) if len(w) >= 3]

    def shared(text: str) -> int:  # claim words the sentence spells alike, across languages ("Pyongyang"/"Pjöngjang")
        folded = {fold(w) for w in content_words(text)}
        return sum(spelled_alike(w, folded) for w in claim_words)

    if shared(other.sentence.text) <= shared(cited_evidence.sentence.text):
        return cited, checks, []
    moved_check = checker.check(claim, vector, other, sentence_vectors[other.n], question)
    if not moved_check.supported:
        return cited, checks, []
    return [other.n], {other.n: moved_check}, [n]


def _check_cited(claim: str, vector: np.ndarray, cited: list[int], by_n: dict[int, Evidence],
                 sentence_vectors: dict[int, np.ndarray], checker: CitationChecker,
                 question: str) -> dict[int, SentenceCheck]:
    """Each cited passage's check. A name may come from another cited passage only while that passage backs the
    sentence too: "Lukas Brandt founded the cooperative [1][2]", where [1] tells of the founding and [2] names Brandt
    at a fair, leaves [2] unsupported, and then [1] must hold the name itself."""
    backing = list(cited)
    while True:
        checks = {n: checker.check(claim, vector, by_n[n], sentence_vectors[n], question,
                                   [by_n[m] for m in backing if m != n]) for n in cited}
        still = [n for n in backing if checks[n].supported]
        if len(cited) < 2 or still == backing:
            return checks
        backing = still


def check_answer(answer: str, evidence: Sequence[Evidence], checker: CitationChecker,
                 question: str = "") -> CheckedAnswer:
    by_n = {e.n: e for e in evidence}
    parts = split_answer(answer)
    if not parts:
        return CheckedAnswer([], [])
    shown_passages = list(dict.fromkeys(e.passage.text for e in evidence))
    edits: list[list[str]] = []
    for i, (claim, cited) in enumerate(parts):
        claim, removed = drop_unstated_absence(claim, shown_passages)
        parts[i] = (claim, cited)
        edits.append(removed)
    # one embedding call for every claim and every sentence of each distinct passage (items often share one)
    passages = {e.passage.id: e for e in evidence}
    texts_by_passage = {pid: [e.article.text[s.start:s.end] for s in e.passage.sentences] for pid, e in passages.items()}
    flat = [t for texts in texts_by_passage.values() for t in texts]
    vectors = checker.embedder.embed_queries([p for p, _ in parts] + flat)
    claim_vectors, rest = vectors[: len(parts)], vectors[len(parts):]
    by_passage: dict[str, np.ndarray] = {}
    offset = 0
    for pid, texts in texts_by_passage.items():
        by_passage[pid] = rest[offset:offset + len(texts)]
        offset += len(texts)
    sentence_vectors = {e.n: by_passage[e.passage.id] for e in evidence}

    sentences: list[AnswerSentence] = []
    best_quote: dict[int, tuple[float, tuple[int, int]]] = {}
    for (claim, cited), vector, removed in zip(parts, claim_vectors, edits):
        valid = [n for n in cited if n in by_n]  # a citation to a passage that was not shown is dropped
        dropped = [n for n in cited if n not in by_n]
        checks = _check_cited(claim, vector, valid, by_n, sentence_vectors, checker, question)
        reason = ""
        if not any(c.supported for c in checks.values()):
            # the model forgot the marker or cited the wrong number: cite the shown evidence that backs the
            # sentence, if any does, and say so
            candidates = {e.n: checker.check(claim, vector, e, sentence_vectors[e.n], question) for e in evidence}
            good = [n for n, c in candidates.items() if c.supported]
            if good:
                # sentences of one passage share its support: the one most like the claim is the one to quote
                best_n = max(good, key=lambda n: (candidates[n].support, candidates[n].focus))
                if valid:
                    reason = f"citation corrected by newsrag: the model cited {markers(valid)}"
                else:
                    reason = "citation added by newsrag"
                valid, checks = [best_n], {best_n: candidates[best_n]}
            elif not valid:
                reason = ("no citation" + (f" (cited [{dropped[0]}], which was not shown)" if dropped else "")
                          + ", and no passage shown to the model backs it")
        valid, checks, moved = _cite_the_backing_sentence(claim, vector, valid, checks, evidence, sentence_vectors,
                                                          checker, question)
        if moved and not reason:
            reason = f"citation corrected by newsrag: the model cited {markers(moved)}"
        supported_by = [n for n in valid if checks[n].supported]
        # "Three people died [1][3]" where [3] says five: a passage that gives another figure is no source of the
        # sentence; if it is another article's report, the differing-figure step lists it as such
        contradicting = [n for n in valid if n not in supported_by and checks[n].other_figure] if supported_by else []
        valid = [n for n in valid if n not in contradicting]
        for n in supported_by or valid:
            span = checks[n].best_span
            if span and checks[n].support > best_quote.get(n, (-1.0, (0, 0)))[0]:
                best_quote[n] = (checks[n].support, span)
        if valid and not supported_by:
            # a reason that names no passage ("the sentence gives no amount before …") is said once
            reason = "; ".join(dict.fromkeys(checks[n].reason for n in valid))
        elif supported_by and not reason.startswith("citation"):
            reason = ""
        support = max((checks[n].support for n in valid), default=0.0)
        if supported_by:
            for n in names_elsewhere(claim, supported_by, evidence, question):
                valid = sorted([*valid, n])
                best_quote.setdefault(n, (0.0, (by_n[n].sentence.start, by_n[n].sentence.end)))
        if removed and supported_by:
            note = f"newsrag removed '{', '.join(removed)}': no passage says so"
            reason = f"{reason}; {note}" if reason else note
        if contradicting:
            note = f"newsrag removed {markers(contradicting)}: it gives another figure"
            reason = f"{reason}; {note}" if reason else note
        sentences.append(AnswerSentence(claim, valid, bool(supported_by), reason, support))

    citations = []
    for n in sorted({n for s in sentences for n in s.citations}):
        e = by_n[n]
        # a citation no check backed still points at the sentence the model cited, not at its whole passage
        start, end = best_quote.get(n, (0.0, (e.sentence.start, e.sentence.end)))[1]
        citations.append(citation_for(e, start, end))
    return CheckedAnswer(sentences, citations)


CITED_RUN = re.compile(r"(?:\[\d+\])+")


def number_in_order(sentences: Sequence[AnswerSentence], citations: Sequence[Citation]) -> list[Citation]:
    """The answer's citations renumbered 1, 2, 3 … in the order its sentences first cite them, and the sentences with
    them. The model cites by evidence number, so an answer could open with [4] and skip [2], and the reader would look
    for passages that are not listed. A number in a sentence's reason that no sentence still cites (the model's own
    citation, corrected) becomes 'another passage'."""
    order = list(dict.fromkeys(n for s in sentences for n in [*s.citations, *s.differs]))
    new = {old: i for i, old in enumerate(order, 1)}

    def renumber(run: re.Match[str]) -> str:
        olds = [int(n) for n in re.findall(r"\d+", run.group(0))]
        kept = markers(new[n] for n in olds if n in new)
        gone = sum(n not in new for n in olds)
        other = "another passage" if gone == 1 else "other passages"
        return kept if not gone else f"{kept} and {other}" if kept else other

    for s in sentences:
        s.citations = sorted(new[n] for n in s.citations)  # "[1][2]", not "[2][1]"
        s.differs = sorted(new[n] for n in s.differs)
        s.reason = CITED_RUN.sub(renumber, s.reason)
    by_old = {c.n: c for c in citations}
    return [replace(by_old[old], n=new[old]) for old in order if old in by_old]


def citation_for(e: Evidence, start: int, end: int) -> Citation:
    return Citation(
        n=e.n, article_id=e.article.id, title=e.article.title, passage_id=e.passage.id, text=e.passage.text,
        start=start, end=end, quote=e.article.text[start:end], passage_start=e.passage.start,
        passage_end=e.passage.end, source=e.article.source, published=e.article.published,
        language=e.article.language, url=e.article.url, author=e.article.author,
    )
