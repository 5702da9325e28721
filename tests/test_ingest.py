import hashlib
import json
import multiprocessing
import time
from pathlib import Path

import pytest

from rag.embed import get_embedder
from rag.ingest import ingest, remove
from rag.store import IndexBusyError, NewsIndex, write_lock
from rag.types import FileFailure


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
    assert report.duplicates == []
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


def test_a_moved_file_keeps_its_passages_and_gets_its_new_path(tmp_path, settings, counting):
    old = write(tmp_path / "inbox" / "hafen.txt", ARTICLE_A)
    ingest([old], settings)
    embedded = counting.count
    new = tmp_path / "archive" / "2025" / "hafen.txt"
    new.parent.mkdir(parents=True)
    old.rename(new)
    report = ingest([tmp_path / "archive"], settings)
    assert report.unchanged == ["hafen"] and report.passages_embedded == 0 and counting.count == embedded
    assert [(m.id, m.old_path, m.path) for m in report.moved] == [("hafen", str(old.resolve()), str(new.resolve()))]
    index = NewsIndex(settings)
    assert index.articles["hafen"].path == str(new.resolve())  # what `articles` and the page show as its file
    assert all(pid in index.lexical.ids for pid in index.articles["hafen"].passage_ids)
    assert ingest([new], settings).moved == []  # once recorded, the same place is no move


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


def test_a_copy_under_another_name_is_left_out_and_said(tmp_path, settings):
    """A copy of an article under another file name went in as a second article: retrieval returned it twice, and
    after the original was edited the stale copy still gave the old figure."""
    docs = tmp_path / "docs"
    write(docs / "hafen.txt", ARTICLE_A)
    write(docs / "kopie-von-hafen.txt", ARTICLE_A)
    write(docs / "bruecke.txt", ARTICLE_B)
    report = ingest([docs], settings)
    assert sorted(report.added) == ["bruecke", "hafen"] and report.failed == []
    assert [(Path(d.path).name, d.reason) for d in report.duplicates] == [
        ("kopie-von-hafen.txt", f"the same text as article 'hafen' ({docs / 'hafen.txt'}); left out")]
    # and in a later run, against what the index holds
    write(tmp_path / "later" / "hafen-2.txt", ARTICLE_A)
    later = ingest([tmp_path / "later"], settings)
    assert later.added == [] and [Path(d.path).name for d in later.duplicates] == ["hafen-2.txt"]
    assert set(NewsIndex(settings).articles) == {"bruecke", "hafen"}


def test_a_changed_copy_under_another_name_goes_in_and_is_reported_as_a_near_copy(tmp_path, settings):
    """"hafen-final.txt" next to "hafen.txt" went in without a word, and the two versions' figures stood side by
    side in answers."""
    docs = tmp_path / "docs"
    write(docs / "hafen.txt", ARTICLE_A)
    bruecke = ARTICLE_B + " Die Sperrung dauert nach Angaben der Stadt mindestens drei Wochen."
    write(docs / "bruecke.txt", bruecke)
    assert ingest([docs], settings).near_copies == []
    write(tmp_path / "later" / "hafen-final.txt", ARTICLE_A.replace("zwölf", "dreizehn"))
    report = ingest([tmp_path / "later"], settings)
    assert report.added == ["hafen-final"]  # it goes in: which version is right is the newsroom's call
    assert [(Path(n.path).name, n.reason) for n in report.near_copies] == [(
        "hafen-final.txt", f"shares 2 of its 3 sentences with article 'hafen' ({docs / 'hafen.txt'}); both are in. "
                           "If one replaces the other, remove the old one (newsrag remove ID)")]
    # and it stays known: listings mark both versions ("articles", the library)
    from rag.ingest import NearCopies

    assert NearCopies(NewsIndex(settings).manifest, settings.near_copy_share).stored() == {
        "hafen": "hafen-final", "hafen-final": "hafen"}
    # an edit of the same article (its two long sentences kept) is an update, not a copy of itself
    write(docs / "bruecke.txt", bruecke + " Umleitungen sind ausgeschildert, teilte die Polizei am Abend mit.")
    edited = ingest([docs / "bruecke.txt"], settings)
    assert edited.updated == ["bruecke"] and edited.near_copies == []


