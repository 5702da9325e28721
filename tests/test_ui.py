"""The web page without a browser: HTML rendering, launch settings, and the Gradio API under concurrent sessions
(real index, embedder and SmolLM2 through gradio_client)."""

from __future__ import annotations

import json
import re
import shutil
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from rag.config import Settings
from rag.types import Answer, AnswerSentence, Citation
from ui import render
from ui.render import ChatTurn
from ui.app import ChatPage, build_app, launch_options, parse_filters, parse_history

# gradio's queue uses pandas options that pandas 3 deprecates; not ours to fix
pytestmark = [pytest.mark.filterwarnings("ignore:.*no_silent_downcasting.*"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]

ARTICLE = "Titel\n\nDer Minister <script>alert('x')</script> traf Choe Son Hui in Pjöngjang. Danach & später <b>nichts</b>."


def citation(**kw):
    quote = "traf Choe Son Hui in Pjöngjang."
    start = ARTICLE.index(quote)
    base = dict(n=1, article_id="a1", title="Titel <i>x</i>", passage_id="a1#0", text=ARTICLE[7:], start=start,
                end=start + len(quote), quote=quote, passage_start=7, passage_end=len(ARTICLE), source="Quelle",
                published="2025-05-20", language="de", url="javascript:alert(1)")
    base.update(kw)
    return Citation(**base)


# --- rendering ---------------------------------------------------------------------------------------------------

def test_passage_span_uses_article_offsets():
    c = citation()
    start, end = render.passage_span(c)
    assert c.text[start:end] == c.quote
    assert start == c.start - c.passage_start


def test_passage_span_falls_back_to_the_quote_when_offsets_are_wrong():
    c = citation(start=0, end=3)
    start, end = render.passage_span(c)
    assert c.text[start:end] == c.quote
    assert render.passage_span(citation(start=0, end=3, quote="not in the passage")) is None


def test_highlight_marks_exactly_the_span_and_escapes_everything():
    c = citation()
    out = render.highlight(c.text, render.passage_span(c), "m1")
    assert '<mark id="m1">traf Choe Son Hui in Pjöngjang.</mark>' in out
    assert "<script>" not in out and "<b>" not in out
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in out
    assert "Danach &amp; später &lt;b&gt;nichts&lt;/b&gt;." in out
    assert render.highlight("a<b", None) == "a&lt;b"


def test_citation_card_escapes_article_text_and_marks_the_span_in_the_whole_article():
    html = render.render_citation(citation(), 3, lambda article_id: ARTICLE if article_id == "a1" else None)
    assert "<script" not in html and "<i>" not in html
    assert 'id="ev-3-1"' in html
    assert html.count("<mark") == 2  # in the passage and in the whole article
    assert '<mark id="ev-3-1-mark">traf Choe Son Hui in Pjöngjang.</mark>' in html
    assert 'data-mark="ev-3-1-mark"' in html
    assert 'lang="de"' in html and "Quelle · 2025-05-20 · de" in html
    assert "javascript:" not in html  # only http(s) links to the original
    gone = render.render_citation(citation(), 3, lambda article_id: None)
    assert "no longer in the index" in gone and gone.count("<mark") == 1


def make_answer(**kw):
    base = dict(question="Wer?", answer="Choe Son Hui [1]. Erfunden.", refused=False, standalone_question="Wer?",
                sentences=[AnswerSentence(text="Choe Son Hui traf ihn.", citations=[1], supported=True, reason="",
                                          support=0.9, model_check=0.874),
                           AnswerSentence(text="Er sagte <script>x</script>.", citations=[1], supported=False,
                                          reason="'x' not in <passage> [1]", support=0.1)],
                citations=[citation()], closest=[], refusal_reason="", backend="llamacpp", model="m",
                timings={"total": 1.0})
    base.update(kw)
    return Answer(**base)


def test_answer_marks_unverified_sentences_with_reason_and_links_citations():
    turns = [ChatTurn("Wer <traf>?", make_answer())]
    html = render.render_chat(turns)
    assert "Wer &lt;traf&gt;?" in html and "<script" not in html
    assert html.count('class="sent verified"') == 1
    assert html.count('class="sent unverified"') == 1
    assert 'title="verified; the model check gave 0.87 that the quote states it"' in html
    assert html.count("badge-unverified") == 1
    assert 'title="unverified: &#x27;x&#x27; not in &lt;passage&gt; [1]"' in html
    assert html.count('href="#ev-1-1"') == 2
    evidence = render.render_evidence(turns, lambda _: ARTICLE)
    # each sentence's check in words, readable without hovering: the figure of the model check too
    checks = re.search(r'<div class="check-list">.*?</ol></div>', evidence).group(0)
    assert checks.count("<li") == 2
    assert '<li class="verified">“Choe Son Hui traf ihn.”' in checks and "the model check gave 0.87" in checks
    assert "unverified: &#x27;x&#x27; not in &lt;passage&gt; [1]" in checks
    assert '<details class="citation" id="ev-1-1" open>' in evidence  # the newest answer's first citation is open
    # an edit newsrag made to a verified sentence is on it too, in the page and in the export
    edited = make_answer()
    edited.sentences[0].reason = "newsrag removed 'unnamed': no passage says so"
    html = render.render_chat([ChatTurn("Wer?", edited)])
    assert "the quote states it; newsrag removed &#x27;unnamed&#x27;: no passage says so" in html
    assert "*(newsrag removed 'unnamed': no passage says so)*" in render.export_markdown(
        [ChatTurn("Wer?", edited)])
    # a sentence the model check passed only just is marked weak, in the page and in the export
    edited.sentences[0].weak, edited.sentences[0].model_check = True, 0.51
    html = render.render_chat([ChatTurn("Wer?", edited)])
    assert html.count('class="sent verified weak"') == 1 and html.count("badge-weak") == 1
    assert "the model check gave 0.51" in html
    assert "(weak: the model check gave only 0.51)" in render.export_markdown([ChatTurn("Wer?", edited)])


def test_follow_up_shows_the_rewritten_question_and_refusal_shows_closest_passages():
    refused = make_answer(question="und er?", standalone_question="Was sagte Rudenko?", refused=True,
                          answer="Die Artikel sagen das nicht.", refusal_reason="no passage bears on the question",
                          citations=[], closest=[citation(n=1)])
    turns = [ChatTurn("Wer?", make_answer()), ChatTurn("und er?", refused)]
    html = render.render_chat(turns)
    assert "Understood as: <q>Was sagte Rudenko?</q>" in html
    assert "badge-refused" in html and "no passage bears on the question" in html
    evidence = render.render_evidence(turns, lambda _: ARTICLE)
    assert evidence.index("Q2: und er?") < evidence.index("Q1: Wer?")  # newest first
    assert 'id="cl-2-1"' in evidence and "closest passages" in evidence
    # the held-back draft, with the sentence that verified and the one that did not, and why
    assert "The model's draft, held back (the reason is above):" in evidence
    assert ("Choe Son Hui traf ihn.</span> <a class=\"cite-ref\" href=\"#cl-2-1\" data-target=\"cl-2-1\" "
            "title=\"open citation [1]\">[1]</a> <span class=\"why\">— verified") in evidence
    assert "&#x27;x&#x27; not in &lt;passage&gt; [1]" in evidence
    # the draft's markers open the listed passage they name
    assert '<a class="cite-ref" href="#cl-2-1" data-target="cl-2-1"' in evidence
    assert "Listed below: the passages the draft cites, [1], then the closest passages" in evidence


def test_a_held_back_draft_is_labelled_not_verified_not_absent_from_the_articles():
    held = make_answer(refused=True, refusal_kind="unverified", citations=[], closest=[citation(n=1)],
                       answer="No answer could be checked against the articles.",
                       refusal_reason="only 1 of the 2 sentences of the model's draft is supported")
    absent = make_answer(refused=True, refusal_kind="not_found", citations=[], closest=[],
                         answer="The articles do not say.", refusal_reason="no passage bears on the question")
    judged = make_answer(refused=True, refusal_kind="no_answer", citations=[], closest=[citation(n=1)],
                         answer="The closest passages do not seem to answer this.",
                         refusal_reason="the model found that the evidence does not answer the question")
    html = render.render_chat([ChatTurn("a", held), ChatTurn("b", absent),
                               ChatTurn("c", judged)])
    assert html.count("not verified</span>") == 1 and html.count("not in the articles</span>") == 1
    assert html.index("not verified</span>") < html.index("not in the articles</span>")
    # the model's judgement over passages on the topic is not "not in the articles" either
    assert html.count("no clear answer</span>") == 1
    # the sentence that verified is in the chat, folded under the refusal, not only in the evidence panel; only a
    # draft held back for too few verified sentences is offered that way
    assert html.count('<details class="held-draft">') == 1
    assert ('<summary>The draft, held back: 1 of 2 sentences verified</summary><ul><li><span class="sent verified">'
            'Choe Son Hui traf ihn.</span> <a class="cite-ref" href="#cl-1-1"') in html
    judged_evidence = render.render_evidence([ChatTurn("c", judged)], lambda _: ARTICLE)
    assert "read them before concluding there is none" in judged_evidence
    evidence = render.render_evidence([ChatTurn("a", held)], lambda _: ARTICLE)
    assert "the answer may be in them" in evidence and "they do not answer the question" not in evidence
    markdown = render.export_markdown([ChatTurn("a", held)])
    assert "**Not verified.** No answer could be checked" in markdown and "Not in the articles" not in markdown


def test_streaming_draft_is_escaped_and_marked_as_draft():
    html = render.render_chat([ChatTurn("q", draft="<img src=x>", status="Writing…")])
    assert 'class="draft"' in html and "&lt;img src=x&gt;" in html and "<img" not in html


def test_exports_carry_citations_quotes_and_metadata():
    turns = [ChatTurn("Wer?", make_answer()), ChatTurn("pending")]
    data = json.loads(render.export_json(turns))
    assert [t["question"] for t in data["turns"]] == ["Wer?"]
    c = data["turns"][0]["answer"]["citations"][0]
    assert c["quote"] == "traf Choe Son Hui in Pjöngjang." and c["published"] == "2025-05-20"
    md = render.export_markdown(turns)
    assert "## Q1: Wer?" in md and "> traf Choe Son Hui in Pjöngjang." in md
    assert "(unverified: 'x' not in <passage> [1])" in md and "Quelle, 2025-05-20, de" in md
    bylined = make_answer(citations=[citation(author="Anna Schäfer")])
    assert "Quelle, by Anna Schäfer, 2025-05-20, de" in render.export_markdown([ChatTurn("Wer?", bylined)])
    assert "Quelle · by Anna Schäfer · 2025-05-20" in render.render_citation(citation(author="Anna Schäfer"), 1,
                                                                            lambda article_id: ARTICLE)


def test_the_server_log_has_a_line_per_question_without_its_text_and_no_traceback_for_input_errors(caplog, settings):
    from ui.app import log_answer, user_error

    caplog.set_level("INFO", logger="newsrag.page")
    log_answer(settings, "page", "Wer traf Choe Son Hui in Pjöngjang?", make_answer(), 2)
    log_answer(settings, "api", "Wie hoch?", make_answer(refused=True, refusal_kind="no_answer", sentences=[]), 1)
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["page question (turn 2, 35 characters): answered, 1 of 2 sentences verified, 1 citation in 1.0 s",
                     "api question (turn 1, 9 characters): refused (no_answer) in 1.0 s"]
    assert "Pjöngjang" not in caplog.text  # a question can be a story before it is published
    log_answer(settings.model_copy(update={"log_questions": True}), "page", "Wie hoch?", make_answer(), 1)
    assert "'Wie hoch?'" in caplog.records[-1].getMessage()
    error = user_error("Filters: date from must look like 2025-05-20, not '01.01.2030'")
    assert error.print_exception is False and caplog.records[-1].getMessage().startswith("refused input: Filters")


def test_exported_transcripts_leave_no_file_behind(tmp_path):
    page = ChatPage(Settings(index_dir=tmp_path / "index"), assistant=None)
    md, js = page.exports([ChatTurn("Wer?", make_answer())])
    files = sorted(page.export_dir.iterdir())
    assert [f.suffix for f in files] == [".json", ".md"] and all(f.stat().st_size > 0 for f in files)
    assert {md["value"], js["value"]} == {str(f) for f in files}
    page.remove_exports()  # runs when the page object goes, and at interpreter exit
    assert not page.export_dir.exists()
    # Gradio's served copies go to a folder only this user can read, not the shared /tmp/gradio
    import gradio as gr

    cache = Path(gr.utils.get_upload_folder())
    assert cache.name.startswith("newsrag-gradio-") and cache.stat().st_mode & 0o077 == 0


def test_parse_history_and_filters():
    assert parse_history('[["q", "a"]]') == [("q", "a")]
    assert parse_history('[{"question": "q", "answer": {"answer": "a"}}]') == [("q", "a")]
    assert parse_history("") == []
    with pytest.raises(ValueError):
        parse_history('["just a string"]')
    f = parse_filters(["Tagesschau"], ["de"], "2025-01-01", "")
    assert f.sources == ("Tagesschau",) and f.languages == ("de",) and f.date_from == "2025-01-01"
    assert parse_filters(None, None, "", "").is_empty()
    with pytest.raises(ValueError):
        parse_filters([], [], "20.05.2025", "")


def test_launch_options_are_safe_by_default(tmp_path):
    settings = Settings(index_dir=tmp_path / "index")
    options = launch_options(settings)
    assert options["server_name"] == "127.0.0.1" and options["share"] is False
    assert options["auth"] is None and options["max_file_size"] == "20mb"
    assert options["allowed_paths"] == [] and str((tmp_path / "index").resolve()) in options["blocked_paths"]
    assert options["ssr_mode"] is False and options["mcp_server"] is False
    team = launch_options(settings.with_overrides(host="0.0.0.0", auth_user="team", auth_password="s3cret",
                                                  max_upload_mb=5))
    assert team["auth"] == ("team", "s3cret") and team["max_file_size"] == "5mb"
    with pytest.raises(ValueError):
        launch_options(settings.with_overrides(auth_user="team"))
    theme = options["theme"]
    assert "system-ui" in str(theme.font) and "Plex" not in str(theme.font) + str(theme.font_mono)
    assert not any("googleapis" in str(sheet) for sheet in getattr(theme, "_stylesheets", []))


# --- the API, many sessions at once ----------------------------------------------------------------------------------

class Recorder:
    """The real Assistant, with a log of what each call was given."""

    def __init__(self, assistant) -> None:
        self._assistant = assistant
        self.calls: list[tuple[str, list[tuple[str, str]], object]] = []
        self._lock = threading.Lock()

    def __getattr__(self, name):
        return getattr(self._assistant, name)

    def ask_stream(self, question, history=(), filters=None):
        with self._lock:
            self.calls.append((question, [tuple(h) for h in history], filters))
        yield from self._assistant.ask_stream(question, history, filters)

    def ask(self, question, history=(), filters=None):
        for event in self.ask_stream(question, history, filters):
            if event.answer is not None:
                return event.answer
        raise RuntimeError("no answer")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(sample_index_dir, tmp_path_factory):
    from rag.answer import Assistant

    directory = tmp_path_factory.mktemp("ui") / "index"
    shutil.copytree(sample_index_dir, directory)
    settings = Settings(index_dir=directory, llm_backend="llamacpp", llamacpp_model="smollm2-135m",
                        max_answer_tokens=16, port=free_port())
    recorder = Recorder(Assistant(settings))
    demo = build_app(settings, recorder)
    options = launch_options(settings)
    options.update(prevent_thread_lock=True, quiet=True)
    demo.launch(**options)
    yield f"http://127.0.0.1:{settings.port}/", recorder, settings
    demo.close()


def test_twenty_sessions_at_once_keep_their_own_history(server):
    from gradio_client import Client

    url, recorder, _ = server
    n = 20
    # off-topic first questions: the evidence gate refuses them without the model, so the test stays fast;
    # the follow-ups go through the model (condense) with the session's own history
    first = {i: f"Wie hoch ist der Eiffelturm, Sitzung S{i:02d}X?" for i in range(n)}
    follow = {i: f"Und wie alt ist er, Sitzung S{i:02d}X?" for i in range(n)}

    def session(i: int) -> dict:
        client = Client(url, verbose=False)
        r1 = client.predict(first[i], [], [], "", "", api_name="/chat")
        r2 = client.predict(follow[i], [], [], "", "", api_name="/chat")
        return {"first_html": r1[0], "chat_html": r2[0], "evidence_html": r2[1], "cleared": r2[2],
                "session": client.predict(api_name="/session")}

    with ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(session, range(n)))

    for i, result in enumerate(results):
        turns = result["session"]["turns"]
        assert [t["question"] for t in turns] == [first[i], follow[i]]
        assert all(t["answer"]["model"] == "smollm2-135m" for t in turns)
        assert turns[0]["answer"]["refused"] and "no passage bears" in turns[0]["answer"]["refusal_reason"]
        assert result["cleared"] == ""  # the question box empties after asking
        html = result["chat_html"]
        assert first[i] in html and follow[i] in html and html.count('class="turn"') == 2
        others = [f"S{j:02d}X" for j in range(n) if j != i]
        assert not any(tag in html or tag in result["evidence_html"] for tag in others), f"session {i} leaked"
    # the pipeline got each session's own history, nobody else's
    calls = {q: (h, f) for q, h, f in recorder.calls}
    for i in range(n):
        assert calls[first[i]][0] == []
        history = calls[follow[i]][0]
        assert [q for q, _ in history] == [first[i]]
        assert history[0][1] == results[i]["session"]["turns"][0]["answer"]["answer"]


