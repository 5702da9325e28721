"""Load articles from files and folders: .txt/.md, .html, .json/.jsonl, RSS/Atom feeds. Bad files become FileFailure,
never an exception."""

from __future__ import annotations

import hashlib
import html as html_lib
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from datetime import date
from email.utils import parsedate_to_datetime
from html.entities import name2codepoint
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlparse

from .language import detect_language, fold
from .types import Article, FileFailure

FEED_SUFFIXES = {".rss", ".atom", ".xml"}
# Files of many records that carry their own ids: a later export of the same feed updates those articles.
RECORD_SUFFIXES = {".json", ".jsonl"} | FEED_SUFFIXES
SUPPORTED_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm"} | RECORD_SUFFIXES
SUPPORTED_FORMATS = [".txt", ".md", ".html", ".json", ".jsonl", ".rss", ".atom", ".xml"]  # as named to users


class LoadError(Exception):
    """A file that cannot become an article; the message is shown to the user."""


def slugify(text: str, max_len: int = 80) -> str:
    text = text.lower()
    for a, b in {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}.items():
        text = text.replace(a, b)
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return slug[:max_len].strip("-") or "article"


def _visible_files(folder: Path) -> Iterator[Path]:
    """Files under `folder`, skipping hidden files and everything inside hidden folders (.git, .ipynb_checkpoints,
    a sync tool's .stversions): those hold copies and old versions, not articles to cite."""
    for child in sorted(folder.rglob("*")):
        if child.is_file() and not any(part.startswith(".") for part in child.relative_to(folder).parts):
            yield child


def iter_files(paths: Iterable[Path]) -> Iterator[Path | FileFailure]:
    for path in paths:
        if path.is_dir():
            yield from (child for child in _visible_files(path) if child.suffix.lower() in SUPPORTED_SUFFIXES)
        elif path.is_file():
            yield path
        else:
            yield FileFailure(str(path), "no such file or folder")


def other_files(paths: Iterable[Path]) -> list[str]:
    """Files inside the given folders that ingest does not read (a PDF or image next to the articles), so that the
    report can say they were left out instead of passing over them in silence."""
    return [str(child) for path in paths if path.is_dir() for child in _visible_files(path)
            if child.suffix.lower() not in SUPPORTED_SUFFIXES]


# <meta charset="iso-8859-1"> or <meta http-equiv="Content-Type" content="text/html; charset=windows-1252">
_HTML_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)
# as browsers read them (WHATWG Encoding): pages that say Latin-1 or ASCII are written in Windows-1252
_READ_AS_CP1252 = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii", "cp1252", "windows-1252"}


def _decode(data: bytes, declared: str) -> str:
    # UTF-8 first: text in another encoding is almost never valid UTF-8, and pages that declare Latin-1 while holding
    # UTF-8 are common
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        if declared in _READ_AS_CP1252:
            return data.decode("latin-1").translate(_C1_AS_CP1252)
        if declared and declared not in ("utf-8", "utf8"):
            return data.decode(declared)
        raise


def read_text(path: Path, html: bool = False) -> str:
    """The file's text: UTF-8, or for an HTML page the encoding its meta charset declares."""
    data = path.read_bytes()
    if not data.strip():
        raise LoadError("empty file")
    if b"\x00" in data[:8192]:
        raise LoadError("binary file (contains NUL bytes), not text")
    charset = _HTML_CHARSET.search(data[:4096]) if html else None
    declared = charset.group(1).decode("ascii", "replace").lower() if charset else ""
    try:
        text = _decode(data, declared)
    except LookupError:
        raise LoadError(f"declares an encoding Python does not know ({declared!r})") from None
    except UnicodeDecodeError as exc:
        raise LoadError(f"not {declared or 'UTF-8'} text (byte {exc.start} is 0x{data[exc.start]:02X}); convert it to "
                        f"UTF-8 first, e.g. iconv -f windows-1252 -t utf-8 '{path.name}' > '{path.stem}.utf8{path.suffix}'"
                        ) from None
    if not text.strip():
        raise LoadError("empty file")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _article(
    *, id: str, title: str, text: str, path: Path, source: str = "", url: str = "", published: str = "",
    language: str = "", author: str = "",
) -> Article:
    text = text.strip("\n")
    if not text.strip():
        raise LoadError("no article text")
    # an undated feed item or record whose text opens with a dateline is dated by it, as a text file is
    body = text[len(title.strip()):].lstrip() if title.strip() and text.startswith(title.strip()) else text
    author = _clean_author(author) or byline_author(body)
    if not source:  # "By Jane Doe, Reuters": a wire byline names the outlet, the only source a text file has
        author, source = _outlet_from_byline(author)
    return Article(
        id=id, title=title.strip() or id, text=text, source=source, url=url or "",
        published=_iso_date(published) or dateline_date(body), language=language or detect_language(text),
        path=str(path.resolve()), author=author,
    )


