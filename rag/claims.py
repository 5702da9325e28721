"""What a claim states beyond its words, read alike in German and English: numbers (grouped digits, clock times, number
words), figures with their units and what they count (dead, injured), stated causes and amounts; and whether a question
asks for a figure or for yes or no. The citation checks in cite.py compare these between a claim and its source."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .language import WORD_RE, content_words, detect_language, fold, words
from .split import split_sentences

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100,
    "thousand": 1000, "eins": 1, "zwei": 2, "drei": 3, "vier": 4, "fuenf": 5, "sechs": 6, "sieben": 7,
    "acht": 8, "neun": 9, "zehn": 10, "elf": 11, "zwoelf": 12, "zwanzig": 20, "dreissig": 30, "vierzig": 40,
    "fuenfzig": 50, "hundert": 100, "tausend": 1000,
    "zweier": 2, "dreier": 3,  # genitive: "die Multiplikation zweier Zahlen"
}


# "30.000" and "30,000", and as small models also write them, "30, 000" or "30 000" (narrow space): one number.
# Only 1-3 digits before the first group: "In 2012, 500 people" stays two numbers.
_GROUPED = re.compile(r"(?<![\d.,])(\d{1,3})((?:(?:[.,] ?|[\u00a0\u202f])\d{3})+)\b")


# "entstand im Jahr 1886": German capitalises the noun, but it names no one, and a passage that gives the year need not
# say "Jahr"; the number itself is checked as a number. Neither a name nor a word that must align.
CALENDAR_NOUNS = {
    "year", "years", "month", "months", "week", "weeks", "day", "days", "decade", "decades", "century",
    "jahr", "jahre", "jahren", "jahres", "jahrzehnt", "jahrhundert", "jahrhunderts", "monat", "monate", "monaten",
    "woche", "wochen", "tag", "tage", "tagen", "januar", "februar", "maerz", "mai", "juni", "juli", "august",
    "september", "oktober", "november", "dezember",
}


# clock times: "21:00" is the hour 21 (German "21 Uhr"), "21:30" / "21.30 Uhr" the numbers 21 and 30
_TIME = re.compile(r"(?<![\d.,:])([01]?\d|2[0-3])(?::([0-5]\d)\b|\.([0-5]\d)(?=\s*Uhr\b))")


def _clock(match: re.Match) -> str:
    minutes = match.group(2) or match.group(3)
    return match.group(1) if int(minutes) == 0 else f"{match.group(1)} {minutes}"


# "3:40 p.m." is "15:40 Uhr" / "15.40 Uhr" in a German article: read 12-hour times as 24-hour ones. A lowercase "am"
# needs its dots: "um 9 am Bahnhof" is German.
_MERIDIEM = re.compile(r"(?<![\d.,:])(1[0-2]|0?[1-9])(?::([0-5]\d))?\s*"
                       r"(a\.\s?m\.|A\.?\s?M\b\.?|p\.?\s?m\b\.?|P\.?\s?M\b\.?)")


def _hour_24(match: re.Match) -> tuple[int, str | None]:
    return int(match.group(1)) % 12 + (12 if match.group(3)[0] in "pP" else 0), match.group(2)


def _as_24_hour(text: str) -> str:
    def clock(match: re.Match) -> str:
        hour, minutes = _hour_24(match)
        return f"{hour}:{minutes or '00'}"
    return _MERIDIEM.sub(clock, text)


def time_notation(text: str, language: str) -> str:
    """A German answer that copies "3:40 p.m." from an English article says "15:40 Uhr", as German readers write it."""
    if language != "de":
        return text

    def german(match: re.Match) -> str:
        hour, minutes = _hour_24(match)
        # the abbreviation's dot may also end the sentence
        end = "." if match.group(0).endswith(".") and not text[match.end():].strip() else ""
        return (f"{hour}:{minutes} Uhr" if minutes else f"{hour} Uhr") + end
    return _MERIDIEM.sub(german, text)


# a decimal written in the other language's notation: "6.8 Millionen" (in German the point groups thousands),
# "6,8 million"; only before a magnitude or unit, where it cannot be a date ("am 1.5.") or a list ("1,2 and 3")
_DECIMAL_BEFORE_UNIT = {
    "de": (re.compile(r"(?<![\d.,])(\d{1,3})\.(\d{1,2})(?=\s*(?:Millionen|Milliarden|Mio\b|Mrd\b|Prozent|%|Euro|Dollar"
                      r"|Grad|Meter|Kilometer|Zentimeter|Tonnen|Kilogramm|Liter|Stunden)(?!\w))"), ","),
    "en": (re.compile(r"(?<![\d.,])(\d{1,3}),(\d{1,2})(?=\s*(?:million|billion|trillion|percent|per cent|%|euros?"
                      r"|dollars?|degrees?|met(?:er|re)s?|kilomet(?:er|re)s?|tonnes?|tons?|lit(?:er|re)s?|hours?)(?!\w))",
                      re.IGNORECASE), "."),
}


def decimal_notation(text: str, language: str) -> str:
    """Decimals as the answer's language writes them: a small model copies "6.8 million" into a German answer as
    "6.8 Millionen", which a German reader takes for 68 or misreads; the checks read both notations alike."""
    pattern, mark = _DECIMAL_BEFORE_UNIT.get(language, (None, ""))
    return pattern.sub(lambda m: f"{m.group(1)}{mark}{m.group(2)}", text) if pattern else text


# "no one was hurt", "each one of them": a pronoun, not a count
_PRONOUN_ONE = re.compile(r"\b(?:no|every|each|any|some|this|that|which)\s+one\b", re.IGNORECASE)


def numbers_in(text: str) -> set[int]:
    text = _PRONOUN_ONE.sub(" ", _TIME.sub(_clock, _as_24_hour(text)))
    ungrouped = _GROUPED.sub(lambda m: m.group(1) + re.sub(r"\D", "", m.group(2)), text)
    found = {int(n) for n in re.findall(r"\d+", ungrouped.replace(".", "").replace(",", "")) if len(n) < 10}
    # decades: "the 1990s" is "die 90er Jahre"
    found |= {int(d) % 100 for d in re.findall(r"\b(1[89]\d0)s\b", text)}
    for word in words(fold(text)):
        for part in word.split("-"):
            if part in NUMBER_WORDS:
                found.add(NUMBER_WORDS[part])
            elif part.endswith(("taegig", "taegigen", "jaehrig", "jaehrigen")):
                head = re.match(r"[a-z]+?(?=taegig|jaehrig)", part)
                if head and head.group(0) in NUMBER_WORDS:
                    found.add(NUMBER_WORDS[head.group(0)])
    return found


# a figure: digits, grouped or with a decimal comma ("30.000", "2,8"), or a number word ("zwölf"); not a label's
# number ("MPEG-2", "COVID-19"); English money writes its scale as a suffix ("£2bn", "$3m")
_FIGURE = re.compile(r"(?<![\w.,:-])\d+(?:(?:[.,]|[\u00a0\u202f])\d+)*(?:bn|mn|m|k)?(?!\w)|[^\W\d_]+", re.UNICODE)
SUFFIX_SCALES = {"bn": 1e9, "mn": 1e6, "m": 1e6, "k": 1e3}
# "may" and "march" are verbs too often ("300 may have died")
_MONTHS = {"januar", "january", "februar", "february", "maerz", "april", "mai", "juni", "june",
           "juli", "july", "august", "september", "oktober", "october", "november", "dezember", "december"}
# "4,5 Millionen" and "4.5 million" are one amount; German "Billion" is a million million, English "billion" is not
SCALES = {"hundert": 100, "hundred": 100, "tausend": 1e3, "thousand": 1e3, "mio": 1e6, "million": 1e6,
          "millionen": 1e6, "millions": 1e6, "milliarde": 1e9, "milliarden": 1e9, "mrd": 1e9, "billion": 1e9,
          "billions": 1e9, "billionen": 1e12}
# what an amount is measured in: a figure in euros and a count of people never report the same thing
UNITS = {
    "euro": "euro", "euros": "euro", "eur": "euro", "dollar": "dollar", "dollars": "dollar", "usd": "dollar",
    "pfund": "pound", "pound": "pound", "pounds": "pound", "gbp": "pound", "prozent": "percent", "percent": "percent",
    "kilometer": "km", "kilometern": "km", "kilometres": "km", "kilometers": "km", "km": "km", "meter": "m",
    "metern": "m", "metres": "m", "meters": "m", "tonnen": "t", "tonnes": "t", "tons": "t", "us-dollar": "dollar",
    "pct": "percent",
}
# "ein Mensch", "one person": the one count that a word for "a" gives; "ein Plan", "one of them" give none
ONE_WORDS = {"one", "a", "an", "ein", "eine", "einer", "eins"}
ONE_PERSON = {"person", "man", "woman", "child", "mensch", "mann", "frau", "kind", "todesopfer", "toter",
              "tote", "toten", "verletzter", "verletzte", "verletzten", "feuerwehrmann", "passagier", "passenger", "firefighter"}
UNIT_SIGNS = {"%": "percent", "€": "euro", "$": "dollar", "£": "pound"}


def _unit(sentence: str, start: int, end: int) -> str:
    """What the figure at sentence[start:end] is measured in: "4,5 Mio. €", "€4.5 million", "20 per cent"."""
    sign = re.match(r"\.?\s*([%€$£])", sentence[end:]) or re.search(r"([€$£])\s*$", sentence[:start])
    if sign:
        return UNIT_SIGNS[sign.group(1)]
    after = [fold(w) for w in words(sentence[end:end + 25])][:2]
    if after == ["per", "cent"]:
        return "percent"
    return UNITS.get(after[0], "") if after else ""


# content words near two figures that must match for them to count the same thing ("Verletzte" / "Verletzten")
SAME_COUNT_WORDS = 1


def _shared_stems(a: set[str], b: set[str]) -> int:
    """Words of a with a counterpart in b, German inflection allowed ("Verletzte" / "Verletzten")."""
    return sum(any(x == y or (len(x) >= 5 and len(y) >= 5 and x[:5] == y[:5]) for y in b) for x in a)


@dataclass
class Figure:
    value: float
    written: str  # as the sentence writes it: "4,5 Millionen", "zwölf"
    near: tuple[str, ...]  # content words around it, as written: what it counts ("zwölf Menschen verletzt")
    unit: str = ""  # "euro", "percent", ...: what it is measured in, when it says
    start: int = 0  # where it stands in the sentence
    scale: float = 1  # "Millionen", "Mio.", "billion": 1e6, 1e6, 1e9
    rate: bool = False  # a figure per something: "500 Euro pro Haushalt", "3 percent a year"

    def same_kind(self, other: "Figure") -> bool:
        """Could both measure the same thing? The same unit; or one leaves it out ("auf 4,5 Millionen geschätzt"
        after "2,8 Millionen Euro"), but then both are scaled amounts or both plain counts: "30 Mio. GBP" and "drei
        Kanäle" are not. A rate is not a total: "500 euros per household" against "750,000 euros" of aid."""
        if self.rate != other.rate:
            return False
        if self.unit and other.unit:
            return self.unit == other.unit
        if self.scale > 1 and other.scale > 1:
            return True
        return self.scale == other.scale == 1 and not self.unit and not other.unit

    def counts_same(self, other: "Figure", ignore: set[str] = frozenset()) -> bool:
        """Of the same kind, with a content word near both that is not in `ignore` (words that name the topic, not what
        is counted): "zwölf Verletzte" and "12 Verletzten", not "12 Verletzte" and "12 Autos"."""
        return self.same_kind(other) and (
            _shared_stems(self.context - ignore, other.context - ignore) >= SAME_COUNT_WORDS)

    @property
    def context(self) -> set[str]:
        return {fold(w) for w in self.near}


