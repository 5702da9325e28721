import json
import multiprocessing
import time
from pathlib import Path

import pytest

from rag.embed import get_embedder
from rag.ingest import ingest, remove
from rag.store import IndexBusyError, NewsIndex, write_lock


class CountingEmbedder:
    """The real embedder, counting the passages it was asked to embed."""

    def __init__(self, inner):
        self.inner = inner
        self.name = inner.name
        self.count = 0

    def embed_passages(self, texts):
        self.count += len(texts)
        return self.inner.embed_passages(texts)

    def embed_queries(self, texts):
        return self.inner.embed_queries(texts)


@pytest.fixture
def counting(monkeypatch, settings):
    counter = CountingEmbedder(get_embedder(settings))
    monkeypatch.setattr("rag.ingest.get_embedder", lambda s: counter)
    return counter


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


ARTICLE_A = "Hafen eröffnet\n\nDie Stadt Lindau eröffnete am Montag einen neuen Hafen. Bürgermeisterin Petra Vogt hielt eine Rede.\nDer Hafen kostete zwölf Millionen Euro."
ARTICLE_B = "Brücke gesperrt\n\nDie alte Brücke in Bregenz ist seit Dienstag gesperrt. Ingenieure fanden Risse im Beton."


def test_bad_files_are_reported_and_the_rest_goes_in(tmp_path, settings, counting):
    docs = tmp_path / "docs"
    write(docs / "good.txt", ARTICLE_A)
    write(docs / "binary.txt", b"\x00\x01\x02PNG\x00" * 50)
    write(docs / "latin1.txt", "Titel\n\nStra\xdfe".encode("latin-1"))
    write(docs / "empty.md", "   \n")
    write(docs / "feed.jsonl", "\n".join([
        json.dumps({"id": "feed-1", "title": "Brücke", "text": ARTICLE_B, "source": "Bote", "published": "2025-05-20"}),
        "{not json",
        json.dumps({"id": "feed-2", "title": "Leer"}),
    ]))
    write(docs / "scan.pdf", b"%PDF-1.4 not read")
    write(docs / ".hidden" / "notes.docx", b"not listed")
    write(docs / ".stversions" / "good~20250101.txt", ARTICLE_A.replace("zwölf", "elf"))  # a sync tool's old copy
    report = ingest([docs], settings)
    assert sorted(report.added) == ["feed-1", "good"]
    assert report.other_files == [str(docs / "scan.pdf")]  # said, not passed over; not a failure either
    reasons = {Path(f.path.split(":")[0]).name: f.reason for f in report.failed}
    assert "binary" in reasons["binary.txt"]
    assert "UTF-8" in reasons["latin1.txt"]
    assert "empty" in reasons["empty.md"]
    assert {f.path for f in report.failed} >= {f"{docs / 'feed.jsonl'}:2", f"{docs / 'feed.jsonl'}:3"}
    broken_line = next(f.reason for f in report.failed if f.path.endswith("feed.jsonl:2"))
    assert broken_line.startswith("invalid JSON (") and "at column 2" in broken_line  # where to look, not only what
    index = NewsIndex(settings)
    assert set(index.articles) == {"good", "feed-1"}
    assert index.articles["feed-1"].source == "Bote"
    assert index.articles["feed-1"].published == "2025-05-20"
    assert counting.count == report.passages_embedded == len(index.manifest.passages)
    assert index.vectors.all_ids() == set(index.manifest.passages)