def test_ask_api_takes_history_and_filters(server):
    from gradio_client import Client

    url, recorder, _ = server
    client = Client(url, verbose=False)
    history = [["Who attended the Pyongyang meeting?", "Choe Son Hui and Andrej Rudenko [1]."]]
    answer = client.predict("Und wer war der Botschafter?", json.dumps(history), json.dumps({"languages": ["en"]}),
                            api_name="/ask")
    assert answer["question"] == "Und wer war der Botschafter?"
    assert answer["refused"] is True
    assert answer["refusal_reason"] == "no articles match the filters; searched only languages: en"
    assert answer["standalone_question"]
    question, got_history, filters = [c for c in recorder.calls if c[0] == "Und wer war der Botschafter?"][-1]
    assert got_history == [tuple(history[0])] and filters.languages == ("en",)

    answer = client.predict("Who attended the Pyongyang meeting?", "[]", json.dumps({"languages": ["de"]}),
                            api_name="/ask")
    assert answer["citations"] or answer["closest"]
    assert {c["article_id"] for c in answer["citations"] + answer["closest"]} == {
        "russland-nordkorea-strategische-partnerschaft"}
    with pytest.raises(Exception, match="date"):
        client.predict("x", "[]", json.dumps({"date_from": "yesterday"}), api_name="/ask")
    # a pasted brief is not a question: refused before any work, in the API and in the chat, which adds no turn
    brief = "Bitte fassen Sie zusammen, was über die Fähre nach Helgoland berichtet wurde. " * 20
    with pytest.raises(Exception, match=f"the question is {len(brief.strip())} characters long"):
        client.predict(brief, "[]", "{}", api_name="/ask")
    calls = len(recorder.calls)
    outputs = client.predict(brief, [], [], "", "", api_name="/chat")  # said in a toast; the text stays in the box
    assert brief.strip() in outputs
    assert len(recorder.calls) == calls and client.predict(api_name="/session")["turns"] == []