def _is_year(value: float) -> bool:
    return value == int(value) and 1500 <= value <= 2100


def _a_date_or_rank(sentence: str, start: int, end: int) -> bool:
    """'am 7. Januar', 'January 7', 'im 19. Jahrhundert': a day of the month or a German ordinal; '21 Uhr',
    '21:30': a clock time."""
    if re.match(r"\.\s*\w|:\d\d|\s*Uhr\b", sentence[end:]):
        return True
    before, after = sentence[:start].split(), sentence[end:].split()
    return any(fold(w.strip(".,;:()")) in _MONTHS for w in before[-1:] + after[:1])


def _amount(token: str) -> float:
    """'2,8' and '2.8' are 2.8; '2.000', '2,000' and '1.500.000' are whole numbers: a separator before exactly three
    digits groups them, any other is the decimal point ('0,375' too)."""
    parts = re.split(r"[.,\u00a0\u202f]", token)
    if len(parts) > 1 and (len(parts[-1]) != 3 or parts[0] == "0"):  # "0,375" groups nothing
        return float("".join(parts[:-1]) + "." + parts[-1])
    return float("".join(parts))


# after the figure and its unit: "500 Euro pro Haushalt", "€20 a head", "3 percent per year" ("20 per cent" is a unit)
_PER = re.compile(r"\W*(?:[^\W\d]+\.?\s+){0,2}?(?:(?-i:per\s+[a-z])(?<!per c)|pro\s(?!-)|je\s(?!nach\b)|each\b"
                  r"|a (?:head|year|month|day|week|person)\b(?!\s+ago)|im (?:Jahr|Monat)\b|j(?:ä|ae)hrlich|monatlich"
                  r"|annually|yearly|monthly)", re.IGNORECASE)


