"""HTML and export rendering for the chat page: pure functions over the chat's turns (ChatTurn, holding rag's Answer),
so they are easy to test.

Every piece of article or model text goes through html.escape: an article is data, never markup.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.types import OTHER_FIGURE_LABEL, Answer, AnswerSentence, Citation, markers

# An article lookup: article id -> full cleaned text (offsets point into it), or None if it is gone from the index.
ArticleText = Callable[[str], "str | None"]


@dataclass
class ChatTurn:
    """One question of a chat session and, once it is checked, its answer; until then the streamed draft."""
    question: str
    answer: Answer | None = None
    draft: str = ""
    status: str = ""  # what the pipeline is doing, shown above the draft
    error: str = ""  # why the question could not be answered (a broken backend), shown instead of an answer


def esc(text: object) -> str:
    return html.escape(str(text or ""), quote=True)


def _without_markers(note: str) -> str:
    """A note that ends with its citation markers, without them: the page puts links there instead."""
    return re.sub(r"\s*(?:\[\d+\])+\s*$", "", note)


# --- spans ---------------------------------------------------------------------------------------------------------

def passage_span(citation: Citation) -> tuple[int, int] | None:
    """The quoted span as offsets into the citation's passage text, or None when it cannot be placed.

    start/end are offsets into the article; passage_start is where the passage begins in the article. If those do not
    agree with the passage text (an older index, a bad offset), fall back to finding the quote in the passage."""
    text, quote = citation.text, citation.quote
    start, end = citation.start - citation.passage_start, citation.end - citation.passage_start
    if 0 <= start < end <= len(text) and (not quote or text[start:end].strip() == quote.strip()):
        return start, end
    if quote:
        found = text.find(quote.strip())
        if found >= 0:
            return found, found + len(quote.strip())
    return None


def highlight(text: str, span: tuple[int, int] | None, mark_id: str = "") -> str:
    """Escaped text with text[span] wrapped in <mark>."""
    if span is None:
        return esc(text)
    start, end = span
    if not (0 <= start < end <= len(text)):
        return esc(text)
    ident = f' id="{esc(mark_id)}"' if mark_id else ""
    return f"{esc(text[:start])}<mark{ident}>{esc(text[start:end])}</mark>{esc(text[end:])}"


def article_span(citation: Citation, article_text: str) -> tuple[int, int] | None:
    """The quoted span as offsets into the whole article text (checked against the quote)."""
    start, end = citation.start, citation.end
    quote = citation.quote.strip()
    if 0 <= start < end <= len(article_text) and (not quote or article_text[start:end].strip() == quote):
        return start, end
    if quote:
        found = article_text.find(quote)
        if found >= 0:
            return found, found + len(quote)
    return None


# --- one answer ----------------------------------------------------------------------------------------------------

def cite_anchor(turn: int, n: int, prefix: str = "ev") -> str:
    return f"{prefix}-{turn}-{n}"


REFUSAL_LABELS = {"unverified": "not verified", "no_answer": "no clear answer", "not_found": "not in the articles"}
# what the closest passages under a refusal are, by kind
CLOSEST_NOTES = {
    "unverified": "the answer may be in them, but the model's sentences did not hold up against them",
    "no_answer": "the model found no answer in them, which is a judgement: read them before concluding there is none",
    "not_found": "they do not answer the question",
}


def refusal_label(answer: Answer) -> str:
    """A held-back draft is not proof that the articles are silent: the label must not say they are."""
    return REFUSAL_LABELS.get(answer.refusal_kind, "not in the articles")


def cite_marks(numbers: Sequence[int], turn: int, prefix: str = "ev") -> str:
    """[n] links that open citation n of this turn in the evidence panel."""
    return "".join(f'<a class="cite-ref" href="#{cite_anchor(turn, n, prefix)}" '
                   f'data-target="{cite_anchor(turn, n, prefix)}" title="open citation [{n}]">[{n}]</a>'
                   for n in numbers)


def render_sentences(answer: Answer, turn: int) -> str:
    """The checked answer: each sentence with its citation markers; unverified sentences marked and explained."""
    if not answer.sentences:
        return f'<span class="sent">{esc(answer.answer)}</span>'
    known = {c.n for c in answer.citations}
    parts = []
    for s in answer.sentences:
        marks = cite_marks([n for n in s.citations if n in known], turn)
        differs = cite_marks([n for n in s.differs if n in known], turn)
        if differs:  # the answer states one figure; another article gives another
            marks += (f' <span class="differs" title="the reports differ: read both before using the figure">'
                      f'({esc(_without_markers(s.differs_note or "⚠"))} {differs})</span>')
        text = s.text
        body = text.rstrip(".!?…") if marks else text  # markers go before the final punctuation, as in the answer text
        tail = text[len(body):]
        if s.supported:
            how = check_text(s)
            if s.weak:
                parts.append(f'<span class="sent verified weak" title="{esc("weak: " + how + "; read the quote")}">'
                             f'{esc(body)}{marks}{esc(tail)}<span class="badge badge-weak">weak</span></span>')
                continue
            parts.append(f'<span class="sent verified" title="{esc(how)}">{esc(body)}{marks}{esc(tail)}</span>')
        else:
            reason = s.reason or "not supported by the cited passage"
            parts.append(
                f'<span class="sent unverified" title="unverified: {esc(reason)}"><span class="stext">{esc(body)}'
                f'</span>{marks}{esc(tail)}<span class="badge badge-unverified">unverified</span></span>'
            )
    return " ".join(parts)


def check_text(s: AnswerSentence) -> str:
    """How a sentence's check came out, in words: on hover over the sentence and in the evidence panel's list."""
    if not s.supported:
        return f"unverified: {s.reason or 'not supported by the cited passage'}"
    check = s.model_check
    how = "verified" + (f"; the model check gave {check:.2f} that the quote states it" if check is not None else "")
    if s.reason:  # an edit newsrag made: a moved citation, a removed "unnamed"
        how += f"; {s.reason}"
    return how


def _check_line(s: AnswerSentence, turn: int) -> str:
    kind = "unverified" if not s.supported else "weak" if s.weak else "verified"
    how = check_text(s)
    if s.weak:
        how = f"weak: {how}; read the quote"
    return (f'<li class="{kind}">“{esc(s.text)}” {cite_marks(s.citations, turn)} — {esc(how)}</li>')


def _draft_line(s: AnswerSentence, turn: int) -> str:
    """A sentence of a held-back draft, with its markers and whether it verified."""
    return (f'<li><span class="sent {"verified" if s.supported else "unverified"}">{esc(s.text)}</span>'
            f'{" " * bool(s.citations)}{cite_marks(s.citations, turn, "cl")} <span class="why">— '
            f'{"verified" if s.supported else esc(s.reason)}</span></li>')


def held_back_draft(answer: Answer, turn: int) -> str:
    """Under a refusal, the draft when some of it verified: the reader should not have to find a checked figure in
    the evidence panel. Folded, so that the refusal stays what the turn says."""
    verified = sum(s.supported for s in answer.sentences)
    if answer.refusal_kind != "unverified" or not verified:
        return ""
    return (f'<details class="held-draft"><summary>The draft, held back: {verified} of {len(answer.sentences)} '
            f'sentences verified</summary><ul>{"".join(_draft_line(s, turn) for s in answer.sentences)}</ul></details>')


def render_turn(turn: int, entry: ChatTurn) -> str:
    question, answer = entry.question, entry.answer
    out = [f'<div class="turn" id="turn-{turn}">', f'<div class="msg user"><div class="bubble">{esc(question)}</div></div>']
    if answer is None:
        body = (f'<div class="draft" title="draft: being checked">{esc(entry.draft)}<span class="cursor">▍</span></div>'
                if entry.draft else "")
        out.append(f'<div class="msg bot pending"><div class="bubble"><div class="status-note">{esc(entry.status)}'
                   f'</div>{body}</div></div>')
        if entry.error:
            out.append(f'<div class="msg bot error"><div class="bubble">{esc(entry.error)}</div></div>')
    else:
        standalone = answer.standalone_question
        rewritten = ""
        if standalone and standalone.strip() != question.strip():
            rewritten = f'<div class="standalone">Understood as: <q>{esc(standalone)}</q></div>'
        if answer.refused:
            body = (f'<div class="refusal"><span class="badge badge-refused">{refusal_label(answer)}</span> '
                    f'{esc(answer.answer)}<div class="reason">{esc(answer.refusal_reason)}'
                    f'{" — see the closest passages in the evidence panel" if answer.closest else ""}'
                    f'</div>{held_back_draft(answer, turn)}</div>')
        else:
            body = f'<div class="answer">{render_sentences(answer, turn)}</div>'
        meta = (f'<div class="meta">{esc(answer.backend)} · {esc(answer.model)} · '
                f'{answer.timings.get("total", 0.0):.1f} s</div>')
        out.append(f'<div class="msg bot"><div class="bubble">{rewritten}{body}{meta}</div></div>')
    out.append("</div>")
    return "".join(out)


def render_chat(turns: Sequence[ChatTurn]) -> str:
    if not turns:
        return ('<div class="chat empty"><p>Ask a question about the articles, in English or German. '
                'Every sentence of an answer cites the passage that supports it; click a [n] to see it.</p></div>')
    return '<div class="chat">' + "".join(render_turn(i, t) for i, t in enumerate(turns, 1)) + "</div>"


# --- evidence panel ------------------------------------------------------------------------------------------------

def render_citation(citation: Citation, turn: int, article_text: ArticleText, *, kind: str = "ev",
                    open_: bool = False, label: str = "") -> str:
    n = citation.n
    anchor = cite_anchor(turn, n, kind)
    lang = esc(citation.language)
    lang_attr = f' lang="{lang}"' if lang else ""
    byline = (f"by {citation.author}",) if citation.author else ()
    meta = " · ".join(esc(x) for x in (citation.source or "unknown source", *byline,
                                       citation.published or "undated", citation.language or "?"))
    url = citation.url
    link = ""
    if url.startswith(("http://", "https://")):
        # a link the reader may follow in their own browser; never fetched by the page
        link = f' · <a href="{esc(url)}" target="_blank" rel="noopener noreferrer nofollow">original</a>'
    quote = " ".join(citation.quote.split())
    snippet = f"“{quote[:110]}{'…' if len(quote) > 110 else ''}”" if quote else ""
    passage_html = highlight(citation.text, passage_span(citation))
    full = article_text(citation.article_id)
    if full is None:
        full_html = '<p class="gone">The whole article is no longer in the index.</p>'
    else:
        mark_id = f"{anchor}-mark"
        full_html = (f'<details class="full-article" data-mark="{mark_id}"><summary>Open the whole article at this '
                     f'passage</summary><div class="article-text"{lang_attr}>'
                     f'{highlight(full, article_span(citation, full), mark_id)}</div></details>')
    role = f'<span class="role">{esc(label)}</span> ' if label else ""
    return (
        f'<details class="citation" id="{anchor}"{" open" if open_ else ""}>'
        f'<summary><span class="n">[{n}]</span> {role}'
        f'<span class="title"{lang_attr}>{esc(citation.title)}</span>'
        f'<span class="snippet"{lang_attr}>{esc(snippet)}</span></summary>'
        f'<div class="cmeta">{meta} · <code>{esc(citation.article_id)}</code>{link}</div>'
        f'<blockquote class="passage"{lang_attr}>{passage_html}</blockquote>'
        f"{full_html}</details>"
    )


def render_evidence(turns: Sequence[ChatTurn], article_text: ArticleText) -> str:
    """Citations of every finished answer, newest first; the newest is open."""
    blocks = []
    finished = [(i, t, t.answer) for i, t in enumerate(turns, 1) if t.answer is not None]
    for rank, (turn, entry, answer) in enumerate(reversed(finished)):
        newest = rank == 0
        inner = []
        if answer.refused:
            closest_note = CLOSEST_NOTES.get(answer.refusal_kind, CLOSEST_NOTES["not_found"])
            draft = answer.sentences
            draft_cites = sorted({n for s in draft for n in s.citations})
            listed = (f"the passages the draft cites, {', '.join(f'[{n}]' for n in draft_cites)}, then the closest "
                      f"passages ({closest_note})" if draft_cites else f"the closest passages ({closest_note})")
            inner.append(f'<p class="refused-note">Not answered: {esc(answer.refusal_reason)}. '
                         f"Listed below: {listed}.</p>")
            # the whole draft, verified sentences too: a draft is also held back when too few of them verify
            if any(not s.supported for s in draft):
                inner.append('<div class="rejected"><p>The model\'s draft, held back (the reason is above):</p><ul>'
                             + "".join(_draft_line(s, turn) for s in draft) + "</ul></div>")
            inner += [render_citation(c, turn, article_text, kind="cl") for c in answer.closest]
        else:
            # every sentence's check in words, so that an analyst reads the model check's figure without hovering
            if answer.sentences:
                inner.append('<div class="check-list"><p>How each sentence was checked:</p><ol>'
                             + "".join(_check_line(s, turn) for s in answer.sentences) + "</ol></div>")
            inner += [render_citation(c, turn, article_text, open_=newest and c.n == 1,
                                      label=OTHER_FIGURE_LABEL if c.other_figure else "")
                      for c in answer.citations]
            if not answer.citations:
                inner.append("<p>No citations.</p>")
        blocks.append(f'<section class="ev-turn{" newest" if newest else ""}" data-turn="{turn}">'
                      f'<h4>Q{turn}: {esc(entry.question)}</h4>{"".join(inner)}</section>')
    if not blocks:
        return '<div class="evidence empty"><p>Citations appear here.</p></div>'
    return '<div class="evidence">' + "".join(blocks) + "</div>"


# --- export --------------------------------------------------------------------------------------------------------

def export_json(turns: Sequence[ChatTurn]) -> str:
    """The conversation with each answer's citations, quotes and article metadata (unanswered turns left out)."""
    out = [{"question": t.question, "answer": t.answer.to_dict()} for t in turns if t.answer is not None]
    return json.dumps({"format": "newsrag-conversation/1", "turns": out}, ensure_ascii=False, indent=2)


