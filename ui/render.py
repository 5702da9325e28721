"""HTML and export rendering for the chat page. Pure functions over plain dicts (Answer.to_dict()), so they are easy
to test and the session state stays JSON-serialisable.

Every piece of article or model text goes through html.escape: an article is data, never markup.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rag.types import OTHER_FIGURE_LABEL, markers

# An article lookup: article id -> full cleaned text (offsets point into it), or None if it is gone from the index.
ArticleText = Callable[[str], "str | None"]


def esc(text: object) -> str:
    return html.escape(str(text or ""), quote=True)


def _without_markers(note: str) -> str:
    """A note that ends with its citation markers, without them: the page puts links there instead."""
    return re.sub(r"\s*(?:\[\d+\])+\s*$", "", note)


# --- spans ---------------------------------------------------------------------------------------------------------

def passage_span(citation: Mapping[str, Any]) -> tuple[int, int] | None:
    """The quoted span as offsets into the citation's passage text, or None when it cannot be placed.

    start/end are offsets into the article; passage_start is where the passage begins in the article. If those do not
    agree with the passage text (an older index, a bad offset), fall back to finding the quote in the passage."""
    text = citation.get("text") or ""
    quote = citation.get("quote") or ""
    start = int(citation.get("start", 0)) - int(citation.get("passage_start", 0))
    end = int(citation.get("end", 0)) - int(citation.get("passage_start", 0))
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


def article_span(citation: Mapping[str, Any], article_text: str) -> tuple[int, int] | None:
    """The quoted span as offsets into the whole article text (checked against the quote)."""
    start, end = int(citation.get("start", 0)), int(citation.get("end", 0))
    quote = (citation.get("quote") or "").strip()
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


def refusal_label(answer: Mapping[str, Any]) -> str:
    """A held-back draft is not proof that the articles are silent: the label must not say they are."""
    return REFUSAL_LABELS.get(answer.get("refusal_kind") or "", "not in the articles")


def cite_marks(numbers: Sequence[int], turn: int, prefix: str = "ev") -> str:
    """[n] links that open citation n of this turn in the evidence panel."""
    return "".join(f'<a class="cite-ref" href="#{cite_anchor(turn, n, prefix)}" '
                   f'data-target="{cite_anchor(turn, n, prefix)}" title="open citation [{n}]">[{n}]</a>'
                   for n in numbers)


def render_sentences(answer: Mapping[str, Any], turn: int) -> str:
    """The checked answer: each sentence with its citation markers; unverified sentences marked and explained."""
    sentences = answer.get("sentences") or []
    if not sentences:
        return f'<span class="sent">{esc(answer.get("answer", ""))}</span>'
    known = {c["n"] for c in answer.get("citations") or []}
    parts = []
    for s in sentences:
        marks = cite_marks([n for n in s.get("citations") or [] if n in known], turn)
        differs = cite_marks([n for n in s.get("differs") or [] if n in known], turn)
        if differs:  # the answer states one figure; another article gives another
            marks += (f' <span class="differs" title="the reports differ: read both before using the figure">'
                      f'({esc(_without_markers(s.get("differs_note") or "⚠"))} {differs})</span>')
        text = s["text"]
        body = text.rstrip(".!?…") if marks else text  # markers go before the final punctuation, as in the answer text
        tail = text[len(body):]
        if s.get("supported"):
            check = s.get("model_check")
            how = "verified" + (f"; the model check gave {check:.2f} that the quote states it" if check is not None else "")
            if s.get("reason"):  # an edit newsrag made: a moved citation, a removed "unnamed"
                how += f"; {s['reason']}"
            if s.get("weak"):
                parts.append(f'<span class="sent verified weak" title="{esc("weak: " + how + "; read the quote")}">'
                             f'{esc(body)}{marks}{esc(tail)}<span class="badge badge-weak">weak</span></span>')
                continue
            parts.append(f'<span class="sent verified" title="{esc(how)}">{esc(body)}{marks}{esc(tail)}</span>')
        else:
            reason = s.get("reason") or "not supported by the cited passage"
            parts.append(
                f'<span class="sent unverified" title="unverified: {esc(reason)}"><span class="stext">{esc(body)}'
                f'</span>{marks}{esc(tail)}<span class="badge badge-unverified">unverified</span></span>'
            )
    return " ".join(parts)


def render_turn(turn: int, entry: Mapping[str, Any]) -> str:
    question = entry.get("question", "")
    answer = entry.get("answer")
    out = [f'<div class="turn" id="turn-{turn}">', f'<div class="msg user"><div class="bubble">{esc(question)}</div></div>']
    if answer is None:
        draft = entry.get("draft", "")
        status = entry.get("status", "")
        body = (f'<div class="draft" title="draft: being checked">{esc(draft)}<span class="cursor">▍</span></div>'
                if draft else "")
        out.append(f'<div class="msg bot pending"><div class="bubble"><div class="status-note">{esc(status)}</div>'
                   f'{body}</div></div>')
        if entry.get("error"):
            out.append(f'<div class="msg bot error"><div class="bubble">{esc(entry["error"])}</div></div>')
    else:
        standalone = answer.get("standalone_question") or ""
        rewritten = ""
        if standalone and standalone.strip() != question.strip():
            rewritten = f'<div class="standalone">Understood as: <q>{esc(standalone)}</q></div>'
        if answer.get("refused"):
            body = (f'<div class="refusal"><span class="badge badge-refused">{refusal_label(answer)}</span> '
                    f'{esc(answer.get("answer", ""))}<div class="reason">{esc(answer.get("refusal_reason", ""))}'
                    f'{" — see the closest passages in the evidence panel" if answer.get("closest") else ""}'
                    f'</div></div>')
        else:
            body = f'<div class="answer">{render_sentences(answer, turn)}</div>'
        meta = (f'<div class="meta">{esc(answer.get("backend", ""))} · {esc(answer.get("model", ""))} · '
                f'{float((answer.get("timings") or {}).get("total", 0)):.1f} s</div>')
        out.append(f'<div class="msg bot"><div class="bubble">{rewritten}{body}{meta}</div></div>')
    out.append("</div>")
    return "".join(out)


def render_chat(turns: Sequence[Mapping[str, Any]]) -> str:
    if not turns:
        return ('<div class="chat empty"><p>Ask a question about the articles, in English or German. '
                'Every sentence of an answer cites the passage that supports it; click a [n] to see it.</p></div>')
    return '<div class="chat">' + "".join(render_turn(i, t) for i, t in enumerate(turns, 1)) + "</div>"


# --- evidence panel ------------------------------------------------------------------------------------------------

def render_citation(citation: Mapping[str, Any], turn: int, article_text: ArticleText, *, kind: str = "ev",
                    open_: bool = False, label: str = "") -> str:
    n = citation["n"]
    anchor = cite_anchor(turn, n, kind)
    lang = esc(citation.get("language") or "")
    lang_attr = f' lang="{lang}"' if lang else ""
    meta = " · ".join(esc(x) for x in (citation.get("source") or "unknown source", citation.get("published") or "undated",
                                       citation.get("language") or "?"))
    url = citation.get("url") or ""
    link = ""
    if url.startswith(("http://", "https://")):
        # a link the reader may follow in their own browser; never fetched by the page
        link = f' · <a href="{esc(url)}" target="_blank" rel="noopener noreferrer nofollow">original</a>'
    quote = " ".join((citation.get("quote") or "").split())
    snippet = f"“{quote[:110]}{'…' if len(quote) > 110 else ''}”" if quote else ""
    passage_html = highlight(citation.get("text") or "", passage_span(citation))
    full = article_text(citation.get("article_id", ""))
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
        f'<span class="title"{lang_attr}>{esc(citation.get("title"))}</span>'
        f'<span class="snippet"{lang_attr}>{esc(snippet)}</span></summary>'
        f'<div class="cmeta">{meta} · <code>{esc(citation.get("article_id"))}</code>{link}</div>'
        f'<blockquote class="passage"{lang_attr}>{passage_html}</blockquote>'
        f"{full_html}</details>"
    )


def render_evidence(turns: Sequence[Mapping[str, Any]], article_text: ArticleText) -> str:
    """Citations of every finished answer, newest first; the newest is open."""
    blocks = []
    finished = [(i, t) for i, t in enumerate(turns, 1) if t.get("answer") is not None]
    for rank, (turn, entry) in enumerate(reversed(finished)):
        answer = entry["answer"]
        newest = rank == 0
        inner = []
        if answer.get("refused"):
            closest_note = CLOSEST_NOTES.get(answer.get("refusal_kind") or "", CLOSEST_NOTES["not_found"])
            draft = answer.get("sentences") or []
            draft_cites = sorted({n for s in draft for n in s.get("citations") or []})
            listed = (f"the passages the draft cites, {', '.join(f'[{n}]' for n in draft_cites)}, then the closest "
                      f"passages ({closest_note})" if draft_cites else f"the closest passages ({closest_note})")
            inner.append(f'<p class="refused-note">Not answered: {esc(answer.get("refusal_reason"))}. '
                         f"Listed below: {listed}.</p>")
            # the whole draft, verified sentences too: a draft is also held back when too few of them verify
            if any(not s.get("supported") for s in draft):
                inner.append('<div class="rejected"><p>The model\'s draft, held back (the reason is above):</p><ul>'
                             + "".join(f'<li><span class="sent {"verified" if s.get("supported") else "unverified"}">'
                                       f'{esc(s["text"])}</span>{" " * bool(s.get("citations"))}'
                                       f'{cite_marks(s.get("citations") or [], turn, "cl")} <span class="why">— '
                                       f'{"verified" if s.get("supported") else esc(s.get("reason"))}</span></li>'
                                       for s in draft)
                             + "</ul></div>")
            inner += [render_citation(c, turn, article_text, kind="cl") for c in answer.get("closest") or []]
        else:
            unverified = [s for s in answer.get("sentences") or [] if not s.get("supported")]
            if unverified:
                inner.append('<div class="unverified-list"><p>Unverified sentences:</p><ul>'
                             + "".join(f'<li>“{esc(s["text"])}” — {esc(s.get("reason"))}</li>' for s in unverified)
                             + "</ul></div>")
            inner += [render_citation(c, turn, article_text, open_=newest and c["n"] == 1,
                                      label=OTHER_FIGURE_LABEL if c.get("other_figure") else "")
                      for c in answer.get("citations") or []]
            if not answer.get("citations"):
                inner.append("<p>No citations.</p>")
        blocks.append(f'<section class="ev-turn{" newest" if newest else ""}" data-turn="{turn}">'
                      f'<h4>Q{turn}: {esc(entry.get("question"))}</h4>{"".join(inner)}</section>')
    if not blocks:
        return '<div class="evidence empty"><p>Citations appear here.</p></div>'
    return '<div class="evidence">' + "".join(blocks) + "</div>"


# --- export --------------------------------------------------------------------------------------------------------

def export_json(turns: Sequence[Mapping[str, Any]]) -> str:
    """The conversation with each answer's citations, quotes and article metadata."""
    out = []
    for entry in turns:
        answer = entry.get("answer")
        if answer is None:
            continue
        out.append({"question": entry.get("question", ""), "answer": answer})
    return json.dumps({"format": "newsrag-conversation/1", "turns": out}, ensure_ascii=False, indent=2)