def test_broken_json_says_where_in_plain_words(tmp_path):
    from rag.load import load_paths

    write(tmp_path / "a.jsonl", '{"id": "x", "title": "T", "text": "unterminated}')
    write(tmp_path / "b.json", '{"id": "y",\n "title": }')
    reasons = {Path(f.path.split(":")[0]).name: f.reason for f in load_paths([tmp_path])}
    assert reasons["a.jsonl"] == "invalid JSON (Unterminated string starting at column 35)"
    assert reasons["b.json"] == "invalid JSON (Expecting value at line 2, column 11)"


def test_an_html_page_is_read_in_the_encoding_it_declares(tmp_path):
    """A saved page with <meta charset="iso-8859-1"> was refused as "not UTF-8", while a feed in the same encoding went
    in; a page that declares Latin-1 but holds UTF-8 must not turn into "BÃ¤ckerei" either."""
    from rag.load import load_paths

    page = ('<html><head>{meta}<title>Bäckerei schließt</title></head><body><article><h1>Bäckerei schließt</h1>'
            "<p>Die Bäckerei Müller in Köln schließt nach 80 Jahren, teilte der Inhaber am Montag mit. „Es geht nicht "
            "mehr“, sagte er.</p><p>Die Kosten für Energie seien um 40 Prozent gestiegen.</p></article></body></html>")
    # Windows-1252's quotes under a Latin-1 label, as browsers read them
    write(tmp_path / "latin.html", page.format(meta='<meta charset="iso-8859-1">').encode("cp1252"))
    write(tmp_path / "windows.html", page.format(
        meta='<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">').encode("cp1252"))
    write(tmp_path / "mislabelled.html", page.format(meta='<meta charset="ISO-8859-1">').encode("utf-8"))
    write(tmp_path / "undeclared.html", page.format(meta="").encode("cp1252"))
    loaded = {getattr(a, "id", None) or Path(a.path).stem: a for a in load_paths([tmp_path])}
    for name in ("latin", "windows", "mislabelled"):
        assert loaded[name].title == "Bäckerei schließt", name
        assert "Müller in Köln" in loaded[name].text and "„Es geht nicht mehr“" in loaded[name].text, name
    # without a declaration there is nothing to go by: refused, with how to convert it
    assert "not UTF-8 text (byte" in loaded["undeclared"].reason and "iconv -f windows-1252" in loaded["undeclared"].reason


def test_a_text_file_takes_its_date_from_the_dateline_that_opens_it(tmp_path):
    """A .txt article that opens "Lindenstadt, 14. März 2025." was listed as undated: its citations showed no date
    and a date filter left it out."""
    from rag.load import load_paths

    write(tmp_path / "brand.txt", "Großbrand im Hafen\nLindenstadt, 14. März 2025. Bei einem Großbrand wurden zwölf "
                                  "Menschen verletzt.")
    write(tmp_path / "fire.md", "# Harbour fire\n\nLINDENSTADT, March 15, 2025 — Seventeen people were injured.")
    # a byline between the title and the dateline (found by a new-user trial: such articles stayed undated)
    write(tmp_path / "bruecke.txt", "Sanierung wird teurer\nVon Max Muster\nLindenstadt, 18. März 2025. Die Sanierung "
                                    "der Hafenbrücke kostet 5,1 Millionen Euro.")
    # a date inside the first sentence is the event's, not the article's
    write(tmp_path / "event.txt", "Hafenfest\nAm 3. Mai 2024 feierte die Stadt ihr Hafenfest.")
    # so does a feed item or a JSON record that has no date of its own
    write(tmp_path / "bote.rss", rss("<item><title>Fähre fährt wieder</title><guid>bote-9</guid><description>"
                                     "Lindau, 3. Juni 2025. Die Fähre fährt wieder.</description></item>"))
    write(tmp_path / "records.jsonl", json.dumps({"id": "r1", "title": "Brücke", "text": "Brücke\n\nBREGENZ, June 4, "
                                                  "2025 — The bridge reopened."}))
    articles = {a.id: a for a in load_paths([tmp_path])}
    assert [a.published for a in articles.values() if a.id.startswith("bote-9")] == ["2025-06-03"]
    assert articles["r1"].published == "2025-06-04"
    assert articles["brand"].published == "2025-03-14"
    assert articles["fire"].published == "2025-03-15"
    assert articles["bruecke"].published == "2025-03-18" and articles["bruecke"].author == "Max Muster"
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