@pytest.mark.filterwarnings("ignore:The value passed into gr.Dropdown")  # an update, outside the page's Blocks
def test_uploads_that_nothing_came_from_are_not_kept(sample_index_dir, tmp_path):
    """The uploads folder kept every broken or duplicate upload; a copy of an article went in as a second article."""
    from rag.answer import Assistant

    directory = tmp_path / "index"
    shutil.copytree(sample_index_dir, directory)
    settings = Settings(index_dir=directory, llm_backend="llamacpp", llamacpp_model="smollm2-135m")
    page = ChatPage(settings, Assistant(settings))
    text = ("Neue Seilbahn eröffnet\n\nDie Bürgermeisterin eröffnete am Montag die neue Seilbahn in Innsbruck.\n"
            "Die Fahrt auf die Nordkette kostet für Erwachsene künftig 25 Euro.\n"
            "Die Bahn fährt täglich von acht bis achtzehn Uhr im Viertelstundentakt.\n")
    (tmp_path / "seilbahn.txt").write_text(text, encoding="utf-8")
    (tmp_path / "seilbahn-kopie.txt").write_text(text, encoding="utf-8")
    (tmp_path / "leer.txt").write_text("  \n", encoding="utf-8")
    report = page.ingest_files([str(tmp_path / n) for n in ("seilbahn.txt", "seilbahn-kopie.txt", "leer.txt")],
                               progress=lambda *args, **kwargs: None)[0]
    assert "- added `seilbahn`" in report and "- failed leer.txt: empty file" in report
    assert "- duplicate seilbahn-kopie.txt: the same text as article 'seilbahn'" in report
    assert sorted(p.name for p in (directory / "uploads").iterdir()) == ["seilbahn.txt"]
    # a changed version under another name goes in, is said, and the library marks it
    (tmp_path / "seilbahn-neu.txt").write_text(text.replace("25 Euro", "27 Euro") + "Kinder fahren künftig gratis "
                                               "mit, teilte die Betreibergesellschaft mit.\n", encoding="utf-8")
    report = page.ingest_files([str(tmp_path / "seilbahn-neu.txt")], progress=lambda *args, **kwargs: None)[0]
    assert "- near copy seilbahn-neu.txt: shares 2 of its 4 sentences with article 'seilbahn'" in report, report
    marked = {row[0]: row[-1] for row in page.library_rows()}
    assert marked["seilbahn-neu"] == "seilbahn" and marked["seilbahn"] == "seilbahn-neu"
    assert marked["russland-nordkorea-strategische-partnerschaft"] == ""