def test_reingest_unchanged_embeds_nothing_changed_replaces_remove_deletes(tmp_path, settings, counting):
    a = write(tmp_path / "docs" / "hafen.txt", ARTICLE_A)
    write(tmp_path / "docs" / "bruecke.txt", ARTICLE_B)
    first = ingest([tmp_path / "docs"], settings)
    assert len(first.added) == 2
    embedded = counting.count

    again = ingest([tmp_path / "docs"], settings)
    assert again.unchanged == ["bruecke", "hafen"] or sorted(again.unchanged) == ["bruecke", "hafen"]
    assert again.passages_embedded == 0 and counting.count == embedded

    old_ids = set(NewsIndex(settings).articles["hafen"].passage_ids)
    write(a, ARTICLE_A.replace("zwölf", "dreizehn"))
    changed = ingest([tmp_path / "docs"], settings)
    assert changed.updated == ["hafen"] and changed.unchanged == ["bruecke"]
    index = NewsIndex(settings)
    new_ids = set(index.articles["hafen"].passage_ids)
    assert counting.count - embedded == len(new_ids) == changed.passages_embedded
    assert not old_ids & index.vectors.all_ids()  # old vectors are gone
    assert "dreizehn" in index.articles["hafen"].text

    removed, unknown = remove(["hafen", "nope"], settings)
    assert removed == ["hafen"] and unknown == ["nope"]
    index = NewsIndex(settings)
    assert set(index.articles) == {"bruecke"}
    assert index.vectors.all_ids() == set(index.manifest.passages)
    assert all(pid in index.manifest.passages for pid in index.lexical.ids)


def test_a_new_way_of_cutting_redoes_an_unchanged_article(tmp_path, settings, counting):
    """Same text, cut differently (another splitter version or passage size): the stored offsets would be stale."""
    body = " ".join(f"Am {n}. Mai legte im Hafen von Lindau das Schiff Nummer {n} mit Gästen an." for n in range(1, 13))
    write(tmp_path / "hafen.txt", "Hafen eröffnet\n\n" + body)
    ingest([tmp_path / "hafen.txt"], settings)
    old_ids = set(NewsIndex(settings).articles["hafen"].passage_ids)
    assert ingest([tmp_path / "hafen.txt"], settings).unchanged == ["hafen"]

    smaller = settings.with_overrides(passage_max_chars=250)
    report = ingest([tmp_path / "hafen.txt"], smaller)
    assert report.updated == ["hafen"] and report.passages_embedded > 0, report
    index = NewsIndex(smaller)
    new_ids = index.articles["hafen"].passage_ids
    assert len(new_ids) > len(old_ids) and not old_ids & set(new_ids)
    assert index.vectors.all_ids() == set(new_ids) == set(index.manifest.passages)
    assert ingest([tmp_path / "hafen.txt"], smaller).unchanged == ["hafen"]


def test_same_file_name_in_two_folders_does_not_replace_the_other_article(tmp_path, settings):
    write(tmp_path / "2024" / "bericht.txt", ARTICLE_A)
    write(tmp_path / "2025" / "bericht.txt", ARTICLE_B)
    assert ingest([tmp_path / "2024"], settings).added == ["bericht"]
    clash = ingest([tmp_path / "2025"], settings)
    assert clash.added == clash.updated == [] and len(clash.failed) == 1
    assert "already taken by" in clash.failed[0].reason and "2024" in clash.failed[0].reason
    assert "zwölf Millionen" in NewsIndex(settings).articles["bericht"].text  # the first article is intact
    # a file that moved (the old one is gone) is the same article, updated
    (tmp_path / "2024" / "bericht.txt").unlink()
    moved = ingest([tmp_path / "2025"], settings)
    assert moved.updated == ["bericht"] and "Bregenz" in NewsIndex(settings).articles["bericht"].text


def test_an_html_page_headline_is_not_repeated_in_the_text(tmp_path):
    from rag.load import load_paths

    page = ("<html><head><title>Bibliothek wieder offen</title></head><body><nav>Start | Sport</nav><article>"
            "<h1>Bibliothek wieder offen</h1><p>Die Stadtbibliothek Lindau öffnete am 20. März 2025 wieder, fünf "
            "Monate nach dem Hochwasser, das 18.000 Bücher beschädigt hatte.</p><p>Die Sanierung kostete 640.000 "
            "Euro, wovon das Land 400.000 Euro trug. Der neue Lesesaal hat 60 Plätze.</p></article></body></html>")
    write(tmp_path / "bibliothek.html", page)
    (article,) = list(load_paths([tmp_path / "bibliothek.html"]))
    assert article.title == "Bibliothek wieder offen"
    assert article.text.count("Bibliothek wieder offen") == 1
    assert article.text.startswith("Bibliothek wieder offen\n\nDie Stadtbibliothek Lindau")