def figures(sentence: str, reach: int = 50) -> list[Figure]:
    """The counts and amounts a sentence gives, each with the words around it. Years, days of the month and ranks
    are not figures."""
    out: list[Figure] = []
    scaled_to = 0  # "drei Millionen": "Millionen" belongs to the figure before it
    for m in _FIGURE.finditer(sentence):
        token = m.group(0)
        if m.start() < scaled_to:
            continue
        suffix = re.search(r"(?:bn|mn|m|k)$", token) if token[0].isdigit() else None
        if suffix:  # "$3m" is three million dollars; "5m" alone is five metres, not a figure here
            if not re.search(r"[€$£]\s*$", sentence[:m.start()]):
                continue
            token = token[:suffix.start()]
        if token[0].isdigit():
            if _a_date_or_rank(sentence, m.start(), m.end()) or len(token) > 15:
                continue
            value = _amount(token)
            if token.isdigit() and _is_year(value):  # "2.000 Besucher" is a count, "2000" a year
                continue
        else:
            value = NUMBER_WORDS.get(fold(token))
        following = next(WORD_RE.finditer(sentence, m.end(), m.end() + 30), None)
        scale = 1.0
        if value is None and fold(token) in ONE_WORDS and following and (
                fold(following.group(0)) in ONE_PERSON | SCALES.keys()):
            value = 1  # "ein Mensch starb": a count of one, which "zwei Menschen" contradicts; "eine Million"
        if value is None:
            continue
        if suffix:
            scale = SUFFIX_SCALES[suffix.group(0)]
            value *= scale
        elif following and fold(following.group(0)) in SCALES:
            # a capitalised "Billion" is German: a million million
            scale = 1e12 if following.group(0) == "Billion" else SCALES[fold(following.group(0))]
            value *= scale
            scaled_to = following.end()
        end = max(scaled_to, m.end())
        written, unit = sentence[m.start():end], _unit(sentence, m.start(), end)
        if value <= 0 or value <= 1 and not unit and not (
                following and fold(following.group(0)) in ONE_PERSON | SCALES.keys()):
            continue  # "one of", "ein", "größer als 1": not a count; "1 Million", "one person", "0,375 %" are
        near = [w.group(0) for w in WORD_RE.finditer(sentence)
                if w.end() > m.start() - reach and w.start() < m.end() + reach]
        context = tuple(w for w in dict.fromkeys(content_words(" ".join(near))) if len(w) >= 4 and not w.isdigit()
                        and fold(w) not in NUMBER_WORDS and fold(w) not in _MONTHS and fold(w) not in SCALES
                        and fold(w) not in UNITS)
        rate = bool(_PER.match(sentence, end))
        out.append(Figure(round(value, 6), written, context, unit, m.start(), scale, rate))
    return out


