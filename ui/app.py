"""The chat page: a Gradio Blocks app over rag.answer.Assistant (the same pipeline as the CLI).

`newsrag serve` calls launch(settings). Tests call build_app(settings, assistant) and launch it themselves with
launch_options(settings) on a free port.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import re
import shutil
import signal
import tempfile
import threading
import time
import uuid
import weakref
from pathlib import Path
from typing import Any

from rag.config import Settings, set_offline_environment

set_offline_environment()  # before gradio is imported: analytics off


def _private_gradio_cache() -> None:
    """Gradio copies every file it serves (the exports, which hold the questions; uploads) into /tmp/gradio, readable
    by every user of the machine. A folder of this process's own (mode 700, removed at exit) keeps them private.
    Set before gradio is imported: some of its modules read the variable once."""
    if os.environ.get("GRADIO_TEMP_DIR"):
        return  # the admin chose a place
    folder = tempfile.mkdtemp(prefix="newsrag-gradio-")
    os.environ["GRADIO_TEMP_DIR"] = folder
    atexit.register(shutil.rmtree, folder, ignore_errors=True)


_private_gradio_cache()

import gradio as gr  # noqa: E402

from rag.answer import Assistant, QuestionTooLong, check_question_length  # noqa: E402
from rag.load import SUPPORTED_FORMATS, SUPPORTED_SUFFIXES  # noqa: E402
from rag.retrieve import Filters  # noqa: E402
from rag.store import IndexBusyError  # noqa: E402
from rag.types import Answer  # noqa: E402

from . import render  # noqa: E402
from .render import ChatTurn  # noqa: E402

# what the page did, for whoever runs the server: questions (by length unless NEWSRAG_LOG_QUESTIONS), uploads, removals
log = logging.getLogger("newsrag.page")


def log_refused_input(message: str) -> None:
    log.info("refused input: %s", message if len(message) <= 300 else message[:300] + "…")  # it quotes what was typed


def user_error(message: str) -> gr.Error:
    """An error for the reader's own input (a bad date, a pasted brief), logged as one line, without the traceback
    Gradio prints for a fault of the server."""
    log_refused_input(message)
    return gr.Error(message, print_exception=False)


def log_answer(settings: Settings, where: str, question: str, answer: Answer, turn: int) -> None:
    if answer.refused:
        outcome = f"refused ({answer.refusal_kind or 'not_found'})"
    else:
        verified, cited = sum(s.supported for s in answer.sentences), len(answer.citations)
        outcome = (f"answered, {verified} of {len(answer.sentences)} sentences verified, {cited} "
                   f"citation{'s' if cited != 1 else ''}")
    asked = repr(question) if settings.log_questions else f"{len(question)} characters"
    log.info("%s question (turn %d, %s): %s in %.1f s", where, turn, asked, outcome, answer.timings.get("total", 0.0))

LIBRARY_COLUMNS = ["id", "title", "source", "author", "date", "language", "passages", "near copy of"]

# Local fonts only: Gradio's default theme pulls IBM Plex / Inter from Google Fonts.
THEME = gr.themes.Default(
    font=[gr.themes.Font("system-ui"), gr.themes.Font("Segoe UI"), gr.themes.Font("Helvetica"), "sans-serif"],
    font_mono=[gr.themes.Font("ui-monospace"), gr.themes.Font("DejaVu Sans Mono"), "monospace"],
)

CSS = """
#nr-chat .chat { display: flex; flex-direction: column; gap: .6rem; max-height: 62vh; overflow-y: auto; padding: .25rem; }
#nr-chat .chat.empty, #nr-evidence .evidence.empty { color: var(--body-text-color-subdued); padding: .5rem; }
#nr-chat .msg { display: flex; }
#nr-chat .msg.user { justify-content: flex-end; }
#nr-chat .bubble { padding: .55rem .8rem; border-radius: .6rem; max-width: 92%; line-height: 1.55; }
#nr-chat .msg.user .bubble { background: var(--color-accent-soft); }
#nr-chat .msg.bot .bubble { background: var(--background-fill-secondary); border: 1px solid var(--border-color-primary); }
#nr-chat .msg.error .bubble { border-color: #c0392b; color: #c0392b; }
#nr-chat .draft { color: var(--body-text-color-subdued); font-style: italic; white-space: pre-wrap; }
#nr-chat .status-note { font-size: .85em; color: var(--body-text-color-subdued); }
#nr-chat .cursor { animation: nr-blink 1s step-end infinite; }
@keyframes nr-blink { 50% { opacity: 0; } }
#nr-chat .standalone { font-size: .85em; color: var(--body-text-color-subdued); margin-bottom: .3rem; }
#nr-chat .meta { font-size: .75em; color: var(--body-text-color-subdued); margin-top: .35rem; }
.sent.unverified .stext, .rejected .sent.unverified, .held-draft .sent.unverified { text-decoration: underline dotted #c0392b; text-decoration-thickness: 2px; text-underline-offset: 3px; }
.badge { display: inline-block; font-size: .7em; font-weight: 600; padding: 0 .4em; border-radius: .3em;
         margin-left: .3em; vertical-align: middle; }
.badge-unverified { background: #fdecea; color: #a93226; border: 1px solid #e6b0aa; }
.badge-weak { background: #fef9e7; color: #7d6608; border: 1px solid #f7dc6f; }
.differs { color: #7d6608; font-size: .9em; }
.citation .role { font-size: .75em; font-weight: 600; color: #7d6608; background: #fef9e7; border: 1px solid #f7dc6f;
                  border-radius: .3em; padding: 0 .35em; }
.badge-refused { background: #fef5e7; color: #9a5b00; border: 1px solid #f5cba7; }
#nr-chat .refusal .reason { font-size: .85em; color: var(--body-text-color-subdued); margin-top: .25rem; }
#nr-chat .held-draft { font-size: .9em; margin-top: .35rem; }
#nr-chat .held-draft > summary { cursor: pointer; }
#nr-chat .held-draft ul { margin: .25rem 0 0 1rem; padding: 0; }
#nr-chat .held-draft .why { font-size: .85em; color: var(--body-text-color-subdued); }
a.cite-ref { font-size: .75em; font-weight: 600; text-decoration: none; margin-left: .15em; cursor: pointer;
             vertical-align: super; }
#nr-chat a.cite-ref { padding: 0 !important; margin: 0 0 0 .12em !important; display: inline !important; }
#nr-evidence .evidence { max-height: 75vh; overflow-y: auto; }
#nr-evidence h4 { margin: .6rem 0 .3rem; font-size: .95em; }
#nr-evidence details.citation { border: 1px solid var(--border-color-primary); border-radius: .5rem;
                                padding: .4rem .6rem; margin: .35rem 0; }
#nr-evidence details.citation.flash { box-shadow: 0 0 0 3px var(--color-accent); }
#nr-evidence details.citation > summary { cursor: pointer; }
#nr-evidence .n { font-weight: 700; }
#nr-evidence .snippet { display: block; font-size: .8em; color: var(--body-text-color-subdued); margin-left: 1.1em; }
#nr-evidence .cmeta { font-size: .8em; color: var(--body-text-color-subdued); margin: .2rem 0; }
#nr-evidence blockquote.passage { white-space: pre-wrap; margin: .3rem 0; padding: .3rem .6rem;
                                  border-left: 3px solid var(--border-color-accent); font-size: .9em; }
#nr-evidence mark { background: #fff3a3; color: #222; padding: 0 .1em; }
#nr-evidence .article-text { white-space: pre-wrap; max-height: 40vh; overflow-y: auto; font-size: .88em;
                             padding: .4rem; background: var(--background-fill-secondary); border-radius: .4rem; }
#nr-evidence .full-article > summary { cursor: pointer; font-size: .85em; }
#nr-evidence .rejected, #nr-evidence .check-list li.unverified { font-size: .85em; color: #a93226; }
#nr-evidence .check-list { font-size: .85em; }
#nr-evidence .check-list ol { margin: .2rem 0 .4rem 1.2rem; padding: 0; }
#nr-evidence .check-list li.weak { color: #8a6d00; }
#nr-evidence .refused-note { font-size: .9em; }
#nr-status { font-size: .9em; }
"""

# Citation markers open and scroll to their evidence; opening a whole article scrolls to the marked span.
HEAD = """
<script>
(function () {
  function showMark(details) {
    var mark = document.getElementById(details.dataset.mark);
    if (mark) { mark.scrollIntoView({block: "center"}); }
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a.cite-ref") : null;
    if (!link) { return; }
    var target = document.getElementById(link.dataset.target);
    if (!target) { return; }
    event.preventDefault();
    target.open = true;
    target.scrollIntoView({behavior: "smooth", block: "start"});
    target.classList.add("flash");
    setTimeout(function () { target.classList.remove("flash"); }, 1500);
  }, true);
  // keep the newest turn in view while an answer streams in
  var chatHeight = 0;
  new MutationObserver(function () {
    var chat = document.querySelector("#nr-chat .chat");
    if (chat && chat.scrollHeight !== chatHeight) { chatHeight = chat.scrollHeight; chat.scrollTop = chat.scrollHeight; }
  }).observe(document.documentElement, {childList: true, subtree: true, characterData: true});
  document.addEventListener("toggle", function (event) {
    var d = event.target;
    if (d.classList && d.classList.contains("full-article") && d.open) { showMark(d); }
  }, true);
})();
</script>
"""


def upload_dir(settings: Settings) -> Path:
    return Path(settings.upload_dir) if settings.upload_dir else Path(settings.index_dir) / "uploads"


def parse_filters(sources: Any, languages: Any, date_from: Any, date_to: Any) -> Filters:
    return Filters(sources=tuple(sources or ()), languages=tuple(languages or ()),
                   date_from=(date_from or "").strip(), date_to=(date_to or "").strip())


def parse_history(history_json: str | None) -> list[tuple[str, str]]:
    """API history: [[question, answer], ...] or [{"question": ..., "answer": "..." | {"answer": ...}}, ...]."""
    if not history_json or not history_json.strip():
        return []
    data = json.loads(history_json)
    if isinstance(data, dict):
        data = data.get("turns", [])
    out = []
    for item in data:
        if isinstance(item, (list, tuple)) and len(item) == 2:
            out.append((str(item[0]), str(item[1])))
        elif isinstance(item, dict):
            answer = item.get("answer", "")
            if isinstance(answer, dict):
                answer = answer.get("answer", "")
            out.append((str(item.get("question", "")), str(answer)))
        else:
            raise ValueError("history must be a list of [question, answer] pairs")
    return out


def _remove_exports(export_dir: Path, stems: set[str]) -> None:
    shutil.rmtree(export_dir, ignore_errors=True)
    cache = Path(gr.utils.get_upload_folder())
    for stem in stems:  # each stem carries a random part: only this page's files, not another server's
        for copy in cache.glob(f"*/{stem}.*"):
            copy.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                copy.parent.rmdir()


class ChatPage:
    """The handlers; one per app, shared by all sessions. Session data lives only in gr.State."""

    def __init__(self, settings: Settings, assistant: Assistant) -> None:
        self.settings = settings
        self.assistant = assistant
        self.export_dir = Path(tempfile.mkdtemp(prefix="newsrag-export-"))
        self._near_copies: tuple[str | None, dict[str, str]] = (None, {})
        self._export_stems: set[str] = set()
        # transcripts are a newsroom's work: none stays on disk once the page is gone, neither ours nor the copies
        # Gradio serves them from (it deletes only some of those itself)
        self.remove_exports = weakref.finalize(self, _remove_exports, self.export_dir, self._export_stems)
        self._ingest_lock = threading.Lock()

    # --- helpers
    def article_text(self, article_id: str) -> str | None:
        info = self.assistant.index.articles.get(article_id)
        return info.text if info is not None else None

    def status_line(self, refresh: bool = False) -> str:
        try:
            self.assistant.index.reload_if_changed()
        except Exception:  # a half-written manifest while another process ingests: show the last one
            pass
        status = self.assistant.backend(refresh=refresh)
        articles = self.assistant.index.articles
        passages = sum(len(a.passage_ids) for a in articles.values())
        line = (f"Answering with **{status.backend}** · `{status.model}` · "
                f"{len(articles)} article{'s' if len(articles) != 1 else ''}, {passages} passages")
        if status.message:
            line += f"  \n⚠️ {status.message}"
        return line

    def history(self, turns: list[ChatTurn]) -> list[tuple[str, str]]:
        return [(t.question, t.answer.answer) for t in turns if t.answer is not None]

    def exports(self, turns: list[ChatTurn]) -> tuple[Any, Any]:
        # updates, not new buttons: a file the page's own button serves is one Gradio deletes with its cache
        if not any(t.answer is not None for t in turns):
            return gr.update(value=None, interactive=False), gr.update(value=None, interactive=False)
        stem = f"newsrag-chat-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        self._export_stems.add(stem)
        md = self.export_dir / f"{stem}.md"
        js = self.export_dir / f"{stem}.json"
        md.write_text(render.export_markdown(turns), encoding="utf-8")
        js.write_text(render.export_json(turns), encoding="utf-8")
        return gr.update(value=str(md), interactive=True), gr.update(value=str(js), interactive=True)

    def views(self, turns: list[ChatTurn]) -> tuple[str, str]:
        return render.render_chat(turns), render.render_evidence(turns, self.article_text)

    # --- chat
    def chat(self, question: str, turns: list[ChatTurn] | None, sources: Any, languages: Any, date_from: str,
             date_to: str):
        turns = list(turns or [])
        question = (question or "").strip()
        if not question:
            gr.Warning("Type a question first.")
            chat_html, evidence_html = self.views(turns)
            yield chat_html, evidence_html, turns, "", *self.exports(turns)
            return
        try:
            check_question_length(question, self.settings)  # before the turn is added: the text stays in the box
            filters = parse_filters(sources, languages, date_from, date_to)
        except ValueError as exc:
            # a toast, not gr.Error: Gradio's error badges stayed on the chat, the panel and the box after it
            log_refused_input(str(exc))
            gr.Warning(str(exc))
            chat_html, evidence_html = self.views(turns)
            yield chat_html, evidence_html, turns, question, *self.exports(turns)
            return
        history = self.history(turns)
        entry = ChatTurn(question, status="Waiting for the model…")
        turns.append(entry)
        no_update = gr.DownloadButton()
        yield render.render_chat(turns), gr.update(), turns, "", no_update, no_update
        last = time.monotonic()
        try:
            for event in self.assistant.ask_stream(question, history, None if filters.is_empty() else filters):
                if event.kind == "status":
                    entry.status = event.text
                elif event.kind == "token":
                    entry.draft += event.text
                    # the draft's [n] are the evidence's numbers; the checked answer numbers what it cites 1, 2, …
                    entry.status = ("Draft — checked against the articles when it is done; its [n] are renumbered "
                                    "then")
                elif event.answer is not None:
                    entry.answer = event.answer
                    break
                if time.monotonic() - last > 0.12 or event.kind == "status":
                    last = time.monotonic()
                    yield render.render_chat(turns), gr.update(), turns, "", no_update, no_update
        except Exception as exc:  # the page must survive a broken backend; say what happened
            entry.error = f"The question could not be answered: {exc}"
            entry.status = "failed"
            log.exception("question failed")
        if entry.answer is not None:
            entry.draft = entry.status = ""
            log_answer(self.settings, "page", question, entry.answer, len(turns))
        chat_html, evidence_html = self.views(turns)
        yield chat_html, evidence_html, turns, "", *self.exports(turns)

    def new_chat(self):
        turns: list[ChatTurn] = []
        chat_html, evidence_html = self.views(turns)
        return chat_html, evidence_html, turns, "", *self.exports(turns)

    def session(self, turns: list[ChatTurn] | None) -> dict:
        return json.loads(render.export_json(turns or []))

    # --- API
    def ask_api(self, question: str, history_json: str = "[]", filters_json: str = "{}") -> dict:
        """Answer one question. history_json: [[question, answer_text], ...]; filters_json:
        {"sources": [...], "languages": [...], "date_from": "YYYY-MM-DD", "date_to": "YYYY-MM-DD"}.
        Returns the Answer as a dict (answer, refused, sentences, citations, standalone_question, ...)."""
        try:
            history = parse_history(history_json)
            raw = json.loads(filters_json) if filters_json and filters_json.strip() else {}
            filters = parse_filters(raw.get("sources"), raw.get("languages"), raw.get("date_from"),
                                    raw.get("date_to"))
        except (ValueError, TypeError, AttributeError) as exc:
            raise user_error(f"bad request: {exc}") from exc
        if not (question or "").strip():
            raise user_error("empty question")
        try:
            answer = self.assistant.ask(question, history, None if filters.is_empty() else filters)
        except QuestionTooLong as exc:
            raise user_error(str(exc)) from exc
        log_answer(self.settings, "api", question, answer, len(history) + 1)
        return answer.to_dict()

    # --- library
    def library_rows(self) -> list[list[Any]]:
        self.assistant.index.reload_if_changed()
        from rag.ingest import NearCopies

        manifest = self.assistant.index.manifest
        if self._near_copies[0] != manifest.stamp:  # computed once per change of the index, not per view
            self._near_copies = (manifest.stamp, NearCopies(manifest, self.settings.near_copy_share).stored())
        copies = self._near_copies[1]
        rows = [[a.id, a.title, a.source, a.author, a.published, a.language, len(a.passage_ids), copies.get(a.id, "")]
                for a in self.assistant.index.articles.values()]
        return sorted(rows, key=lambda r: (r[4] or "", r[1]), reverse=True)

    def library_updates(self):
        rows = self.library_rows()
        articles = self.assistant.index.articles.values()
        sources = sorted({a.source for a in articles if a.source})
        languages = sorted({a.language for a in articles if a.language})
        ids = [(f"{a.title[:70]} ({a.id})", a.id) for a in articles]
        return (gr.Dataframe(value=rows), gr.Dropdown(choices=sources), gr.Dropdown(choices=languages),
                gr.Dropdown(choices=ids, value=[]), self.status_line())

    def ingest_files(self, files: list[str] | None, progress=gr.Progress()):
        from rag.ingest import ingest

        if not files:
            return ("Choose one or more files first.", *self.library_updates(), None)
        target = upload_dir(self.settings)
        target.mkdir(parents=True, exist_ok=True)
        copied, skipped = [], []
        for f in files:
            path = Path(f if isinstance(f, str) else getattr(f, "name", str(f)))
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                skipped.append(f"{path.name}: not one of {' '.join(SUPPORTED_FORMATS)}")
                continue
            name = re.sub(r"[^\w.\-]+", "_", path.name).lstrip(".") or f"upload{path.suffix}"
            dest = target / name
            shutil.copyfile(path, dest)
            copied.append(dest)
        if not copied:
            return ("Nothing to ingest.  \n" + "  \n".join(skipped), *self.library_updates(), None)

        def tick(done: int, total: int, path: str) -> None:
            progress((done, total), desc=f"ingesting {Path(path).name}")

        try:
            with self._ingest_lock:
                report = ingest(copied, self.settings, progress=tick)
        except IndexBusyError as exc:
            return (f"The index is busy (another ingest is running): {exc}", *self.library_updates(), None)
        self.assistant.index.reload_if_changed()
        stored = {Path(a.path).resolve() for a in self.assistant.index.articles.values() if a.path}
        for dest in copied:  # a copy that nothing came from (broken, or a duplicate) would only pile up in uploads
            if dest.resolve() not in stored:
                dest.unlink(missing_ok=True)
        lines = [f"**Ingested {len(copied)} file(s) in {report.seconds:.1f} s** — added {len(report.added)}, "
                 f"updated {len(report.updated)}, unchanged {len(report.unchanged)}, failed {len(report.failed)}; "
                 f"{report.passages_embedded} passages embedded."]
        lines += [f"- added `{a}`" for a in report.added] + [f"- updated `{a}`" for a in report.updated]
        lines += [f"- unchanged `{a}`" for a in report.unchanged]
        lines += [f"- failed {Path(f.path).name}: {f.reason}" for f in report.failed]
        lines += [f"- duplicate {Path(f.path).name}: {f.reason}" for f in report.duplicates]
        lines += [f"- near copy {Path(f.path).name}: {f.reason}" for f in report.near_copies]
        lines += [f"- moved `{m.id}`: same text, its file was {m.old_path}" for m in report.moved]
        lines += [f"- skipped {s}" for s in skipped]
        log.info("upload of %d file(s): added %d, updated %d, unchanged %d, failed %d, duplicates %d, skipped %d",
                 len(copied), len(report.added), len(report.updated), len(report.unchanged), len(report.failed),
                 len(report.duplicates), len(skipped))
        return ("\n".join(lines), *self.library_updates(), None)

    def remove_articles(self, ids: list[str] | None):
        from rag.ingest import remove

        ids = [i for i in (ids or []) if i]
        if not ids:
            return ("Choose the articles to remove.", *self.library_updates())
        paths = {i: self.assistant.index.articles[i].path for i in ids if i in self.assistant.index.articles}
        try:
            with self._ingest_lock:
                removed, unknown = remove(ids, self.settings)
        except IndexBusyError as exc:
            return (f"The index is busy (another ingest is running): {exc}", *self.library_updates())
        uploads = upload_dir(self.settings).resolve()
        for article_id in removed:  # an uploaded copy goes with its article
            path = Path(paths.get(article_id) or "")
            if path.name and path.resolve().parent == uploads and path.is_file():
                path.unlink()
        self.assistant.index.reload_if_changed()
        log.info("removed %d article(s): %s", len(removed), ", ".join(removed) or "-")
        msg = f"Removed {len(removed)}: {', '.join(removed) or '—'}"
        if unknown:
            msg += f"; not in the index: {', '.join(unknown)}"
        return (msg, *self.library_updates())

    @staticmethod
    def filters_note(sources: Any, languages: Any, date_from: str, date_to: str) -> str:
        try:
            described = parse_filters(sources, languages, date_from, date_to).describe()
        except ValueError as exc:
            return f"Filters: {exc}"
        return f"Filters: {described} (change them in the Library tab)" if described else "Filters: none"


def concurrency(assistant: Assistant) -> int:
    """The embedded model answers one question at a time; an Ollama server can take a few."""
    return assistant.settings.ollama_parallel if assistant.backend().backend == "ollama" else 1


def build_app(settings: Settings, assistant: Assistant | None = None) -> gr.Blocks:
    assistant = assistant or Assistant(settings)
    page = ChatPage(settings, assistant)
    limit = concurrency(assistant)

    # Gradio serves downloads from copies in its own cache: drop those a day old, and all of them at shutdown
    with gr.Blocks(title="newsrag", analytics_enabled=False, delete_cache=(3600, 86400)) as demo:
        state = gr.State([])
        with gr.Row():
            gr.Markdown("## newsrag — questions over the news articles, with checked citations")
        status = gr.Markdown(elem_id="nr-status")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        chat_html = gr.HTML(render.render_chat([]), elem_id="nr-chat")
                        with gr.Row():
                            question = gr.Textbox(placeholder="Ask about the articles (English or German)…",
                                                  show_label=False, scale=6, elem_id="nr-question", lines=1,
                                                  max_lines=4, submit_btn=False)
                            ask = gr.Button("Ask", variant="primary", scale=1, elem_id="nr-ask")
                        with gr.Row():
                            new = gr.Button("New chat", size="sm", elem_id="nr-new")
                            dl_md = gr.DownloadButton("Export Markdown", size="sm", interactive=False,
                                                      elem_id="nr-export-md")
                            dl_json = gr.DownloadButton("Export JSON", size="sm", interactive=False,
                                                        elem_id="nr-export-json")
                        filters_note = gr.Markdown("Filters: none", elem_id="nr-filters-note")
                    with gr.Column(scale=2):
                        gr.Markdown("### Evidence")
                        evidence_html = gr.HTML(render.render_evidence([], page.article_text), elem_id="nr-evidence")
            with gr.Tab("Library", id="library"):
                with gr.Accordion("Question filters", open=True):
                    with gr.Row():
                        f_sources = gr.Dropdown(label="Sources", multiselect=True, choices=[], elem_id="nr-f-sources")
                        f_languages = gr.Dropdown(label="Languages", multiselect=True, choices=[],
                                                  elem_id="nr-f-languages")
                        f_from = gr.Textbox(label="Published from (YYYY-MM-DD)", elem_id="nr-f-from")
                        f_to = gr.Textbox(label="Published to (YYYY-MM-DD)", elem_id="nr-f-to")
                with gr.Row():
                    with gr.Column(scale=2):
                        files = gr.File(label=f"Add articles ({' '.join(SUPPORTED_FORMATS)}; up to "
                                              f"{settings.max_upload_mb} MB each)", file_count="multiple",
                                        file_types=sorted(SUPPORTED_SUFFIXES), type="filepath", elem_id="nr-upload")
                        ingest_btn = gr.Button("Ingest the files", variant="primary", elem_id="nr-ingest")
                    with gr.Column(scale=2):
                        ingest_report = gr.Markdown(elem_id="nr-ingest-report")
                        remove_ids = gr.Dropdown(label="Remove articles", multiselect=True, choices=[],
                                                 elem_id="nr-remove-ids")
                        remove_btn = gr.Button("Remove the chosen articles", variant="stop", size="sm",
                                               elem_id="nr-remove")
                library = gr.Dataframe(headers=LIBRARY_COLUMNS, value=[], interactive=False, wrap=True,
                                       label="Articles in the index", elem_id="nr-library")
                refresh = gr.Button("Refresh", size="sm")
        # hidden: the session's conversation for API clients (/session)
        session_json = gr.JSON(visible=False)
        session_btn = gr.Button(visible=False)

        chat_outputs = [chat_html, evidence_html, state, question, dl_md, dl_json]
        filter_inputs = [f_sources, f_languages, f_from, f_to]
        gr.on([question.submit, ask.click], page.chat, inputs=[question, state, *filter_inputs],
              outputs=chat_outputs, api_name="chat", concurrency_id="answer", concurrency_limit=limit,
              show_progress="minimal")  # a queued question shows its place in the queue
        new.click(page.new_chat, outputs=chat_outputs, api_name="new_chat", queue=False)
        session_btn.click(page.session, inputs=[state], outputs=[session_json], api_name="session", queue=False)
        gr.api(page.ask_api, api_name="ask", concurrency_id="answer", concurrency_limit=limit)

        library_outputs = [library, f_sources, f_languages, remove_ids, status]
        gr.on([f.change for f in filter_inputs], page.filters_note, inputs=filter_inputs, outputs=filters_note,
              api_visibility="private", queue=False)
        ingest_btn.click(page.ingest_files, inputs=[files], outputs=[ingest_report, *library_outputs, files],
                         api_visibility="private", concurrency_id="library", concurrency_limit=1)
        remove_btn.click(page.remove_articles, inputs=[remove_ids], outputs=[ingest_report, *library_outputs],
                         api_visibility="private", concurrency_id="library", concurrency_limit=1)
        refresh.click(page.library_updates, outputs=library_outputs, api_visibility="private")
        demo.load(page.library_updates, outputs=library_outputs, api_visibility="private")

    demo.queue(max_size=128, default_concurrency_limit=2)
    demo.newsrag_page = page  # for tests
    return demo


def launch_options(settings: Settings) -> dict[str, Any]:
    """Safe launch settings: loopback by default, never a share link, optional login, bounded uploads, local fonts,
    nothing served from the index or upload folders."""
    user, password = settings.auth_user, settings.auth_password
    if bool(user) != bool(password):
        raise ValueError("set both NEWSRAG_AUTH_USER and NEWSRAG_AUTH_PASSWORD, or neither")
    return dict(
        server_name=settings.host,
        server_port=settings.port,
        share=False,
        auth=(user, password) if user else None,
        auth_message="newsrag: log in with the team account" if user else None,
        max_file_size=f"{settings.max_upload_mb}mb",
        allowed_paths=[],
        blocked_paths=[str(Path(settings.index_dir).resolve()), str(upload_dir(settings).resolve())],
        show_error=True,
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
        enable_monitoring=False,
        footer_links=["api"],
        theme=THEME,
        css=CSS,
        head=HEAD,
    )


def launch(settings: Settings) -> None:
    """Start the page and block (newsrag serve)."""
    set_offline_environment()
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s newsrag: %(message)s", "%Y-%m-%d %H:%M:%S"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    options = launch_options(settings)
    if settings.host not in ("127.0.0.1", "localhost", "::1") and not settings.auth_user:
        print(f"warning: serving on {settings.host} without a login; set NEWSRAG_AUTH_USER and "
              "NEWSRAG_AUTH_PASSWORD")
    assistant = Assistant(settings)
    demo = build_app(settings, assistant)
    # load the models and cache the checks' worked examples while the first page loads, not on the first question
    def warm_up() -> None:
        started = time.monotonic()
        try:
            assistant.warm_up()
            log.info("models ready in %.0f s", time.monotonic() - started)
        except Exception as exc:  # e.g. Ollama down: the status line and the first answer say so
            print(f"newsrag: the answer model is not ready: {exc}")

    articles = assistant.index.articles
    log.info("index %s: %d articles, %d passages, embedder %s; answers by the %s backend", settings.index_dir.resolve(),
             len(articles), sum(len(a.passage_ids) for a in articles.values()), assistant.embedder.name,
             settings.llm_backend)

    threading.Thread(target=warm_up, daemon=True, name="newsrag-warmup").start()
    # Gradio's own banner suggests share=True, which newsrag never uses: say where the page is instead, once it is up
    demo.launch(**options, quiet=True, prevent_thread_lock=True)
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    print(f"newsrag: the chat page is at http://{host}:{settings.port}/ "
          f"({'this computer only' if settings.host in ('127.0.0.1', 'localhost', '::1') else 'on the network'}; "
          "Ctrl+C stops it)", flush=True)
    # a service manager stops with SIGTERM: close as on Ctrl+C, so that the exported transcripts are deleted too
    signal.signal(signal.SIGTERM, _interrupt)
    demo.block_thread()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