def test_the_byline_is_kept_as_the_author(tmp_path, settings):
    """A journalist cites the reporter as well as the paper; a page's byline "Von Anna Schäfer" used to be dropped."""
    from dataclasses import replace

    from rag.ingest import content_hash
    from rag.load import load_paths

    page = ("<html><head><title>Mensa | Tageblatt</title>{meta}</head><body><main><article><h1>Mensa</h1>{byline}"
            "<p>Birkenau, 12. Januar 2026. Die Grundschule Birkenau bekommt eine eigene Mensa, beschloss der "
            "Gemeinderat am Montag.</p><p>Die Kosten liegen bei 1,75 Millionen Euro.</p></article></main></body></html>")
    write(tmp_path / "byline.html", page.format(meta="", byline='<p class="meta">Von Anna Schäfer · 12. Januar 2026</p>'))
    write(tmp_path / "metatag.html", page.format(meta='<meta name="author" content="Jonas Weber">', byline=""))
    write(tmp_path / "wire.txt", "Bridge reopens\nBy Jane Doe and Tom Roe, Reuters\n\nThe bridge reopened on Monday.")
    write(tmp_path / "museum.txt", "Museum reopens\nBy Jane Doe, Harbour Herald\n\nThe museum reopened on Monday.")
    write(tmp_path / "two.txt", "Pier closes\nBy Jane Doe, Tom Roe\n\nThe pier closed on Monday.")
    write(tmp_path / "fahrplan.txt", "Neuer Fahrplan\nVon Montag an gilt der neue Fahrplan der Fähren.")
    write(tmp_path / "bote.rss", rss(
        '<item xmlns:dc="http://purl.org/dc/elements/1.1/"><title>Hafen</title><guid>b-1</guid>'
        '<dc:creator>Petra Vogt</dc:creator><description>Der Hafen ist fertig.</description></item>'
        '<item><title>Brücke</title><guid>b-2</guid><author>redaktion@bote.example (Max Muster)</author>'
        '<description>Die Brücke ist gesperrt.</description></item>'))
    write(tmp_path / "records.jsonl", json.dumps({"id": "r1", "title": "Wahl", "text": "Die Wahl ist am Sonntag.",
                                                  "authors": ["Ute Kranz", "Ali Demir"]}))
    authors = {a.title if a.id.startswith("b-") else a.id: a.author for a in load_paths([tmp_path])}
    assert authors["byline"] == "Anna Schäfer" and authors["metatag"] == "Jonas Weber"
    assert authors["wire"] == "Jane Doe and Tom Roe" and authors["fahrplan"] == ""
    # a byline's trailing agency or paper is the source a text file otherwise lacks; two names stay two authors
    sources = {a.id: a.source for a in load_paths([tmp_path])}
    assert (authors["museum"], sources["museum"]) == ("Jane Doe", "Harbour Herald") and sources["wire"] == "Reuters"
    assert (authors["two"], sources["two"]) == ("Jane Doe, Tom Roe", "")
    assert authors["Hafen"] == "Petra Vogt" and authors["Brücke"] == "Max Muster"  # dc:creator; RSS's "mail (name)"
    assert authors["r1"] == "Ute Kranz, Ali Demir"

    assert sources["metatag"] == "Tageblatt"  # a page's own source is kept
    report = ingest([tmp_path / "byline.html", tmp_path / "fahrplan.txt"], settings)
    assert sorted(report.added) == ["byline", "fahrplan"]
    assert NewsIndex(settings).articles["byline"].author == "Anna Schäfer"
    # an article without a byline hashes as before bylines were read, so an existing index is not re-embedded
    plain = next(a for a in load_paths([tmp_path / "fahrplan.txt"]))
    assert content_hash(plain) != content_hash(replace(plain, author="Anna Schäfer"))
    legacy = hashlib.sha256()
    for part in (plain.title, plain.text, plain.source, plain.url, plain.published, plain.language):
        legacy.update(part.encode("utf-8") + b"\x00")
    assert content_hash(plain) == legacy.hexdigest()
    # and a manifest written before the field existed still loads
    manifest = settings.index_dir / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    for article in data["articles"]:
        article.pop("author")
    manifest.write_text(json.dumps(data), encoding="utf-8")
    assert NewsIndex(settings).articles["fahrplan"].author == ""


