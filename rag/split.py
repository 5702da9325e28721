"""Split an article into sentence-aligned passages that never cross a paragraph, with offsets into Article.text."""

from __future__ import annotations

import re

from .types import Article, Passage, Sentence

# Words that end with a period without ending the sentence (German and English news style).
ABBREVIATIONS = {
    "z", "b", "bzw", "ca", "vgl", "dr", "prof", "nr", "st", "abs", "bzw", "usw", "etc", "ggf", "inkl", "evtl", "mio",
    "mrd", "tsd", "jh", "jhd", "str", "mr", "mrs", "ms", "jr", "sr", "vs", "no", "gen", "col", "lt", "sgt", "gov",
    "sen", "rep", "u", "s", "d", "h", "i", "e", "a", "o", "al", "jan", "feb", "mär", "apr", "jun", "jul", "aug",
    "sep", "sept", "okt", "oct", "nov", "dez", "dec", "co", "inc", "ltd", "corp", "bd", "fig", "hrsg", "chr", "v",
}
ROMAN = re.compile(r"^[IVXLC]+$")
# nouns that make the "12." before them an ordinal, not a sentence end: "am 12. März", "im 19. Jahrhundert", "zum 3. Mal"
ORDINAL_NOUNS = {
    "januar", "februar", "märz", "april", "mai", "juni", "juli", "august", "september", "oktober", "november",
    "dezember", "jahrhundert", "jahrhunderts", "jahrestag", "platz", "mal", "stock", "klasse", "liga", "weltkrieg",
}
# German words after which "12." is an ordinal ("zum 12. Schuljahr", "seinem 80. Geburtstag")
ORDINAL_LEAD = {
    "am", "im", "vom", "zum", "zur", "beim", "dem", "der", "den", "des", "die", "das", "ein", "eine", "einem",
    "einen", "einer", "eines", "sein", "seine", "seinem", "seinen", "seiner", "seines", "ihr", "ihre", "ihrem", "ihren",
    "ihrer", "ihres", "jedem", "jeden", "jeder",
}
BOUNDARY = re.compile(r"([.!?…]+[\"'»«“”’)\]]*)(\s+)")


def _is_false_boundary(text: str, punct_start: int, next_start: int) -> bool:
    if text[punct_start] != ".":
        return False
    token_match = re.search(r"(\S+)$", text[:punct_start])
    token = token_match.group(1) if token_match else ""
    bare = token.strip("(\"'„“»«").rstrip(".")
    next_word_match = re.match(r"\S+", text[next_start:])
    next_word = next_word_match.group(0) if next_word_match else ""
    if not next_word:
        return False
    if next_word[0].islower() or next_word[0].isdigit() and bare.lower() in ABBREVIATIONS:
        return True
    if bare.lower() in ABBREVIATIONS or (len(bare) == 1 and bare.isalpha()):
        return True
    if ROMAN.match(bare) and len(bare) <= 4:  # "Heinrich III. adelte"
        return True
    # German ordinals: "am 20. Mai", "der 2. Weltkrieg", and after an article or a contracted preposition
    # "bis zum 12. Schuljahr" ("im Jahr 1990. Danach" still ends a sentence)
    if bare.isdigit() and len(bare) <= 2:
        if next_word.strip(",.;:").lower() in ORDINAL_NOUNS:
            return True
        before = re.search(r"(\S+)\s+\S+$", text[:punct_start])
        if before and before.group(1).lower() in ORDINAL_LEAD and next_word[0].isupper():
            return True
    return False


def split_sentences(text: str, offset: int = 0) -> list[Sentence]:
    """Sentences of one paragraph; offsets are shifted by `offset`."""
    sentences: list[Sentence] = []
    start = 0
    for match in BOUNDARY.finditer(text):
        end = match.end(1)
        if _is_false_boundary(text, match.start(1), match.end(2)):
            continue
        if text[start:end].strip():
            sentences.append(_trimmed(text, start, end, offset))
        start = match.end(2)
    if text[start:].strip():
        sentences.append(_trimmed(text, start, len(text), offset))
    return sentences


def _trimmed(text: str, start: int, end: int, offset: int) -> Sentence:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Sentence(start + offset, end + offset)


def paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-empty line block; news text often uses single newlines between paragraphs."""
    spans = []
    for match in re.finditer(r"[^\n]+", text):
        if match.group(0).strip():
            spans.append((match.start(), match.end()))
    return spans


def split_article(article: Article, max_chars: int = 700) -> list[Passage]:
    text = article.text
    passages: list[Passage] = []

    def emit(group: list[Sentence]) -> None:
        start, end = group[0].start, group[-1].end
        passages.append(
            Passage(
                id=f"{article.id}#{len(passages)}",
                article_id=article.id,
                text=text[start:end],
                start=start,
                end=end,
                sentences=tuple(group),
            )
        )

    for p_start, p_end in paragraphs(text):
        sentences = split_sentences(text[p_start:p_end], p_start)
        group: list[Sentence] = []
        for sentence in sentences:
            if group and sentence.end - group[0].start > max_chars:
                emit(group)
                # one sentence of overlap keeps a pronoun next to the name it refers to
                group = [group[-1]] if sentence.end - group[-1].start <= max_chars else []
            group.append(sentence)
        if group:
            emit(group)
    return _merge_short(passages, text, max_chars)


def _merge_short(passages: list[Passage], text: str, max_chars: int, min_chars: int = 200) -> list[Passage]:
    """A lone headline or one-line paragraph joins the next passage so it is retrieved with its context."""
    merged: list[Passage] = []
    pending: Passage | None = None
    for passage in passages:
        if pending is not None:
            if passage.end - pending.start <= max_chars + min_chars:
                passage = Passage(
                    id="", article_id=passage.article_id, text=text[pending.start:passage.end], start=pending.start,
                    end=passage.end, sentences=pending.sentences + passage.sentences,
                )
            else:
                merged.append(pending)
            pending = None
        if len(passage.text) < min_chars:
            pending = passage
            continue
        merged.append(passage)
    if pending is not None:
        merged.append(pending)
    return [
        Passage(id=f"{p.article_id}#{i}", article_id=p.article_id, text=p.text, start=p.start, end=p.end,
                sentences=p.sentences)
        for i, p in enumerate(merged)
    ]