# what a casualty count counts, in English and German: the figures news reports most often give, and the ones a
# summary must never swap ("17 deaths" from "die Zahl der Verletzten … auf 17"). Matched on folded text; a phrase for
# the dead wins over the word for the injured inside it ("tödlich verletzt", "erlag seinen Verletzungen").
OUTCOMES = {
    "dead": re.compile(
        r"\b(?:ums leben|leben (?:gekostet|verloren)|lost (?:their|his|her) lives?|(?:their|his|her) lives|fatally \w+"
        r"|toedlich \w+|erlag\w* (?:ihren|seinen|ihrer|seiner) verletzung\w*|succumbed to \w+ (?:injuries|wounds)"
        r"|shot dead|dead|deaths?|died|dying|killed|kill(?:s|ing)?|fatalit\w*|tote[nr]?|tot|todes\w*|toedlich\w*"
        r"|starben|starb|sterben|gestorben|verstorben\w*|getoetet|toetete\w*|umgekommen|erschossen|erstochen"
        r"|ertrunken|ertranken|drowned|perished)\b"),
    "injured": re.compile(r"\b(?:injur\w*|wounded|hurt|hospitali[sz]ed|(?:in|to|ins) (?:hospital|krankenhaus)"
                          r"|verletz\w*|schwerverletz\w*|leichtverletz\w*|verwundet\w*)\b"),
    "missing": re.compile(r"\b(?:missing|vermisst\w*)\b"),
}
# a comma between digits ("1,000") groups them; it does not end a clause
_CLAUSE_BREAK = re.compile(r"(?<!\d),|,(?!\d)|[;:–]|\b(?:and|but|while|whereas|und|aber|sowie|waehrend)\b")
# "two of the 17 injured", "drei davon schwer": a part of a count, which the verb of the sentence may or may not apply to
_PARTITIVE = re.compile(r"\s+(?:of|von|davon|der|unter)\b", re.IGNORECASE)