def rss(items: str, encoding: str = "utf-8") -> bytes:
    return (f'<?xml version="1.0" encoding="{encoding}"?>\n<rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Lindauer Bote</title>'
            f'<language>de-de</language>{items}</channel></rss>').encode(encoding)


HAFEN_ITEM = ("<item><title>Hafen eröffnet</title><link>https://bote.example/lokales/hafen-eroeffnet-100.html</link>"
              "<guid isPermaLink='false'>bote-4711</guid><pubDate>Wed, 02 Apr 2025 09:30:00 +0200</pubDate>"
              "<description>Kurz: ein neuer Hafen.</description><content:encoded><![CDATA[<p>Die Stadt Lindau "
              "er&ouml;ffnete am Montag einen neuen Hafen.</p><p>Der Hafen kostete <b>zwölf</b> Millionen Euro."
              "<script>track('hafen')</script></p>]]></content:encoded></item>")
BRUECKE_ITEM = ("<item><title>Brücke gesperrt</title><guid>https://bote.example/bruecke</guid><description>"
                "&lt;p&gt;Die alte Brücke in Bregenz ist seit Dienstag gesperrt.&lt;/p&gt;</description></item>")


def test_rss_and_atom_feeds_give_one_article_per_item_and_report_what_they_cannot(tmp_path):
    """A newsroom's feed export (RSS 2.0 in ISO-8859-1, Atom with inline XHTML) goes in item by item: the full text
    when the feed carries it, the feed's title as the source, the item's link and date; an item without text and a file
    that is not a feed are reported with the reason."""
    from rag.load import load_paths

    write(tmp_path / "bote.rss", rss(HAFEN_ITEM + "<item><title>Nur ein Titel</title></item>" + BRUECKE_ITEM,
                                     encoding="ISO-8859-1"))
    write(tmp_path / "courier.atom", (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Valley Courier</title>'
        "<entry><title>Harbor bridge reopens</title><id>tag:courier.example,2025:bridge</id>"
        '<link rel="enclosure" href="https://courier.example/a.mp3"/>'
        '<link href="https://courier.example/2025/04/harbor-bridge-reopens"/><published>2025-04-02T08:00:00Z'
        '</published><updated>2025-04-03T10:00:00Z</updated><content type="xhtml"><div '
        'xmlns="http://www.w3.org/1999/xhtml"><p>The harbor bridge reopened on Monday.</p><p>Repairs cost 12 million '
        "dollars.</p></div></content></entry></feed>"))
    write(tmp_path / "sitemap.xml", '<?xml version="1.0"?><urlset><url><loc>https://bote.example/</loc></url></urlset>')
    write(tmp_path / "cut.rss", "<rss><channel><item><title>Abgebrochen")
    loaded = list(load_paths([tmp_path]))
    articles = {a.title: a for a in loaded if not isinstance(a, FileFailure)}
    failures = {f.path.removeprefix(str(tmp_path) + "/"): f.reason for f in loaded if isinstance(f, FileFailure)}

    assert set(articles) == {"Hafen eröffnet", "Brücke gesperrt", "Harbor bridge reopens"}
    hafen = articles["Hafen eröffnet"]
    assert hafen.text == ("Hafen eröffnet\n\nDie Stadt Lindau eröffnete am Montag einen neuen Hafen.\n\n"
                          "Der Hafen kostete zwölf Millionen Euro.")  # content:encoded over the teaser, no script
    assert (hafen.source, hafen.published, hafen.language) == ("Lindauer Bote", "2025-04-02", "de")
    assert hafen.url == "https://bote.example/lokales/hafen-eroeffnet-100.html"
    assert hafen.id.startswith("bote-4711-")  # from the guid alone, so that an edited headline keeps it
    assert articles["Brücke gesperrt"].text.endswith("\n\nDie alte Brücke in Bregenz ist seit Dienstag gesperrt.")
    bridge = articles["Harbor bridge reopens"]
    assert bridge.text == ("Harbor bridge reopens\n\nThe harbor bridge reopened on Monday.\n\n"
                           "Repairs cost 12 million dollars.")
    assert (bridge.source, bridge.published) == ("Valley Courier", "2025-04-02")
    assert bridge.url == "https://courier.example/2025/04/harbor-bridge-reopens"  # not the enclosure

    assert failures["bote.rss[item 2]"] == "no text (the item has a title only)"
    assert "not an RSS or Atom feed" in failures["sitemap.xml"] and "<urlset>" in failures["sitemap.xml"]
    assert failures["cut.rss"].startswith("invalid XML (")
    assert len(failures) == 3