_AGENCIES = {"reuters", "ap", "afp", "dpa", "epd", "kna", "apa", "sda", "anp", "ansa", "efe", "bloomberg"}
# the last word of a paper's name: "Harbour Herald", "Lindauer Bote", "Bergsträßer Tageblatt", "Berliner Morgenpost"
_OUTLET_ENDINGS = ("herald", "times", "news", "journal", "gazette", "tribune", "courier", "chronicle", "observer",
                   "zeitung", "bote", "anzeiger", "blatt", "rundschau", "kurier", "nachrichten", "morgenpost", "presse")


def _outlet_from_byline(author: str) -> tuple[str, str]:
    """(author, source) from a byline that ends in an agency or a paper: "Jane Doe, Harbour Herald" -> ("Jane Doe",
    "Harbour Herald"). Only those two kinds of ending count: "Jane Doe, Tom Roe" is two authors."""
    names, comma, last = author.rpartition(",")
    if not comma or not names.strip():
        return author, ""
    last = last.strip()
    final = fold(last.split()[-1]) if last.split() else ""
    if fold(last) in _AGENCIES or final.endswith(_OUTLET_ENDINGS):
        return names.strip(), last
    return author, ""


_NAME_WORD = r"[A-ZÄÖÜÉ][\w'’.-]*"
_ONE_NAME = rf"{_NAME_WORD}(?:\s+(?:(?:von|van|de|der|den|du|da|di|zu|la|le|ter)\s+)*{_NAME_WORD}){{0,3}}"
# "Von Anna Schäfer · 12. Januar 2026", "By Jane Doe and Tom Roe, Reuters", "Text: Max Muster": the whole line, so that
# "Von Montag an gilt der neue Fahrplan" is no byline
_BYLINE = re.compile(
    rf"\s*(?i:von|by|text|autor|autorin|author)\s*:?\s+({_ONE_NAME}(?:\s*(?:,|und|and|&)\s*{_ONE_NAME})*)"
    r"\s*(?:[·|,;–—-]\s*\S.*)?")
_NOT_NAMES = {w.lower() for w in "Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag Monday Tuesday Wednesday "
              "Thursday Friday Saturday Sunday Januar Februar März April Mai Juni Juli August September Oktober "
              "November Dezember January February March May June July October December Heute Morgen".split()}


def byline_author(body: str, lines: int = 3) -> str:
    """The names of a byline among the first lines of the text ("Von Anna Schäfer"), or ''. The line stays in the
    text (offsets point into it); only the names are kept as the author."""
    for line in [line for line in body.split("\n") if line.strip()][:lines]:
        match = _BYLINE.fullmatch(line.strip())
        if match and len(line) <= 120 and match.group(1).split()[0].lower() not in _NOT_NAMES:
            return match.group(1).strip()
    return ""


def _clean_author(value: object) -> str:
    """A metadata author as shown next to a citation: one line, without a trailing separator ("Anna Schäfer ·")."""
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(v) for v in value if v)
    text = " ".join(str(value or "").split())
    return re.sub(r"^(?i:von|by)\s+|[\s·|,;–—-]+$", "", text)[:120]


def _iso_date(value: object) -> str:
    if not value:
        return ""
    match = re.match(r"(\d{4}-\d{2}-\d{2})", str(value))
    return match.group(1) if match else str(value)


