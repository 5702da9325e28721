"""Load articles from files and folders: .txt/.md, .html, .json/.jsonl. Bad files become FileFailure, never an exception."""

from __future__ import annotations

import hashlib
import html as html_lib
import json
import re
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

from .language import detect_language
from .types import Article, FileFailure

SUPPORTED_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl"}


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


def read_text(path: Path) -> str:
    data = path.read_bytes()
    if not data.strip():
        raise LoadError("empty file")
    if b"\x00" in data[:8192]:
        raise LoadError("binary file (contains NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(f"not UTF-8 text (byte {exc.start}: {data[exc.start:exc.start + 1]!r})") from None
    if not text.strip():
        raise LoadError("empty file")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _article(
    *, id: str, title: str, text: str, path: Path, source: str = "", url: str = "", published: str = "",
    language: str = "",
) -> Article:
    text = text.strip("\n")
    if not text.strip():
        raise LoadError("no article text")
    return Article(
        id=id, title=title.strip() or id, text=text, source=source or "", url=url or "",
        published=_iso_date(published), language=language or detect_language(text),
        path=str(path.resolve()),
    )


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
    Only a date at the very start counts: a date further in is usually the event's, not the article's."""
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
    return _article(id=slugify(path.stem), title=title, text=f"{title}\n\n{body}", path=path,
                    published=dateline_date(body))


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

    html = read_text(path)
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
    )


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
    )


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
                yield FileFailure(f"{path}:{lineno}", f"invalid JSON ({exc.msg} at column {exc.colno})")
            except LoadError as exc:
                yield FileFailure(f"{path}:{lineno}", str(exc).removeprefix(f"{where}: "))
        return
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LoadError(f"invalid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    records = data if isinstance(data, list) else [data]
    for i, record in enumerate(records):
        try:
            yield _from_record(record, path, f"item {i}")
        except LoadError as exc:
            yield FileFailure(f"{path}[{i}]", str(exc).removeprefix(f"item {i}: "))


def load_file(path: Path) -> Iterator[Article | FileFailure]:
    suffix = path.suffix.lower()
    try:
        if suffix in {".json", ".jsonl"}:
            yield from load_json(path)
        elif suffix in {".html", ".htm"}:
            yield load_html(path)
        elif suffix in {".txt", ".md", ".markdown"}:
            yield load_plain(path)
        else:
            yield FileFailure(str(path), f"unsupported file type '{suffix}' (use .txt .md .html .json .jsonl)")
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