def export_markdown(turns: Sequence[Mapping[str, Any]]) -> str:
    lines = ["# newsrag conversation", ""]
    for i, entry in enumerate(turns, 1):
        answer = entry.get("answer")
        if answer is None:
            continue
        lines += [f"## Q{i}: {entry.get('question', '')}", ""]
        standalone = answer.get("standalone_question") or ""
        if standalone and standalone != entry.get("question"):
            lines += [f"*Understood as:* {standalone}", ""]
        if answer.get("refused"):
            lines += [f"**{refusal_label(answer).capitalize()}.** {answer.get('answer', '')} ({answer.get('refusal_reason', '')})", ""]
            draft = answer.get("sentences") or []
            if draft:
                lines += ["The model's draft, held back:", ""]
                lines += [f"- {s['text']} {markers(s.get('citations') or [])} "
                          f"*({'verified' if s.get('supported') else 'unverified: ' + (s.get('reason') or '')})*"
                          for s in draft] + [""]
            sources = answer.get("closest") or []
            if sources:
                lines += ["Passages the draft cites, then the closest passages:" if draft else "Closest passages:", ""]
        else:
            for s in answer.get("sentences") or []:
                marks = markers(s.get("citations") or [])
                flag = (f" *({s['reason']})*" if s.get("reason") else "") if s.get("supported") else \
                    f" **(unverified: {s.get('reason', '')})**"
                if s.get("supported") and s.get("weak"):
                    flag += f" **(weak: the model check gave only {s.get('model_check') or 0:.2f})**"
                if s.get("differs"):
                    note = s.get("differs_note") or "the reports differ: " + markers(s["differs"])
                    flag += f" **({note})**"
                lines.append(f"- {s['text']} {marks}{flag}".rstrip())
            lines.append("")
            sources = answer.get("citations") or []
        for c in sources:
            meta = ", ".join(x for x in (c.get("source"), c.get("published"), c.get("language")) if x)
            label = f"*({OTHER_FIGURE_LABEL})* " if c.get("other_figure") else ""
            lines.append(f"[{c['n']}] {label}**{c.get('title', '')}** ({meta}; id `{c.get('article_id', '')}`"
                         f"{'; ' + c['url'] if c.get('url') else ''})")
            quote = (c.get("quote") or "").replace("\n", " ")
            lines += [f"> {quote}", ""]
        lines += [f"_{answer.get('backend', '')} · {answer.get('model', '')}_", ""]
    return "\n".join(lines)
