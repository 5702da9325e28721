"""The `newsrag` command as a user runs it (subprocess, real models)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import SAMPLE_ARTICLES

NEWSRAG = [sys.executable, "-m", "rag.cli"]


def run(args, index: Path, **env):
    environment = {**os.environ, "NEWSRAG_LLAMACPP_MODEL": "smollm2-135m", "NEWSRAG_LLM_BACKEND": "llamacpp", **env}
    return subprocess.run([*NEWSRAG, *args, "--index", str(index)], capture_output=True, text=True, env=environment,
                          timeout=300)


def test_ingest_articles_ask_remove(tmp_path):
    index = tmp_path / "index"
    broken = tmp_path / "broken.txt"
    broken.write_bytes(b"\xff\xfe\x00\x00garbage")
    result = run(["ingest", str(SAMPLE_ARTICLES), str(broken), "--json"], index)
    assert result.returncode == 3, result.stderr  # the rest went in, and the status says a file was skipped
    report = json.loads(result.stdout)
    assert report["added"] == ["russland-nordkorea-strategische-partnerschaft"]
    assert report["failed"][0]["path"] == str(broken)
    again = run(["ingest", str(SAMPLE_ARTICLES)], index)
    assert again.returncode == 0 and "unchanged 1, failed 0" in again.stdout
    status = " ".join(run(["status"], index).stdout.split())
    assert f"index: {index.resolve()} with 1 articles" in status and "MB on disk" in status
    assert "embedder use-multilingual-v3; last changed 20" in status
    folder = tmp_path / "folder"  # a photo next to an article is named, and is no failure
    folder.mkdir()
    (folder / "note.txt").write_text("Hafen\nVon Ute Kranz\n\nDie Fähre fährt ab Mai täglich um acht Uhr.",
                                     encoding="utf-8")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    (folder / "bote.rss").write_text(  # a feed item without text is reported by its place in the feed
        "<rss><channel><title>Bote</title><item><title>Fähre</title><description>Die Fähre nach Bregenz fährt wieder."
        "</description></item><item><title>Nur ein Titel</title></item></channel></rss>", encoding="utf-8")
    with_photo = run(["ingest", str(folder)], tmp_path / "index2")
    assert with_photo.returncode == 3 and "added 2, updated 0, unchanged 0, failed 1" in with_photo.stdout
    assert f"failed {folder / 'bote.rss'}[item 2]: no text (the item has a title only)" in with_photo.stdout
    assert "not read: 1 other file in the folders (.jpg 1;" in with_photo.stdout
    assert run(["ingest", str(broken)], index).returncode == 2
    assert any(line.split()[0] == "note" and line.endswith("Hafen (by Ute Kranz)")
               for line in run(["articles"], tmp_path / "index2").stdout.splitlines())

    plain = run(["articles"], index).stdout.splitlines()  # piped: one line per article, the id whole and first
    assert plain[0].split()[0] == "russland-nordkorea-strategische-partnerschaft" and "4 passages" in plain[0]
    listing = json.loads(run(["articles", "--json"], index).stdout)
    assert listing[0]["language"] == "de" and listing[0]["passages"] >= 4
    stored = json.loads(run(["show", "russland-nordkorea-strategische-partnerschaft", "--json"], index).stdout)
    assert stored["title"] in stored["text"] and "Lesen Sie auch" not in stored["text"]
    shown = run(["show", "russland-nordkorea-strategische-partnerschaft"], index)
    assert shown.stdout == stored["text"] + "\n" and stored["id"] in shown.stderr  # the header is not in the text
    unknown = run(["show", "no-such-article"], index)
    assert unknown.returncode == 1 and "no such article" in unknown.stderr

    asked = run(["ask", "What did the US offer Ukraine?", "--json"], index)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert set(answer) >= {"question", "answer", "refused", "sentences", "citations", "backend", "model", "timings"}
    for citation in answer["citations"]:
        assert set(citation) >= {"n", "article_id", "title", "passage_id", "text", "start", "end", "quote"}
        assert citation["quote"] in citation["text"]
        # the offsets point into the text `newsrag show` prints
        assert stored["text"][citation["start"]:citation["end"]] == citation["quote"]

    # a refusal under filters says which; a date the filter cannot read is an error, not a silent "no filter"
    filtered = run(["ask", "Who attended the Pyongyang meeting?", "--date-from", "2099-01-01"], index)
    assert filtered.returncode == 0 and "searched only published 2099-01-01" in filtered.stdout
    assert "undated articles left out" in filtered.stdout
    bad_date = run(["ask", "Who attended?", "--date-from", "yesterday"], index)
    assert bad_date.returncode == 1 and "2025-05-20" in bad_date.stderr
    brief = run(["ask", "Who attended the meeting? " * 50], index)  # a pasted brief, not a question
    assert brief.returncode == 1 and "the question is 1299 characters long" in " ".join(brief.stderr.split())

    human = run(["ask", "What is the best apple strudel recipe?"], index)
    assert "The articles do not say." in human.stdout

    # the streamed draft goes to stderr, labelled as unchecked; the checked answer to stdout
    drafted = run(["ask", "What did the US offer Ukraine?"], index, NEWSRAG_ANSWERABLE_MIN_YES="0",
                  NEWSRAG_MAX_ANSWER_TOKENS="24")
    assert drafted.returncode == 0, drafted.stderr
    assert "Draft, not yet checked against the articles (the checked" in drafted.stderr and "end of draft" in drafted.stderr
    assert "Draft" not in drafted.stdout and drafted.stdout.strip()

    removed = run(["remove", "russland-nordkorea-strategische-partnerschaft"], index)
    assert removed.returncode == 0 and "removed" in removed.stdout
    # its file is still in the folder: the next ingest would bring it back, and remove says so
    assert "the file it came from is still there" in " ".join(removed.stdout.split())
    assert json.loads(run(["articles", "--json"], index).stdout) == []
    assert run(["remove", "nope"], index).returncode == 1


def test_a_held_back_draft_is_listed_with_what_held_up_and_why():
    """The refusal alone said the model's sentences were unsupported, while one of them was verified: the reader gets
    the draft, sentence by sentence, as the page shows it."""
    from rag.cli import out, render_answer
    from rag.types import Answer, AnswerSentence, Citation

    answer = Answer(
        question="How many jobs, and how much is the contract worth?", answer="No answer could be checked …",
        refused=True, refusal_kind="unverified", backend="llamacpp", model="m", citations=[],
        refusal_reason="only 1 of the 2 sentences of the model's draft is supported by the passages they cite",
        sentences=[AnswerSentence("The contract is worth 31 million euros.", [2], True, model_check=0.91),
                   AnswerSentence("Nordwerk cuts [bold]310[/bold] jobs.", [4], False, "number 310 is not in passage [4]")])
    with out.capture() as captured:
        render_answer(answer)
    text = captured.get()
    assert "only 1 of the 2 sentences" in text and "The model's draft, held back:" in text
    assert "  The contract is worth 31 million euros. [2] ✓" in text
    # model text is printed as written, never read as console markup
    assert "  Nordwerk cuts [bold]310[/bold] jobs. [4] ✗ unverified: number 310 is not in passage [4]" in text

    # the passages a draft cites are listed under the numbers its reasons name, with the sentence it cited
    def passage(n, quote):
        text = f"Lindenstadt. {quote}\n\nMehr dazu später."  # a paragraph break prints as a space in the list
        return Citation(n=n, article_id=f"a{n}", title=f"Bericht {n}", passage_id=f"p{n}", text=text,
                        start=13, end=13 + len(quote), quote=quote)

    answer.sentences = [AnswerSentence("Nordwerk cuts 310 jobs.", [1], False, "number 310 is not in passage [1]")]
    answer.refusal_reason = "no sentence of the model's draft is supported [1]"  # printed as written, not as markup
    answer.closest = [passage(1, "Nordwerk streicht 300 Stellen."), passage(2, "Der Vertrag ist 31 Mio. wert.")]
    with out.capture() as captured:
        render_answer(answer)
    text = captured.get()
    assert "Passages the draft cites, then the closest passages:" in text
    assert "(no sentence of the model's draft is supported [1])" in text
    assert "  [1] Bericht 1 (a1): Nordwerk streicht 300 Stellen." in text
    assert "  [2] Bericht 2 (a2): Lindenstadt. Der Vertrag ist 31 Mio. wert. Mehr dazu später." in text


def test_a_sentence_whose_figure_another_article_gives_differently_says_so():
    from rag.cli import out, render_answer
    from rag.types import Answer, AnswerSentence, Citation

    def cited(n, other_figure=False):
        return Citation(n=n, article_id=f"a{n}", title=f"Bericht {n}", passage_id=f"a{n}#0", text="…", start=0, end=1,
                        quote=f"Quote {n}", other_figure=other_figure)

    answer = Answer(question="Wie viele?", answer="17 Menschen wurden verletzt [1] (…: [2]).", refused=False,
                    backend="llamacpp", model="m", citations=[cited(1), cited(2, other_figure=True)],
                    sentences=[AnswerSentence("17 Menschen wurden verletzt.", [1], True, differs=[2],
                                              differs_note="ein anderer Artikel nennt eine andere Zahl: [2]")])
    with out.capture() as captured:
        render_answer(answer)
    assert "17 Menschen wurden verletzt. [1] ✓ ⚠ ein anderer Artikel nennt eine andere Zahl: [2]" in captured.get()
    assert "[1] Bericht 1 (a1, undated)" in captured.get()
    assert "[2] (another article's figure, not a source of the answer) Bericht 2 (a2, undated)" in captured.get()