_MONTHS = {
    **{m: i for i, m in enumerate(["januar", "februar", "maerz", "april", "mai", "juni", "juli", "august", "september",
                                   "oktober", "november", "dezember"], 1)},
    **{m: i for i, m in enumerate(["january", "february", "march", "april", "may", "june", "july", "august",
                                   "september", "october", "november", "december"], 1)},
}
_MONTH = r"([A-Za-zäÄ]{3,9})"
# "Lindenstadt, 2. April 2025." / "Berlin (dpa), April 2, 2025 –" / "14 March 2025:" / "2025-04-02 -", at the very start
_DATELINE = re.compile(
    r"\s*(?:[A-ZÄÖÜ][\w .()/-]{0,40}?,\s*)?"
    rf"(?:(\d{{1,2}})\.?\s+{_MONTH}\s+(\d{{4}})|{_MONTH}\s+(\d{{1,2}}),?\s+(\d{{4}})|(\d{{4}})-(\d{{2}})-(\d{{2}}))"
    r"\s*[.:,\u2013\u2014-]")


def dateline_date(body: str) -> str:
    """The date of a dateline that opens the article text ("Lindenstadt, 2. April 2025."), as YYYY-MM-DD, or ''.
    Only a date at the very start counts: a date further in is usually the event's, not the article's. A byline
    above it ("Von Max Muster") is passed over."""
    first, _, rest = body.lstrip().partition("\n")
    if rest and byline_author(first, lines=1):
        body = rest
    match = _DATELINE.match(body)
    if not match:
        return ""
    g = match.groups()
    if g[6]:
        year, month, day = int(g[6]), int(g[7]), int(g[8])
    else:
        day, name, year = (g[0], g[1], g[2]) if g[0] else (g[4], g[3], g[5])
        month, day, year = _MONTHS.get(name.lower().replace("ä", "ae"), 0), int(day), int(year)
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return ""


def load_plain(path: Path) -> Article:
    text = read_text(path)
    lines = text.strip("\n").split("\n")
    title = lines[0].lstrip("# ").strip()
    body = "\n".join(lines[1:]).strip("\n")
    if not body.strip():
        raise LoadError("only a title line, no article text")
    # The title is part of the article text: it is often the best passage for "what is this about" questions.
    return _article(id=slugify(path.stem), title=title, text=f"{title}\n\n{body}", path=path)


_TITLE_TAG = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TITLE_SEPARATORS = (" | ", " – ", " — ", " - ", " :: ", " · ")


def _site_from_title_tag(html: str, headline: str) -> str:
    """'Harbor bridge reopens | The Valley Courier': the part of the <title> that is not the headline names the site,
    for pages without site metadata (the source an analyst sees next to each citation)."""
    match = _TITLE_TAG.search(html)
    if not match:
        return ""
    full = " ".join(html_lib.unescape(match.group(1)).split())
    for separator in _TITLE_SEPARATORS:
        if separator in full:
            first, _, rest = full.partition(separator)
            last_head, _, last = full.rpartition(separator)
            if first.strip() == headline and rest.strip() != headline:
                return rest.strip()
            if last.strip() == headline and last_head.strip() != headline:
                return last_head.strip()
    return ""


def load_html(path: Path) -> Article:
    import trafilatura

    html = read_text(path, html=True)
    extracted = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False, include_tables=False)
    if extracted is None:
        raise LoadError("no article text found in the HTML")
    doc = extracted if isinstance(extracted, dict) else extracted.as_dict()
    body = (doc.get("text") or "").strip()
    if not body:
        raise LoadError("no article text found in the HTML")
    title = (doc.get("title") or path.stem).strip()
    if body.split("\n", 1)[0].strip() == title:  # the page's own headline, already the first line
        body = body.split("\n", 1)[1].strip("\n") if "\n" in body else ""
    if not body.strip():
        raise LoadError("no article text found in the HTML, only its headline")
    return _article(
        id=slugify(path.stem), title=title, text=f"{title}\n\n{body}", path=path,
        source=doc.get("sitename") or doc.get("hostname") or _site_from_title_tag(html, title),
        url=doc.get("url") or "",
        published=doc.get("date") or "", language=doc.get("language") or "",
        # trafilatura reads <meta name="author"> and class="byline"; other pages drop the byline from the text
        author=doc.get("author") or _page_byline(html),
    )


def _page_byline(html: str) -> str:
    for paragraph in html_fragment_text(html).split("\n\n"):
        if author := byline_author(paragraph, lines=1):
            return author
    return ""


