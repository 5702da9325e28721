"""Language detection (German/English) and the word lists shared by lexical search and answer checking."""

from __future__ import annotations

import re
import unicodedata

WORD_RE = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*", re.UNICODE)
NEGATION = re.compile(r"\b(?:not|no|never|none|nobody|nothing|neither|nor|cannot|nicht|nie|niemals|niemand|nichts|nirgends"
                      r"|weder|kein\w*)\b"
                      r"|n't\b", re.IGNORECASE)

STOPWORDS = {
    "en": set(
        "a an the and or but if of to in on at by for with from as is are was were be been being it its this that these "
        "those he she they them his her their we you i me my our your who whom whose what which when where why how "
        "did do does done has have had not no yes there here than then so such can could would should will shall may "
        "might must about into over after before during between under again also any all each both more most other "
        "some only own same just very s t up down out off per vs via".split()
    ),
    "de": set(
        "der die das den dem des ein eine einer eines einem einen und oder aber wenn als wie im in am an auf aus bei "
        "mit nach von vor zu zum zur ist sind war waren wird werden wurde wurden sein seine seiner seinem seinen ihr "
        "ihre ihrem ihren ihrer es er sie wir ich du man nicht kein keine auch noch schon nur so dass daß was wer wen "
        "wem wessen welche welcher welches wann wo warum wieso weshalb hat haben hatte hatten sich dies diese dieser "
        "dieses diesem diesen um über unter durch für gegen ohne bis seit hinter neben zwischen sowie bzw etwa "
        "denn doch ob da dort hier mehr sehr einem".split()
    ),
}


def words(text: str) -> list[str]:
    return WORD_RE.findall(text)


def detect_language(text: str) -> str:
    """'de', 'en', or '' when the text gives no signal."""
    tokens = [w.lower() for w in words(text[:5000])]
    if not tokens:
        return ""
    scores = {lang: sum(t in stop for t in tokens) for lang, stop in STOPWORDS.items()}
    scores["de"] += 2 * sum(ch in "äöüß" for ch in text[:5000].lower())
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] > 0 else ""


def fold(text: str) -> str:
    """Lower-case, umlauts spelled out, accents removed: 'Pjöngjang' and 'Pjoengjang' compare equal."""
    text = text.lower()
    for a, b in {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}.items():
        text = text.replace(a, b)
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


FUNCTION_WORDS = STOPWORDS["en"] | STOPWORDS["de"]


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if w.lower() not in FUNCTION_WORDS]
