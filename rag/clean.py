"""Strip boilerplate that must never be retrieved or cited: related-link lists, share/cookie/newsletter lines, photo credits."""

from __future__ import annotations

import re
from dataclasses import replace

from .types import Article

# A header that introduces a list of links to other articles. What follows it is other articles' headlines,
# which a model would otherwise quote as fact.
RELATED_HEADER = re.compile(
    r"^\s*(lesen sie (auch|mehr|weiter)|mehr zum thema|auch interessant|das könnte sie (auch )?interessieren|"
    r"weitere (artikel|nachrichten|meldungen)|verwandte (artikel|themen)|empfehlungen( der redaktion)?|"
    r"read (more|also|next)|related( articles| stories| coverage)?|see also|more on this( story)?|"
    r"you (may|might) also like|recommended( for you)?)\s*:?\s*$",
    re.IGNORECASE,
)
LIST_ITEM = re.compile(r"^\s*([-*•–]|\d+[.)])\s+")
NOISE_LINE = re.compile(
    r"^\s*(©|\(c\)\s|foto:|bild:|photo:|image:|quelle:\s*(getty|dpa|afp|reuters)|"
    r"(diesen )?artikel teilen|teilen auf|share (this|on)|folgen sie uns|follow us|"
    r"newsletter( abonnieren)?|jetzt abonnieren|subscribe( now)?|"
    r"(wir verwenden|this (site|website) uses) cookies|cookie(s|-einstellungen| settings)|"
    r"(alle )?rechte vorbehalten|all rights reserved|anzeige$|advertisement$|werbung$)",
    re.IGNORECASE,
)
MAX_NOISE_LINE = 200


def _is_listish(line: str) -> bool:
    stripped = line.strip()
    return bool(LIST_ITEM.match(line)) or (0 < len(stripped) < 160 and not stripped.endswith((".", ":", "?", "!")))


def clean_text(text: str) -> str:
    lines = text.split("\n")
    kept: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if RELATED_HEADER.match(line):
            # drop the header and the run of link-like lines (blank lines included) that follows it
            j = i + 1
            while j < len(lines) and (not lines[j].strip() or _is_listish(lines[j])):
                j += 1
            i = j
            continue
        if len(line) <= MAX_NOISE_LINE and NOISE_LINE.match(line):
            i += 1
            continue
        kept.append(line.rstrip())
        i += 1
    cleaned = "\n".join(kept)
    cleaned = re.sub(r"[ \t]+", " ", cleaned)
    cleaned = re.sub(r"\n{3,}", "\n\n", cleaned)
    return cleaned.strip()


def clean_article(article: Article) -> Article:
    return replace(article, text=clean_text(article.text))