def _from_record(record: object, path: Path, where: str) -> Article:
    if not isinstance(record, dict):
        raise LoadError(f"{where}: expected a JSON object")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise LoadError(f"{where}: missing 'text'")
    title = str(record.get("title") or "").strip()
    given_id = record.get("id")
    article_id = str(given_id) if given_id not in (None, "") else slugify(title or path.stem) + "-" + hashlib.sha1(
        text.encode()).hexdigest()[:8]
    body = text.strip("\n")
    # Keep the title searchable, but do not repeat it when the text already starts with it.
    full = body if not title or body.startswith(title) else f"{title}\n\n{body}"
    return _article(
        id=article_id, title=title or article_id, text=full, path=path,
        source=str(record.get("source") or ""), url=str(record.get("url") or ""),
        published=str(record.get("published") or ""), language=str(record.get("language") or ""),
        author=record.get("author") or record.get("authors") or record.get("byline") or "",
    )


def _json_problem(exc: json.JSONDecodeError) -> str:
    """json's message, ready for "line 3, column 7": its own "Unterminated string starting at" already ends in "at"."""
    return exc.msg if exc.msg.endswith(" at") else f"{exc.msg} at"


def load_json(path: Path) -> Iterator[Article | FileFailure]:
    text = read_text(path)
    if path.suffix.lower() == ".jsonl":
        for lineno, line in enumerate(text.split("\n"), 1):
            if not line.strip():
                continue
            where = f"line {lineno}"
            try:
                yield _from_record(json.loads(line), path, where)
            except json.JSONDecodeError as exc:
                yield FileFailure(f"{path}:{lineno}", f"invalid JSON ({_json_problem(exc)} column {exc.colno})")
            except LoadError as exc:
                yield FileFailure(f"{path}:{lineno}", str(exc).removeprefix(f"{where}: "))
        return
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LoadError(f"invalid JSON ({_json_problem(exc)} line {exc.lineno}, column {exc.colno})") from None
    records = data if isinstance(data, list) else [data]
    for i, record in enumerate(records):
        try:
            yield _from_record(record, path, f"item {i}")
        except LoadError as exc:
            yield FileFailure(f"{path}[{i}]", str(exc).removeprefix(f"item {i}: "))


_BLOCK_TAGS = {"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr", "table",
               "section", "article", "figure", "pre", "hr"}
_SKIPPED_TAGS = {"script", "style", "figcaption", "noscript"}