def _export_sentence(s: AnswerSentence) -> str:
    if not s.supported:
        flag = f" **(unverified: {s.reason})**"
    else:
        flag = f" *({s.reason})*" if s.reason else ""  # an edit newsrag made
        if s.weak:
            flag += f" **(weak: the model check gave only {s.model_check or 0:.2f})**"
    if s.differs:
        flag += f" **({s.differs_note or 'the reports differ: ' + markers(s.differs)})**"
    return f"- {s.text} {markers(s.citations)}{flag}".rstrip()


def export_markdown(turns: Sequence[ChatTurn]) -> str:
    lines = ["# newsrag conversation", ""]
    for i, entry in enumerate(turns, 1):
        answer = entry.answer
        if answer is None:
            continue
        lines += [f"## Q{i}: {entry.question}", ""]
        standalone = answer.standalone_question
        if standalone and standalone != entry.question:
            lines += [f"*Understood as:* {standalone}", ""]
        if answer.refused:
            lines += [f"**{refusal_label(answer).capitalize()}.** {answer.answer} ({answer.refusal_reason})", ""]
            draft = answer.sentences
            if draft:
                lines += ["The model's draft, held back:", ""]
                lines += [f"- {s.text} {markers(s.citations)} "
                          f"*({'verified' if s.supported else 'unverified: ' + s.reason})*" for s in draft] + [""]
            sources = answer.closest
            if sources:
                lines += ["Passages the draft cites, then the closest passages:" if draft else "Closest passages:", ""]
        else:
            lines += [_export_sentence(s) for s in answer.sentences] + [""]
            sources = answer.citations
        for c in sources:
            # as the page shows them: a missing source or date is said, not left out
            meta = ", ".join(x for x in (c.source or "unknown source", c.author and f"by {c.author}",
                                         c.published or "undated", c.language) if x)
            label = f"*({OTHER_FIGURE_LABEL})* " if c.other_figure else ""
            lines.append(f"[{c.n}] {label}**{c.title}** ({meta}; id `{c.article_id}`{'; ' + c.url if c.url else ''})")
            lines += [f"> {c.quote.replace(chr(10), ' ')}", ""]
        lines += [f"_{answer.backend} · {answer.model}_", ""]
    return "\n".join(lines)