def _outcome_near(sentence: str, position: int) -> str:
    """The casualty outcome a figure counts: the one named closest to it in its clause ("Zwei starben, 17 wurden
    verletzt"); when its clause names none, the one its sentence names ("zwölf Menschen verletzt worden, drei davon
    schwer"), if the sentence names only one; else ''."""
    text, at = fold(sentence), len(fold(sentence[:position]))
    dead = [(m.start(), m.end(), "dead") for m in OUTCOMES["dead"].finditer(text)]
    named = dead + [(m.start(), m.end(), kind) for kind in ("injured", "missing") for m in OUTCOMES[kind].finditer(text)
                    if not any(start < m.end() and m.start() < end for start, end, _ in dead)]
    clause_start = max((m.end() for m in _CLAUSE_BREAK.finditer(text, 0, at)), default=0)
    clause_end = next((m.start() for m in _CLAUSE_BREAK.finditer(text, at)), len(text))
    in_clause = [n for n in named if clause_start <= n[0] < clause_end]
    if in_clause:
        return min(in_clause, key=lambda n: abs(n[0] - at))[2]
    kinds = {kind for _, _, kind in named}
    return kinds.pop() if len(kinds) == 1 else ""


# "ein 17-Jähriger", "a 17-year-old", "17 Jahre alt", "aged 17": an age, which names a person rather than counting
_AGE_AFTER = re.compile(r"-?\s*(?:j(?:ä|ae)hrig\w*|year-old\w*|years? old|jahre alt\w*)\b", re.IGNORECASE)
_AGE_BEFORE = re.compile(r"\b(?:aged|im alter von)\s*$", re.IGNORECASE)


# who was among the dead or injured: the figures that follow count a part of them
_AMONG = re.compile(r"\b(?:unter (?:den|ihnen)|among(?: the| them)?|darunter|including)\b[^;:–]*")