class _FragmentText(HTMLParser):
    """The text of an HTML fragment (a feed item's content), one paragraph per block element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        tag = tag.rsplit(":", 1)[-1]  # Atom's inline XHTML comes back as <html:p>
        if tag in _SKIPPED_TAGS:
            self.skipping += 1
        elif tag == "br":  # one line break joins lines; two (a common paragraph break in feeds) end a paragraph
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        tag = tag.rsplit(":", 1)[-1]
        if tag in _SKIPPED_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


# Feeds declared ISO-8859-1 often hold Windows-1252 bytes (curly quotes, the euro sign), which decode as C1 controls.
_C1_AS_CP1252 = {i: bytes([i]).decode("cp1252", errors="ignore") or None for i in range(0x80, 0xA0)}


def html_fragment_text(fragment: str) -> str:
    parser = _FragmentText()
    try:
        parser.feed(fragment)
        parser.close()
        text = "".join(parser.parts)
    except AssertionError:  # html.parser gives up on some broken markup ("<![x["): keep the words, drop the tags
        text = html_lib.unescape(re.sub(r"<[^>]*>", " ", fragment))
    return _paragraphs(text)


def _paragraphs(text: str) -> str:
    paragraphs = (" ".join(block.split()) for block in text.translate(_C1_AS_CP1252).split("\n\n"))
    return "\n\n".join(p for p in paragraphs if p)


_MEDIA_RSS = "{http://search.yahoo.com/mrss/}"  # <media:title>, <media:content> describe a photo or video, not the item


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element, *names: str) -> ET.Element | None:
    """The first child with one of these local names, in the order of `names` (namespaces differ between RSS 0.9x,
    1.0 and 2.0, and Atom)."""
    for name in names:
        for child in element:
            if _local(child.tag) == name and not child.tag.startswith(_MEDIA_RSS):
                return child
    return None


def _child_text(element: ET.Element, *names: str, atom: bool = False) -> str:
    """The element's text as plain text. RSS carries HTML; Atom says which (type="text", the default, "html" or
    "xhtml")."""
    child = _child(element, *names)
    if child is None:
        return ""
    kind = child.get("type", "text") if atom else "html"
    if kind == "xhtml" or (kind not in {"text", "html"} and len(child)):  # inline markup, not escaped HTML
        markup = "".join(ET.tostring(part, encoding="unicode") for part in child)
        return html_fragment_text((child.text or "") + markup)
    if kind == "text" or kind.startswith("text/plain"):
        return _paragraphs(re.sub(r"\n\s*\n", "\n\n", child.text or ""))
    return html_fragment_text(child.text or "")


def _plain(element: ET.Element, *names: str) -> str:
    """A value that is never markup: a guid, a date, a language code."""
    child = _child(element, *names)
    return (child.text or "").strip() if child is not None else ""


def _feed_date(value: str) -> str:
    """RSS dates are RFC 822 ("Tue, 02 Apr 2025 09:30:00 +0200", sometimes without the time); Atom and Dublin Core
    dates are ISO. An unreadable date is left out rather than kept as text the date filters cannot compare."""
    if not value:
        return ""
    for candidate in (value, value + " 00:00:00 +0000"):
        try:
            return parsedate_to_datetime(candidate).date().isoformat()
        except (TypeError, ValueError, IndexError):
            pass
    match = re.match(r"\d{4}-\d{2}-\d{2}", value)
    return match.group(0) if match else ""


def _item_link(item: ET.Element, base: str) -> str:
    for child in item:
        if _local(child.tag) != "link" or child.tag.startswith(_MEDIA_RSS):
            continue
        if child.get("href") and child.get("rel", "alternate") == "alternate":  # Atom
            return urljoin(base, child.get("href", ""))
        if child.text and child.text.strip():  # RSS
            return urljoin(base, child.text.strip())
    return ""


def _last_part(key: str) -> str:
    """The readable part of an item's id: 'https://bote.example/lokal/hafen-100.html' -> 'hafen-100',
    'tag:courier.example,2025:bridge' -> 'bridge', 'https://blog.example/?p=123' -> 'p=123'."""
    parts = urlparse(key)
    tail = re.split(r"[/:]", (parts.path or key).rstrip("/"))[-1]
    return re.sub(r"\.(html?|php|aspx?|jsp|cms)$", "", tail, flags=re.IGNORECASE) or parts.query  # WordPress: ?p=123


def _feed_item(item: ET.Element, path: Path, source: str, language: str, base: str, atom: bool) -> Article:
    title = " ".join(_child_text(item, "title", atom=atom).split())
    # The full text when the feed carries it (content:encoded, Atom content), else the teaser.
    body = _child_text(item, "encoded", "content", atom=atom) or _child_text(item, "description", "summary", atom=atom)
    if not body:
        raise LoadError("no text (the item has a title only)" if title else "no title and no text")
    link = _item_link(item, base)
    key = _plain(item, "guid", "id") or link
    # The id comes from the guid (or the link) alone: a later export that edits the headline or the text keeps it.
    tail = _last_part(key) if key else ""
    readable = slugify(tail) if tail else slugify(title)
    article_id = f"{readable[:60].strip('-')}-{hashlib.sha1((key or title + body).encode()).hexdigest()[:8]}"
    # the headline counts as already there only as a paragraph of its own: "東京で会議…" does not hold "東京" as one
    full = body if not title or body.split("\n\n", 1)[0] == title else f"{title}\n\n{body}"
    return _article(
        id=article_id, title=title or article_id, text=full, path=path, source=source, url=link,
        published=_feed_date(_plain(item, "pubDate", "published", "date", "updated", "issued", "modified")),
        language=language, author=_feed_author(item),
    )


def _feed_author(item: ET.Element) -> str:
    """dc:creator, Atom's <author><name>, or RSS's "jane@example.org (Jane Doe)"."""
    names = []
    for child in item:
        if _local(child.tag) not in {"creator", "author"} or child.tag.startswith(_MEDIA_RSS):
            continue
        name = _child(child, "name")
        text = " ".join(((name.text if name is not None else child.text) or "").split())
        email_and_name = re.fullmatch(r"\S+@\S+\s*\((.+)\)", text)
        names.append(email_and_name.group(1) if email_and_name else text)
    return ", ".join(dict.fromkeys(n for n in names if n))


_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([\w.:-]+)["'][^>]*\?>""")