def test_feeds_as_they_come_from_real_publishing_systems(tmp_path):
    """Corners real feeds hit: Windows-1252 bytes in a feed declared ISO-8859-1, a date without its time, relative
    links, a photo's media:content before the text, Atom plain-text titles, a Shift_JIS feed (expat cannot read
    multi-byte encodings itself), markup html.parser gives up on, and the two oldest formats still exported (RSS 0.91
    with HTML entities, Atom 0.3); none may stop the other items."""
    from rag.load import load_paths

    items = ("<item><title>Preise steigen</title><link>/wirtschaft/preise-100.html</link><pubDate>Thu, 03 Apr 2025"
             "</pubDate><media:content xmlns:media='http://search.yahoo.com/mrss/' url='https://bote.example/p.jpg'/>"
             "<description>Der Liter kostet jetzt 2 \x80 \x96 sagt der \x84Verband\x93.&lt;br&gt;&lt;br /&gt;Mehr morgen,&lt;br/&gt;im Blatt.</description></item>"
             "<item><title>Kaputt</title><description>&lt;![x[ Die Fähre fährt.</description></item>")
    write(tmp_path / "bote.rss", b'<?xml version="1.0" encoding="ISO-8859-1"?><rss><channel><title>Bote</title>'
          b"<link>https://bote.example/</link>" + items.encode("latin-1") + b"</channel></rss>")
    write(tmp_path / "courier.atom", (
        '<feed xmlns="http://www.w3.org/2005/Atom"><title type="html">Valley &lt;em&gt;Courier&lt;/em&gt;</title>'
        "<entry><id>urn:uuid:42</id><title>Prices &lt;rise&gt; again</title><updated>2025-04-03T10:00:00+02:00</updated>"
        "<summary>Bread costs more.\n\nSo does milk.</summary></entry></feed>"))
    write(tmp_path / "asahi.rss", '<?xml version="1.0" encoding="Shift_JIS"?><rss><channel><title>朝日</title><item>'
          "<title>東京</title><description>東京で会議が開かれた。</description></item></channel></rss>".encode("shift_jis"))
    # RSS 0.91 takes HTML's named entities from a DTD nobody fetches; Atom 0.3 escapes its HTML with mode="escaped"
    write(tmp_path / "cafe.xml", b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<!DOCTYPE rss PUBLIC "-//Netscape '
          b'Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd">\n<rss version="0.91">'
          b"<channel><title>Caf&eacute; Zeitung</title><item><title>Er&ouml;ffnung</title><link>https://cafe.example/a1"
          b"</link><description>Das Caf&eacute; &bdquo;M&ouml;we&ldquo; hat 40 Pl&auml;tze &amp; &lt;b&gt;eine "
          b"Terrasse&lt;/b&gt;.</description></item></channel></rss>")
    write(tmp_path / "old.atom", (
        '<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>Harbour Courier</title>'
        '<link rel="alternate" type="text/html" href="https://courier.example/"/><entry><title>Bridge reopens</title>'
        '<link rel="alternate" type="text/html" href="/2004/bridge"/><id>tag:courier.example,2004:bridge</id>'
        '<issued>2004-05-03T10:00:00Z</issued><content type="text/html" mode="escaped">&lt;p&gt;The bridge '
        "&lt;em&gt;reopened&lt;/em&gt;.&lt;/p&gt;&lt;p&gt;Traffic is slow.&lt;/p&gt;</content></entry></feed>"))
    articles = {a.title: a for a in load_paths([tmp_path])}
    assert not [a for a in articles.values() if isinstance(a, FileFailure)]

    cafe = articles["Eröffnung"]
    assert cafe.text == "Eröffnung\n\nDas Café „Möwe“ hat 40 Plätze & eine Terrasse." and cafe.source == "Café Zeitung"
    bridge = articles["Bridge reopens"]
    assert bridge.text == "Bridge reopens\n\nThe bridge reopened.\n\nTraffic is slow."
    assert (bridge.url, bridge.published) == ("https://courier.example/2004/bridge", "2004-05-03")

    prices = articles["Preise steigen"]
    assert prices.text == "Preise steigen\n\nDer Liter kostet jetzt 2 € – sagt der „Verband“.\n\nMehr morgen, im Blatt."
    assert prices.url == "https://bote.example/wirtschaft/preise-100.html" and prices.published == "2025-04-03"
    assert prices.id.startswith("preise-100-")  # no guid: the link decides
    assert articles["Kaputt"].text.endswith("Die Fähre fährt.")
    atom = articles["Prices <rise> again"]  # type="text" is text, not markup to strip
    assert atom.text == "Prices <rise> again\n\nBread costs more.\n\nSo does milk."
    assert (atom.source, atom.published, atom.url) == ("Valley Courier", "2025-04-03", "")
    assert atom.id.startswith("42-")
    assert articles["東京"].text == "東京\n\n東京で会議が開かれた。" and articles["東京"].source == "朝日"