def casualty_counts(text: str, totals_only: bool = False) -> list[tuple[Figure, str, bool]]:
    """Each figure of the text with the outcome it counts ('' when none is named) and whether it is an age ("ein
    17-Jähriger wurde verletzt": the 17-year-old is the one injured). Not counts of anyone: "zwei Tage nach dem
    Feuer" (a span of time), "drei davon" (a part of another count). With totals_only, not the figures that name
    who was among them either ("Unter den Toten waren … zwei Lieferfahrer", "darunter zwei Kinder"): a part of the
    dead is no other count of them."""
    found = []
    for sentence in split_sentences(text):
        part = text[sentence.start:sentence.end]
        among = [m.span() for m in _AMONG.finditer(fold(part))] if totals_only else []
        for f in figures(part):
            end = f.start + len(f.written)
            age = bool(_AGE_AFTER.match(part, end) or _AGE_BEFORE.search(part[:f.start]))
            following = words(part[end:])[:1]
            if not age and (part[end:end + 1] == "-" or _PARTITIVE.match(part, end) or (
                    following and fold(following[0]) in CALENDAR_NOUNS)):
                continue
            at = len(fold(part[:f.start]))
            if not age and any(a < at < b for a, b in among):
                continue
            outcome = _outcome_near(part, f.start)
            if age and sum(bool(p.search(fold(part))) for p in OUTCOMES.values()) > 1:
                outcome = ""  # "Ein 17-jähriger Autofahrer wurde verletzt, der Radfahrer starb": whose outcome is whose
            found.append((f, outcome, age))
    return found


def _in_a_sentence(figure: Figure) -> str:
    """A figure as a reason quotes it mid-sentence: "four", not the "Four" that opened the claim."""
    return figure.written.lower() if figure.written[0].isalpha() else figure.written


def other_outcome(claim: str, passage_text: str) -> tuple[str, str, str] | None:
    """A casualty figure the passage gives for another outcome: "17 people died" where the passage's 17 are injured,
    "a 17-year-old died" where the passage's 17-year-old was injured. Returns the claim's figure ("17", "the
    17-year-old"), what the claim says it counts, and what the passage says."""
    in_passage = casualty_counts(passage_text)
    for claimed, said, age in casualty_counts(claim):
        stated = {outcome for f, outcome, is_age in in_passage if f.value == claimed.value and is_age == age and outcome}
        if said and stated and said not in stated:
            written = _in_a_sentence(claimed)
            return (f"the {written}-year-old" if age else written), said, sorted(stated)[0]
    return None


def other_count(claim: str, passage_text: str) -> tuple[str, str, str] | None:
    """Another total for the same outcome: "Four people died" where the passage says "drei Menschen ums Leben
    gekommen". The number check alone passes it when the claim's number stands elsewhere in the passage ("vier davon
    schwer" among the injured). Not when any of the claim's figures for that outcome is one of the passage's ("Two of
    the three dead were children"), nor when the claim's number is a part of a count there ("vier davon"), which a
    claim may rightly name. Returns the claim's figure, the outcome and the passage's figure."""
    in_passage = [(f, o) for f, o, age in casualty_counts(passage_text, totals_only=True) if o and not age]
    parts = set()  # (value, outcome) of "vier davon" in "Zwölf … wurden verletzt, vier davon schwer"
    for sentence in split_sentences(passage_text):
        text = passage_text[sentence.start:sentence.end]
        parts |= {(f.value, _outcome_near(text, f.start)) for f in figures(text)
                  if _PARTITIVE.match(text, f.start + len(f.written))}
    claimed = [(f, o) for f, o, age in casualty_counts(claim, totals_only=True) if o and not age]
    for figure, outcome in claimed:
        said = {f.value for f, o in claimed if o == outcome}
        stated = [f for f, o in in_passage if o == outcome]
        if stated and said.isdisjoint(f.value for f in stated) and (figure.value, outcome) not in parts:
            return _in_a_sentence(figure), outcome, _in_a_sentence(stated[-1])
    return None