_NAMED_ENTITY = re.compile(rb"&([A-Za-z][A-Za-z0-9]{1,31});")
_XML_ENTITIES = {b"amp", b"lt", b"gt", b"quot", b"apos"}


def _html_entities_as_numbers(data: bytes) -> bytes:
    """'&eacute;' -> '&#233;'. RSS 0.91 takes HTML's entities from a DTD that expat does not fetch, and hand-made feeds
    use '&nbsp;' without one; both are otherwise rejected as "undefined entity"."""
    def number(match: re.Match) -> bytes:
        name = match.group(1)
        codepoint = name2codepoint.get(name.decode())
        return match.group(0) if name in _XML_ENTITIES or codepoint is None else b"&#%d;" % codepoint
    return _NAMED_ENTITY.sub(number, data)


def _parse_xml(data: bytes) -> ET.Element:
    try:
        return ET.fromstring(data)  # bytes: the parser honours the declared encoding (often ISO-8859-1)
    except ET.ParseError as exc:
        if "undefined entity" not in str(exc):
            raise LoadError(f"invalid XML ({exc})") from None
        data = _html_entities_as_numbers(data)
        try:
            return ET.fromstring(data)
        except ET.ParseError as again:
            raise LoadError(f"invalid XML ({again})") from None
        except (ValueError, LookupError):
            pass
    except (ValueError, LookupError):  # expat knows no multi-byte encodings (Shift_JIS, GB2312) and no odd names
        pass
    declared = _XML_ENCODING.match(data)
    try:
        text = data.decode(declared.group(1).decode() if declared else "utf-16")
        return ET.fromstring(re.sub(r"^\s*<\?xml[^>]*\?>", "", text))
    except (LookupError, UnicodeDecodeError, ValueError) as exc:
        raise LoadError(f"cannot decode the feed ({exc})") from None
    except ET.ParseError as exc:
        raise LoadError(f"invalid XML ({exc})") from None


def load_feed(path: Path) -> Iterator[Article | FileFailure]:
    """RSS 0.9x/1.0/2.0 and Atom: one article per item, with the feed's title as the source."""
    data = path.read_bytes()
    if not data.strip():
        raise LoadError("empty file")
    root = _parse_xml(data)
    kind = _local(root.tag)
    if kind not in {"rss", "RDF", "feed"}:
        raise LoadError(f"XML, but not an RSS or Atom feed (its root element is <{kind}>)")
    atom = kind == "feed"
    channel = root if atom else _child(root, "channel")
    channel = root if channel is None else channel
    source = " ".join(_child_text(channel, "title", atom=atom).split())
    language = _plain(channel, "language").split("-")[0].lower()
    base = root.get("{http://www.w3.org/XML/1998/namespace}base") or _item_link(channel, "")
    items = [el for el in root.iter() if _local(el.tag) == ("entry" if atom else "item")]
    if not items:
        raise LoadError("a feed with no items")
    for i, item in enumerate(items, 1):
        try:
            yield _feed_item(item, path, source, language, base, atom)
        except LoadError as exc:
            yield FileFailure(f"{path}[item {i}]", str(exc))


def load_file(path: Path) -> Iterator[Article | FileFailure]:
    suffix = path.suffix.lower()
    try:
        if suffix in {".json", ".jsonl"}:
            yield from load_json(path)
        elif suffix in FEED_SUFFIXES:
            yield from load_feed(path)
        elif suffix in {".html", ".htm"}:
            yield load_html(path)
        elif suffix in {".txt", ".md", ".markdown"}:
            yield load_plain(path)
        else:
            yield FileFailure(str(path), f"unsupported file type '{suffix}' (use {' '.join(SUPPORTED_FORMATS)})")
    except LoadError as exc:
        yield FileFailure(str(path), str(exc))
    except OSError as exc:
        yield FileFailure(str(path), f"cannot read: {exc.strerror or exc}")


def load_paths(paths: Iterable[Path]) -> Iterator[Article | FileFailure]:
    for item in iter_files(paths):
        if isinstance(item, FileFailure):
            yield item
        else:
            yield from load_file(item)