def test_a_text_file_takes_its_date_from_the_dateline_that_opens_it(tmp_path):
    """A .txt article that opens "Lindenstadt, 14. März 2025." was listed as undated: its citations showed no date
    and a date filter left it out."""
    from rag.load import load_paths

    write(tmp_path / "brand.txt", "Großbrand im Hafen\nLindenstadt, 14. März 2025. Bei einem Großbrand wurden zwölf "
                                  "Menschen verletzt.")
    write(tmp_path / "fire.md", "# Harbour fire\n\nLINDENSTADT, March 15, 2025 — Seventeen people were injured.")
    # a date inside the first sentence is the event's, not the article's
    write(tmp_path / "event.txt", "Hafenfest\nAm 3. Mai 2024 feierte die Stadt ihr Hafenfest.")
    articles = {a.id: a for a in load_paths([tmp_path])}
    assert articles["brand"].published == "2025-03-14"
    assert articles["fire"].published == "2025-03-15"
    assert articles["event"].published == ""


def test_an_html_page_without_site_metadata_takes_its_source_from_the_title_tag(tmp_path):
    from rag.load import load_paths

    body = ("<body><article><h1>Harbor bridge reopens</h1><p>The harbor bridge in Valley Town reopened on Monday after "
            "two years of repairs, the city said.</p><p>The repairs cost 12 million dollars, and traffic resumed at "
            "noon.</p></article></body></html>")
    write(tmp_path / "bridge.html", "<html><head><title>Harbor bridge reopens | The Valley Courier</title></head>" + body)
    write(tmp_path / "meta.html", '<html><head><title>Harbor bridge reopens - Valley Courier</title>'
                                  '<meta property="og:site_name" content="Valley Courier Online"></head>' + body)
    write(tmp_path / "plain.html", "<html><head><title>Harbor bridge reopens</title></head>" + body)
    articles = {a.id: a for a in load_paths([tmp_path])}
    assert articles["bridge"].title == "Harbor bridge reopens" and articles["bridge"].source == "The Valley Courier"
    assert articles["meta"].source == "Valley Courier Online"  # the page's own site name comes first
    assert articles["plain"].source == ""


def _hold_lock(index_dir: str, ready, release) -> None:
    with write_lock(Path(index_dir)):
        ready.set()
        release.wait(30)


def test_second_writer_gets_a_clear_error_at_once(tmp_path, settings):
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(settings.index_dir), ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        write(tmp_path / "a.txt", ARTICLE_A)
        started = time.monotonic()
        with pytest.raises(IndexBusyError, match="another newsrag process"):
            ingest([tmp_path / "a.txt"], settings)
        assert time.monotonic() - started < 5
    finally:
        release.set()
        holder.join(30)
    assert ingest([tmp_path / "a.txt"], settings).added == ["a"]


def test_interrupted_run_leaves_a_consistent_index(tmp_path, settings):
    """Vectors written without a manifest commit (a kill mid-batch) are removed by the next writer."""
    from rag.ingest import prepare
    from rag.load import load_paths
    from rag.types import ArticleInfo

    write(tmp_path / "a.txt", ARTICLE_A)
    write(tmp_path / "b.txt", ARTICLE_B)
    ingest([tmp_path / "a.txt"], settings)
    index = NewsIndex(settings)
    (article,) = list(load_paths([tmp_path / "b.txt"]))
    article, passages = prepare(article, settings)
    vectors = get_embedder(settings).embed_passages([p.text for p in passages])
    index.vectors.add(passages, vectors, {article.id: ArticleInfo(
        id=article.id, title=article.title, source="", url="", published="", language="de", path="",
        content_hash=article.content_hash, passage_ids=[], text=article.text)})
    # ...killed here: no commit
    assert NewsIndex(settings).vectors.all_ids() > set(NewsIndex(settings).manifest.passages)
    report = ingest([tmp_path / "b.txt"], settings)
    assert report.added == ["b"]
    index = NewsIndex(settings)
    assert index.vectors.all_ids() == set(index.manifest.passages)
    assert set(index.articles) == {"a", "b"}