# a claim that gives a cause or reason needs a source that gives one: two true facts joined by an invented "because"
# ("… korrigiert, da der Betreiber den Betrieb fortsetzt") are not what the article says. Matched on folded text.
CLAIMED_CAUSE = re.compile(
    r"\b(?:because|due to|owing to|caused by|as a result of|led to|lead to|leads to|resulted in|(?:the )?reasons? for"
    r"|weil|wegen|aufgrund|auf grund|verursacht\w*|infolge|deshalb|daher|deswegen|ursache\w*|\w+ursache\w*"
    r"|grund(?:e|es)?)\b|, da\b")
GIVEN_CAUSE = re.compile(
    CLAIMED_CAUSE.pattern + r"|\b(?:cause[sd]?|causing|reasons?|dank|dadurch|sodass|so dass|fuehrte\w*|fuehren"
    r"|ausgeloest|ausloeser|zurueckzufuehren|folge|folgen|lag an|liegt an|therefore|thus|hence|so that)\b")
# English gives a reason with "as" or "since" too, but both also mean "when", "like" and "from then on": only a
# clause with its own subject and a verb of finding or lacking counts ("closed as inspectors found cracks", "since it
# was the only crossing"), not a time ("as the mayor arrived", "since the bridge was opened in 1962", "since 2022")
_SUBJECT = r"(?:the |a |an |its |their |his |her |it |they |he |she |we )?(?!(?:19|20)\d\d\b)[a-z]+ (?:[a-z]+ )?"
CLAUSE_CAUSE = re.compile(
    r"(?<!such )(?<!well )(?<!soon )(?<!long )(?<!far )(?<!much )\b(?:as|since) " + _SUBJECT
    + r"(?:found|discovered|showed|revealed|lacked|failed|feared|needed|could not|couldn't|did not|didn't|had no"
    r"|(?:was|were|is|are) (?:the only|not|no longer|too|unable|short))\b")
UNKNOWN_CAUSE = re.compile(
    r"\b(?:unklar|unbekannt|nicht bekannt|noch offen|ermittelt|wird geprueft|werden geprueft|unknown|unclear|not known"
    r"|not yet known|under investigation|being investigated|investigating)\b")


# "kostet Euro", "beträgt Prozent", "costs euros": a small model that leaves the amount out still writes its unit
_AMOUNT_SLOT = re.compile(
    r"\b(?P<before>\w+\s+)?(?P<slot>kostet|kosten|kostete|kosteten|betr(?:ä|ae)gt|betragen|betrug|liegt bei|lag bei"
    r"|(?:stieg|steigt|sank|sinkt|fiel|f(?:ä|ae)llt) um|rund|etwa|ca\.|k(?:ö|oe)nnte|k(?:ö|oe)nnten|w(?:ü|ue)rden?"
    r"|soll(?:en|te|ten)?|wird|d(?:ü|ue)rften?|costs?|(?:rose|fell|grew|increased|decreased|dropped) by)\s+"
    r"(?P<unit>euros?|prozent|us-dollar|dollars?|pfund|percent|per cent|pounds?)\b(?!-)",
    re.IGNORECASE)
_VAGUE_QUANTITY = {"hunderte", "tausende", "millionen", "milliarden", "hundreds", "thousands", "millions", "billions",
                   "dutzende", "dozens", "beide", "both"}


def missing_amount(claim: str) -> str:
    """The unit a claim gives without its amount ("Die Reparatur kostet Euro"): '' when every unit has one."""
    for m in _AMOUNT_SLOT.finditer(claim):
        if not (m.group("before") and fold(m.group("before").strip()) in _VAGUE_QUANTITY):  # "Millionen von Euro"
            return m.group("unit")
    return ""


YES = re.compile(r"\s*(?:ja|yes|jawohl|richtig|correct)\b", re.IGNORECASE)
YES_NO_QUESTION = re.compile(
    r"\s*(?:is|are|was|were|did|does|do|has|have|had|can|could|will|would|ist|sind|war|waren|hat|haben|hatte|hatten"
    r"|wurde|wurden|wird|werden|kann|koennen|können|gibt|gab|muss|müssen|darf|dürfen|soll|sollen|should|must"
    # German puts the verb first only in a yes/no question: "Kam es zu Verletzten?", "Bleibt die Brücke gesperrt?"
    r"|kam|kamen|kommt|ging|geht|bleibt|blieb|steht|stand|liegt|lag|gilt|galt|stimmt|wäre|wären|hätte|hätten)"
    r"(?:n't)?\b",
    re.IGNORECASE)


