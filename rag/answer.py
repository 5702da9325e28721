"""The question-answering pipeline: condense -> translate -> retrieve -> evidence -> gate -> answerable -> generate ->
cite -> verify -> differs.
The CLI, the web page and the evaluation all call Assistant; there is no second pipeline."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from .cite import CitationChecker, check_answer, citation_for, number_in_order, restates_question
from .claims import decimal_notation, lacks_asked_figure, time_notation
from .config import Settings
from .differs import note_differing_reports
from .embed import Embedder, get_embedder
from .evidence import anchor_terms, select_evidence, term_overlap
from .generate import (answer_messages, claim_for_check, condense_question, declines_to_answer,
                       evidence_answers_question, localised, refusal_text, source_states_claim, translate_question,
                       warm_up_checks)
from .language import detect_language
from .llm import BackendStatus, ChatModel, Usage, backend_status, get_chat_model
from .retrieve import Filters, Retriever
from .store import NewsIndex
from .types import Answer, AnswerSentence, Citation, Evidence, EvidenceSentence, RetrievedPassage, markers


@dataclass(frozen=True)
class Translations:
    texts: tuple[str, ...]
    prompt_tokens: int = 0
    seconds: float = 0.0


class QuestionTooLong(ValueError):
    """Raised before any work: the question is longer than Settings.max_question_chars."""


def check_question_length(question: str, settings: Settings) -> None:
    if len(question) > settings.max_question_chars:
        raise QuestionTooLong(
            f"the question is {len(question)} characters long; newsrag answers questions of up to "
            f"{settings.max_question_chars} characters (NEWSRAG_MAX_QUESTION_CHARS). Ask the question itself; "
            f"articles go into the index (newsrag ingest, or the Library tab of the page).")


@dataclass
class AnswerEvent:
    kind: Literal["status", "token", "answer"]
    text: str = ""
    answer: Answer | None = None


def _closest(hits: Sequence[RetrievedPassage], draft: Sequence[AnswerSentence] = (),
             draft_citations: Sequence[Citation] = ()) -> list[Citation]:
    """What a refusal lists: the passages a held-back draft cites first, numbered as its sentences now cite them
    (so that "[2] does not state this" points at a listed passage), then the closest passages it does not cite."""
    out = number_in_order(draft, draft_citations) if draft else []
    listed = {c.passage_id for c in out}
    for hit in hits:
        if hit.passage.id in listed:
            continue
        whole = EvidenceSentence(hit.passage.start, hit.passage.end, hit.passage.text, hit.score)
        e = Evidence(len(out) + 1, hit.passage, hit.article, whole)
        out.append(citation_for(e, hit.passage.start, hit.passage.end))
    return out


class Assistant:
    def __init__(self, settings: Settings, index: NewsIndex | None = None, embedder: Embedder | None = None,
                 model: ChatModel | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or get_embedder(settings)
        self.index = index or NewsIndex(settings, self.embedder.name)
        self.retriever = Retriever(self.index, self.embedder, settings)
        self.checker = CitationChecker(self.embedder, settings)
        self._model = model
        self._status: BackendStatus | None = None
        self._lock = threading.Lock()
        self._translations: dict[tuple[str, str], Translations] = {}  # by (question, language)

    # --- backend
    def backend(self, refresh: bool = False) -> BackendStatus:
        if self._model is not None and not refresh:
            return BackendStatus(self._model.backend, self._model.model)
        if self._status is None or refresh:
            self._status = backend_status(self.settings)
        return self._status

    @property
    def model(self) -> ChatModel:
        with self._lock:
            if self._model is None:
                self._model = get_chat_model(self.settings, self.backend())
            return self._model

    def warm_up(self) -> None:
        """Load the answer model and the embedder, and run the checks' worked examples once (see warm_up_checks),
        so that the first question is not the slow one. The web page calls this while it starts."""
        self.embedder.embed_queries(["warm-up"])
        if self.settings.answerable_min_yes > 0 or self.settings.verify_with_model:
            warm_up_checks(self.model, self.settings.prompts_dir)
        else:
            _ = self.model

    def translation_languages(self, question: str, nothing_found: bool = False) -> list[str]:
        """The other languages the indexed articles are written in, where some are in the question's own: there the
        articles in its language win on shared words alone. Over German articles only, an English question finds its
        passage as well without (xquad-de-dev), and the small model's translations ("What year did Tesla die?" as
        "Wie alt war Tesla?") then only pull in the wrong sentences; but where nothing passes the evidence gate
        (`nothing_found`), a translation is the last try before refusing: a short question in common words ("How
        many passengers were hurt?") scores too low against "vier Fahrgäste wurden leicht verletzt" in another
        language. Only languages with prompts/translate_<x>.txt."""
        if not self.settings.translate_questions:
            return []
        asked = detect_language(question) or "en"
        written = {a.language for a in self.index.manifest.articles.values()}
        if asked not in written and not nothing_found:
            return []
        return sorted(language for language in written
                      if language != asked and (self.settings.prompts_dir / f"translate_{language}.txt").exists())

    def translations(self, question: str, nothing_found: bool = False) -> Translations:
        """The question in each of translation_languages (see translate_question), with the prompt tokens and seconds
        that cost. The evaluation asks before the pipeline does, so they are kept per question and counted again by the
        answer that uses them."""
        if len(self._translations) > 1000:
            self._translations.clear()
        texts, tokens, seconds = [], 0, 0.0
        for language in self.translation_languages(question, nothing_found):
            key = (question, language)
            if key not in self._translations:
                usage, started = Usage(), time.perf_counter()
                text = translate_question(self.model, self.settings.prompts_dir, question, language, usage)
                self._translations[key] = Translations((text,) if text else (), usage.prompt_tokens,
                                                       round(time.perf_counter() - started, 3))
            done = self._translations[key]
            texts += done.texts
            tokens += done.prompt_tokens
            seconds += done.seconds
        return Translations(tuple(texts), tokens, seconds)

    def _verify_with_model(self, question: str, sentences: list[AnswerSentence], evidence: Sequence[Evidence],
                           citations: Sequence[Citation]) -> tuple[list[Citation], int]:
        """The embedding and word checks pass a claim that reuses the quote's words in a relation the quote does not
        state; the model is asked about each supported sentence, and a probability of YES below verify_min_yes flags
        it, unless another shown sentence states it (then the citation is corrected). Returns the citations and the
        prompt tokens spent."""
        by_n = {e.n: e for e in evidence}
        # the evidence sentence as the model saw it, and the highlighted quote when the checker found that elsewhere
        # in the passage: the quote alone can lose the subject, the evidence sentence alone the supporting words
        shown = {e.n: e.sentence.text for e in evidence}
        for c in citations:
            if c.n in shown and c.quote not in shown[c.n]:
                shown[c.n] += " " + c.quote
        spent = 0

        def states(claim: str, numbers: Sequence[int]) -> float | None:
            nonlocal spent
            usage = Usage()
            claim = claim_for_check(question, claim)
            source = " ".join(shown[n] for n in numbers)
            title = " / ".join(dict.fromkeys(by_n[n].article.title for n in numbers))
            probability = source_states_claim(self.model, self.settings.prompts_dir, claim, source, title, usage)
            spent += usage.prompt_tokens
            return probability

        threshold, confident = self.settings.verify_min_yes, self.settings.confident_min_yes
        for sentence in sentences:
            cited_shown = [n for n in sentence.citations if n in shown]
            if not sentence.supported or not cited_shown:
                continue
            sentence.model_check = states(sentence.text, cited_shown)
            if sentence.model_check is None or sentence.model_check >= threshold:
                sentence.weak = sentence.model_check is not None and sentence.model_check < confident
                continue
            cited = markers(sentence.citations)
            # small models often cite the sentence next to the one they used: ask once about the shown sentence
            # that shares the most words with the claim
            terms = anchor_terms(sentence.text)
            others = [(term_overlap(terms, e.sentence.text), e.n) for e in evidence if e.n not in sentence.citations]
            overlap, other = max(others, default=(0.0, 0))
            if overlap > 0:
                probability = states(sentence.text, [other])
                if probability is not None and probability >= threshold:
                    sentence.citations, sentence.model_check = [other], probability
                    sentence.weak = probability < confident
                    sentence.reason = f"citation corrected by newsrag: the model cited {cited}"
                    continue
            sentence.supported = False
            sentence.reason = f"the model-based check found that {cited} does not state this"
        existing = {c.n: c for c in citations}
        used = sorted({n for s in sentences for n in s.citations})
        kept = [existing.get(n) or citation_for(by_n[n], by_n[n].sentence.start, by_n[n].sentence.end) for n in used]
        return kept, spent

    # --- asking
    def ask(self, question: str, history: Sequence[tuple[str, str]] = (), filters: Filters | None = None) -> Answer:
        for event in self.ask_stream(question, history, filters):
            if event.answer is not None:
                return event.answer
        raise RuntimeError("the pipeline ended without an answer")  # pragma: no cover

    def ask_stream(self, question: str, history: Sequence[tuple[str, str]] = (),
                   filters: Filters | None = None) -> Iterator[AnswerEvent]:
        settings = self.settings
        timings: dict[str, float] = {}
        started = clock = time.perf_counter()

        def lap(name: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[name] = round(now - clock, 3)
            clock = now

        question = question.strip()
        check_question_length(question, settings)
        language = detect_language(question) or "en"
        self.index.reload_if_changed()
        standalone = question
        if history:
            yield AnswerEvent("status", "Rewriting the follow-up question…")
            standalone = condense_question(self.model, settings.prompts_dir, question, history)
            lap("condense")
        if self.translation_languages(standalone):
            yield AnswerEvent("status", "Translating the question for the search…")
        translation = self.translations(standalone)
        translated = translation.texts
        if translation.seconds:
            timings["translate"] = translation.seconds  # also when the evaluation asked for it first
            clock = time.perf_counter()
        yield AnswerEvent("status", "Searching the articles…")
        hits = self.retriever.retrieve(standalone, k=settings.top_k, filters=filters, extra_queries=translated)
        lap("retrieve")
        selection = select_evidence(standalone, hits, self.embedder, settings, translated)
        lap("evidence")
        if hits and selection.best_score < settings.refuse_below and not translated:
            retry = self.translations(standalone, nothing_found=True)
            if retry.texts:
                yield AnswerEvent("status", "Translating the question for the search…")
                translation = retry
                timings["translate"] = retry.seconds
                hits = self.retriever.retrieve(standalone, k=settings.top_k, filters=filters, extra_queries=retry.texts)
                selection = select_evidence(standalone, hits, self.embedder, settings, retry.texts)
                clock = time.perf_counter()
        answerable: float | None = None

        def refuse(reason: str, sentences: list[AnswerSentence] | None = None, usage: Usage | None = None,
                   kind: Literal["not_found", "no_answer", "unverified"] = "not_found",
                   draft_citations: Sequence[Citation] = ()) -> Answer:
            timings["total"] = round(time.perf_counter() - started, 3)
            status = self.backend()
            if filters is not None and not filters.is_empty():  # "not in my articles" would mislead
                reason += f"; searched only {filters.describe()}"
            return Answer(
                question=question, refused=True,
                answer=refusal_text(settings.prompts_dir, language, kind, any(s.supported for s in sentences or [])),
                refusal_kind=kind,
                sentences=sentences or [], citations=[], backend=status.backend, model=status.model,
                standalone_question=standalone, language=language, refusal_reason=reason,
                closest=_closest(selection.closest, sentences or [], draft_citations), timings=timings,
                prompt_tokens=usage.prompt_tokens if usage else 0, answerable=answerable,
            )

        if not hits:
            reason = "no articles match the filters" if filters and not filters.is_empty() else "the index is empty"
            yield AnswerEvent("answer", answer=refuse(reason))
            return
        if selection.best_score < settings.refuse_below:
            yield AnswerEvent("answer", answer=refuse(
                f"no passage bears on the question (best evidence score {selection.best_score:.2f} "
                f"< {settings.refuse_below:.2f})", usage=Usage(prompt_tokens=translation.prompt_tokens)))
            return

        asked = Usage()  # the backends set a Usage per request; the answerability check's tokens are added below
        if settings.answerable_min_yes > 0:
            yield AnswerEvent("status", "Checking that the evidence answers the question…")
            answerable = evidence_answers_question(self.model, settings.prompts_dir, standalone, selection.evidence,
                                                   asked)
            lap("answerable")
        asked.prompt_tokens += translation.prompt_tokens  # after the check: a backend sets its request's count
        if answerable is not None and answerable < settings.answerable_min_yes:
            yield AnswerEvent("answer", answer=refuse(
                f"the model found that the evidence does not answer the question (its probability of yes "
                f"{answerable:.2f} < {settings.answerable_min_yes:.2f})", usage=asked, kind="no_answer"))
            return

        yield AnswerEvent("status", "Writing the answer…")
        messages = answer_messages(settings.prompts_dir, standalone, selection.evidence, language)
        usage = Usage()
        pieces: list[str] = []
        for token in self.model.stream(messages, settings.max_answer_tokens, settings.temperature, usage):
            pieces.append(token)
            yield AnswerEvent("token", token)
        draft = "".join(pieces).strip()
        usage.prompt_tokens += asked.prompt_tokens
        lap("generate")
        if not draft or declines_to_answer(draft):
            yield AnswerEvent("answer", answer=refuse("the model found no answer in the evidence", usage=usage,
                                                         kind="no_answer"))
            return
        checked = check_answer(draft, selection.evidence, self.checker, standalone)
        for sentence in checked.sentences:
            sentence.text = time_notation(decimal_notation(sentence.text, language), language)
        lap("check")
        quoted = {e.n: e.sentence.text for e in selection.evidence}
        if checked.sentences and all(restates_question(s.text, standalone, language,
                                                       [quoted[n] for n in s.citations if n in quoted])
                                     for s in checked.sentences):
            for sentence in checked.sentences:
                sentence.supported, sentence.reason = False, "repeats the question without an answer"
            yield AnswerEvent("answer", answer=refuse("the model's draft only repeats the question", checked.sentences,
                                                      usage, kind="no_answer", draft_citations=checked.citations))
            return
        if checked.sentences and lacks_asked_figure(standalone, [s.text for s in checked.sentences]):
            for sentence in checked.sentences:
                if sentence.supported:
                    sentence.supported, sentence.reason = False, "gives no figure, but the question asks for one"
            yield AnswerEvent("answer", answer=refuse("the question asks for a figure and the model's draft gives none",
                                                      checked.sentences, usage, kind="no_answer",
                                                      draft_citations=checked.citations))
            return
        if settings.verify_with_model and any(s.supported for s in checked.sentences):
            yield AnswerEvent("status", "Checking each sentence against its quote…")
            checked.citations, spent = self._verify_with_model(standalone, checked.sentences, selection.evidence,
                                                               checked.citations)
            usage.prompt_tokens += spent
            lap("verify")
        verified = sum(s.supported for s in checked.sentences)
        if not verified or verified <= settings.min_verified_share * len(checked.sentences):
            reason = ("no sentence of the model's draft is supported by the passages it cites" if not verified else
                      f"only {verified} of the {len(checked.sentences)} sentences of the model's draft "
                      f"{'is' if verified == 1 else 'are'} supported by the passages they cite")
            yield AnswerEvent("answer", answer=refuse(reason, checked.sentences, usage, kind="unverified",
                                                      draft_citations=checked.citations))
            return
        # a passage another sentence already cites keeps its checked quote
        cited = {c.n for c in checked.citations}
        differing = note_differing_reports(checked.sentences, standalone, selection.evidence, hits, self.embedder,
                                           self.settings.same_report_min)
        checked.citations += [c for c in differing if c.n not in cited]
        lap("differs")
        checked.citations = number_in_order(checked.sentences, checked.citations)
        timings["total"] = round(time.perf_counter() - started, 3)
        status = self.backend()
        for s in checked.sentences:
            if s.differs:  # the reader must see that the reports differ, also where the answer is copied
                s.differs_note = localised(settings.prompts_dir, "differs_later" if s.newer_report else "differs",
                                           language, refs=markers(s.differs), date=s.newer_report)

        def with_markers(s: AnswerSentence) -> str:
            marks = "".join(f" [{n}]" for n in s.citations)
            if s.differs_note:
                marks += f" ({s.differs_note})"
            if not s.supported:  # a flagged sentence stays in the answer: marked, wherever the text is shown
                marks += f" ({localised(settings.prompts_dir, 'flagged', language)})"
            body = s.text.rstrip(".!?")
            return body + marks + s.text[len(body):] if marks else s.text

        answer_text = " ".join(with_markers(s) for s in checked.sentences)
        yield AnswerEvent("answer", answer=Answer(
            question=question, answer=answer_text, refused=False, sentences=checked.sentences,
            citations=checked.citations, backend=status.backend, model=getattr(self.model, "model", status.model),
            standalone_question=standalone, language=language, timings=timings, prompt_tokens=usage.prompt_tokens,
            answerable=answerable,
        ))