def test_server_does_not_serve_index_files(server):
    url, _, settings = server
    manifest = (Path(settings.index_dir) / "manifest.json").resolve()
    assert manifest.exists()
    for path in (f"gradio_api/file={manifest}", f"file={manifest}"):
        response = httpx.get(url + path, timeout=10)
        assert response.status_code in (403, 404), (path, response.status_code)
        assert "passages" not in response.text


def test_login_is_required_when_configured(server, tmp_path):
    from gradio_client import Client

    _, recorder, settings = server
    team = settings.with_overrides(port=free_port(), auth_user="team", auth_password="s3cret")
    demo = build_app(team, recorder)
    options = launch_options(team)
    options.update(prevent_thread_lock=True, quiet=True)
    demo.launch(**options)
    try:
        url = f"http://127.0.0.1:{team.port}/"
        assert httpx.get(url + "config", timeout=10).status_code in (401, 403)
        with pytest.raises(Exception):
            Client(url, verbose=False, auth=("team", "wrong"))
        client = Client(url, verbose=False, auth=("team", "s3cret"))
        answer = client.predict("Wie hoch ist der Eiffelturm?", "[]", "{}", api_name="/ask")
        assert answer["refused"] is True
    finally:
        demo.close()


def test_serve_stopped_by_sigterm_leaves_no_transcript_behind(sample_index_dir, tmp_path):
    """A service manager stops the page with SIGTERM; the chat's exports must not stay in the temp folder."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from gradio_client import Client

    index = tmp_path / "index"
    shutil.copytree(sample_index_dir, index)
    temp = tmp_path / "temp"
    temp.mkdir()
    port = free_port()
    env = {**os.environ, "TMPDIR": str(temp), "GRADIO_TEMP_DIR": str(temp / "gradio"), "NEWSRAG_PORT": str(port),
           "NEWSRAG_LLM_BACKEND": "llamacpp", "NEWSRAG_LLAMACPP_MODEL": "smollm2-135m"}
    server = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--index", str(index)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                client = Client(f"http://127.0.0.1:{port}/", verbose=False)
                break
            except Exception:
                time.sleep(1)
        else:
            raise AssertionError("the page did not come up")
        # an off-topic question: refused at the evidence gate, but a turn all the same, so the exports are written
        client.predict("Wie hoch ist der Eiffelturm?", [], [], "", "", api_name="/chat")
        written = [p for p in temp.rglob("newsrag-chat-*") if p.is_file()]
        assert written, "the chat wrote no export to remove"
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) is not None
    finally:
        if server.poll() is None:
            server.kill()
    log = server.stdout.read()
    assert not [p for p in temp.rglob("newsrag-chat-*") if p.is_file()], log
    # the admin's log: what was served, and one line for the question, without its text
    assert f"newsrag: index {index.resolve()}: 1 articles" in log, log
    assert "newsrag: page question (turn 1, 28 characters): refused (not_found)" in log, log
    assert "Eiffelturm" not in log


def test_a_figure_another_article_gives_differently_is_shown_with_a_link_to_it():
    answer = make_answer(sentences=[AnswerSentence(text="17 Menschen wurden verletzt.", citations=[1], supported=True,
                                                   support=0.9, model_check=0.9, differs=[2],
                                                   differs_note="ein anderer Artikel nennt eine andere Zahl: [2]")],
                         citations=[citation(), citation(n=2, article_id="a2", other_figure=True)])
    html = render.render_chat([ChatTurn("Wie viele?", answer)])
    # the note is in the answer's language, as in the answer text, with a link in place of its marker
    assert ('(ein anderer Artikel nennt eine andere Zahl: <a class="cite-ref" href="#ev-1-2" data-target="ev-1-2" '
            'title="open citation [2]">[2]</a>)</span>.') in html
    evidence = render.render_evidence([ChatTurn("Wie viele?", answer)], lambda _: ARTICLE)
    assert 'id="ev-1-2"' in evidence  # the other report is listed like a citation, so the link opens it
    # but labelled: it backs no sentence of the answer
    labels = re.findall(r'<span class="n">\[(\d)\]</span> (<span class="role">[^<]*</span>)?', evidence)
    assert labels == [("1", ""), ("2", '<span class="role">another article&#x27;s figure, not a source of the answer'
                                        '</span>')]
    md = render.export_markdown([ChatTurn("Wie viele?", answer)])
    assert "- 17 Menschen wurden verletzt. [1] **(ein anderer Artikel nennt eine andere Zahl: [2])**" in md
    assert "[2] *(another article's figure, not a source of the answer)* **" in md
    assert "[1] **" in md
    # a later report: the page and the export say so, with its date
    answer.sentences[0].newer_report = "2025-06-05"
    answer.sentences[0].differs_note = "ein späterer Artikel (2025-06-05) nennt eine andere Zahl: [2]"
    html = render.render_chat([ChatTurn("Wie viele?", answer)])
    assert '(ein späterer Artikel (2025-06-05) nennt eine andere Zahl: <a class="cite-ref"' in html
    md = render.export_markdown([ChatTurn("Wie viele?", answer)])
    assert "[1] **(ein späterer Artikel (2025-06-05) nennt eine andere Zahl: [2])**" in md
    # without its note (the pipeline writes one; the export does not rely on it) it still says what the numbers are
    answer.sentences[0].differs_note = ""
    md = render.export_markdown([ChatTurn("Wie viele?", answer)])
    assert "[1] **(the reports differ: [2])**" in md