_ENGLISH_SUBJECT = re.compile(r"\s*was\s+(?:the|a|an|he|she|it|there|this|that|his|her|its|their|anyone|anybody)\b",
                              re.IGNORECASE)


def asks_yes_or_no(question: str) -> bool:
    """Opens with a verb: "Was the fisherman found?", "Wurde er gefunden?"; German "Was umgibt …?" asks what."""
    opening = YES_NO_QUESTION.match(question)
    if not opening:
        return False
    after = words(question[opening.end():])[:1]
    return (opening.group(0).strip().lower() != "was" or bool(_ENGLISH_SUBJECT.match(question))
            or bool(after) and after[0][0].isupper() and detect_language(question) != "de")  # "Was Vollmer …?"
# a question that asks for a count, an amount or a rate (matched on folded text)
_MONEY = (r"(?:cost|pay|paid|spen[dt]|worth|money|price|charge|budget|damage|aid|loan|fine|salary|kost\w*|schaden"
          r"|summe|betrag|\w*hilfe|kredit|zins\w*|preis|budget|miete|strafe|gehalt|ausgaben|einnahmen|umsatz|defizit"
          r"|schulden)")
ASKS_FOR_FIGURE = re.compile(
    r"\b(?:how many|what (?:percentage|share|proportion|(?:interest )?rate|amount|sum|number of)|wie ?viele"
    r"|welche[mnrs]? (?:zinssatz|betrag|summe|hoehe|anteil|prozentsatz|zahl))\b"
    # "how much" and "wie hoch" ask for a figure when money is asked about, not "how much did he know"
    r"|\b(?:how much|wie ?viel|wie (?:hoch|teuer))\b(?=.*\b" + _MONEY + r"\b)")
# another part of the question asks something else: a sentence without a figure may answer that part
OTHER_QUESTION = re.compile(r"\b(?:who|when|where|why|which|wer|wann|wo|warum|wieso|weshalb)\b")
# an answer of none, both or dozens gives a figure too
NONE_WORDS = re.compile(r"\b(?:kein\w*|niemand|nichts|none|no one|nobody|nothing|zero|null|dutzend\w*|dozens?"
                        r"|beide\w*|both|hunderte\w*|tausende\w*|hundreds|thousands)\b")


def lacks_asked_figure(question: str, sentences: Sequence[str]) -> bool:
    """The question asks how many, how much or at what rate, and no sentence gives a figure: "Der Zinssatz ist pro
    Jahr" for "Zu welchem Zinssatz …?". A small model copies a sentence's frame and leaves its number out."""
    asked = fold(question)
    if not ASKS_FOR_FIGURE.search(asked) or OTHER_QUESTION.search(asked):
        return False
    return not any(numbers_in(s) or figures(s) or NONE_WORDS.search(fold(s)) for s in sentences)


def unbacked_cause(claim: str, passage_text: str) -> str:
    """Why a claim's cause or reason is not the passage's ('' when it is, or the claim gives none): the passage says
    the cause is not known ("Die Brandursache ist noch unklar"), or names no cause at all."""
    claim_text = fold(claim)
    said = CLAIMED_CAUSE.search(claim_text)
    if not said or UNKNOWN_CAUSE.search(claim_text):  # "the cause is still unclear" repeats the passage
        return ""
    sentences = [fold(passage_text[s.start:s.end]) for s in split_sentences(passage_text)]
    unknown = [s for s in sentences if UNKNOWN_CAUSE.search(s) and re.search(r"ursache|grund|cause|reason", s)]
    if any(GIVEN_CAUSE.search(s) or CLAUSE_CAUSE.search(s) for s in sentences if s not in unknown):
        return ""  # a cause of something; whether it is the claim's is left to the other checks
    return "says the cause is not known" if unknown else f"gives no cause or reason (“{said.group(0).strip(', ')}”)"