def test_a_later_export_of_a_feed_updates_its_items_by_guid(tmp_path, settings, counting):
    """Feeds are exported again and again: an item whose headline and text were edited keeps its id (the guid
    decides) and is replaced, an unchanged item embeds nothing, a new item is added."""
    feed = write(tmp_path / "bote.rss", rss(HAFEN_ITEM + BRUECKE_ITEM))
    first = ingest([feed], settings)
    assert len(first.added) == 2 and not first.failed
    hafen_id = next(a for a in first.added if a.startswith("bote-4711-"))
    embedded = counting.count

    edited = HAFEN_ITEM.replace("Hafen eröffnet", "Neuer Hafen eröffnet").replace("zwölf", "dreizehn")
    new_item = ("<item><title>Fähre fährt wieder</title><guid>bote-4720</guid><description>Die Fähre nach Bregenz "
                "fährt seit Freitag wieder im Stundentakt.</description></item>")
    write(feed, rss(edited + BRUECKE_ITEM + new_item))
    second = ingest([feed], settings)
    assert second.updated == [hafen_id] and len(second.unchanged) == 1 and len(second.added) == 1
    assert second.added[0].startswith("bote-4720-")
    index = NewsIndex(settings)
    assert "dreizehn Millionen" in index.articles[hafen_id].text
    assert index.articles[hafen_id].title == "Neuer Hafen eröffnet"
    assert counting.count - embedded == second.passages_embedded == (
        len(index.articles[hafen_id].passage_ids) + len(index.articles[second.added[0]].passage_ids))
    assert index.vectors.all_ids() == set(index.manifest.passages)


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


def _ingest_elsewhere(paths, settings):
    ingest(paths, settings)


def test_an_open_index_reads_another_processs_ingest(tmp_path, settings):
    """The page stays up while a cron job or the CLI ingests. Chroma keeps its vector index in memory, so after the
    other process replaced an article's passages the page's queries failed with "Error finding id" until a restart."""
    from rag.retrieve import Retriever

    docs = tmp_path / "docs"
    hafen = write(docs / "hafen.txt", ARTICLE_A)
    ingest([docs], settings)
    embedder = get_embedder(settings)
    index = NewsIndex(settings, embedder.name)
    retriever = Retriever(index, embedder, settings)
    assert [h.article.id for h in retriever.retrieve("Was kostete der Hafen?", k=3)] == ["hafen"]
    write(hafen, ARTICLE_A.replace("zwölf", "dreizehn"))
    worker = multiprocessing.get_context("spawn").Process(target=_ingest_elsewhere, args=([docs], settings))
    worker.start()
    worker.join(300)
    assert worker.exitcode == 0
    index.reload_if_changed()
    (hit,) = retriever.retrieve("Was kostete der Hafen?", k=3)
    assert "dreizehn" in hit.passage.text and hit.passage.id in index.vectors.all_ids()
