"""Differing reports: a verified sentence that states a figure is compared with the other retrieved articles; one that
gives another figure for the same thing is listed beside the answer, so that two reports that differ are not settled
silently (and a newer one is named as such)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from .cite import citation_for, names_in, spelled_alike
from .claims import casualty_counts, figures
from .embed import Embedder
from .language import FUNCTION_WORDS, fold, words
from .types import AnswerSentence, ArticleInfo, Citation, Evidence, EvidenceSentence, RetrievedPassage


def claimed_figures(claim: str, question: str) -> set[float]:
    """The counts and amounts a claim states that its question did not."""
    return {f.value for f in figures(claim)} - {f.value for f in figures(question)}


def differing_reports(claim: str, question: str, cited: Sequence[Evidence], evidence: Sequence[Evidence],
                      vectors: dict[int, np.ndarray], same_report_min: float) -> list[int]:
    """Sentences of other articles (shown or retrieved) that give another figure for what the claim counts: "17 injured [1]" while
    another article reports "zwölf Menschen verletzt". The answer states one figure; the reader must learn that the
    reports differ (a later count, another estimate) instead of having it settled silently. A figure counts the same
    thing when the words around it match and the two sentences are alike, or when both count the same casualty
    outcome in articles that hold every name the question picks out its event by."""
    claimed = claimed_figures(claim, question)
    anchors = [f for e in cited for f in figures(e.sentence.text) if f.value in claimed]
    if not anchors:
        return []
    cited_articles = {e.article.id for e in cited}
    cited_titles = {fold(w) for e in cited for w in words(e.article.title)}
    casualties = [(f, outcome, age) for e in cited for f, outcome, age in casualty_counts(e.sentence.text, True)
                  if f.value in claimed and outcome]
    outcome_of = {f.value: outcome for f, outcome, age in casualties if not age}
    cited_ages = {f.value for e in cited for f, _, age in casualty_counts(e.sentence.text) if age}
    event_names = _event_names(question, cited) if casualties else set()
    names_held: dict[str, float] = {}  # per article: the share of the event's names it holds
    # per article and claimed figure, the sentence most like the cited one: "ein Mensch starb, 16 verletzt" may
    # differ from one article in both its dead and its injured
    found: dict[tuple[str, float], tuple[float, int]] = {}
    for other in evidence:
        if other.article.id in cited_articles or other.n not in vectors\
                or {f.value for f in figures(other.sentence.text)} & claimed:
            continue  # the same article, or a sentence that gives the claimed figure too
        alike = max((float(vectors[other.n] @ vectors[e.n]) for e in cited if e.n in vectors), default=0.0)
        if event_names and other.article.id not in names_held:
            article_words = _article_words(other.article)
            names_held[other.article.id] = sum(_holds_name(n, article_words) for n in event_names) / len(event_names)
        if names_held.get(other.article.id, 1.0) < 0.5:
            continue  # it lacks most names of the event asked about: another event (the Kiel fire, not Neustadt's)
        other_counts = casualty_counts(other.sentence.text, True)
        if casualties and names_held.get(other.article.id) == 1.0:
            # another report of the event the question names (not the Kiel fire for "… the Neustadt fire?"): its
            # count of the same outcome differs, however unalike the two sentences ("Demnach starb ein Mensch" /
            # "… sind zwei Menschen ums Leben gekommen": 0.05)
            for a, outcome, age in casualties:
                key = (other.article.id, a.value)
                if alike > found.get(key, (-1.0, 0))[0] and any(o == outcome and is_age == age and f.value != a.value
                                                                for f, o, is_age in other_counts):
                    found[key] = (alike, other.n)
        if alike < same_report_min:
            continue
        # a word both titles carry ("Tesla" in two articles titled "Nikola Tesla") names the topic, not what is counted
        common = cited_titles & {fold(w) for w in words(other.article.title)}
        # a count of the dead differs only from another count of the dead, not from the injured or "drei davon"
        other_outcomes = {f.value: o for f, o, age in other_counts if o and not age}
        other_ages = {f.value for f, _, age in other_counts if age}  # "ein 17-Jähriger" counts no one
        for a in anchors:
            key = (other.article.id, a.value)
            if a.value in cited_ages:
                continue
            if alike > found.get(key, (0.0, 0))[0] and any(
                    f.value not in claimed and f.value not in other_ages and f.counts_same(a, common)
                    and (a.value not in outcome_of or other_outcomes.get(f.value) == outcome_of[a.value])
                    for f in figures(other.sentence.text)):
                found[key] = (alike, other.n)
    return sorted({n for _, n in found.values()})


def _article_words(article: ArticleInfo) -> set[str]:
    return {fold(w) for w in words(f"{article.title} {article.text}")}


def _holds_name(name: str, article_words: set[str]) -> bool:
    """Stricter than _name_found: the name itself, inflected or spelled alike ("Neustädter"), not any word that
    shares its first four letters ("Neuseeland")."""
    return name in article_words or any(w.startswith(name) for w in article_words) or spelled_alike(name, article_words)


def _event_names(question: str, cited: Sequence[Evidence]) -> set[str]:
    """The names by which the question picks out its event and that the cited article holds: "Neustadt" in "How
    many died in the Neustadt warehouse fire?" (in German every noun: "Brand", "Lagerhalle"). Another article that
    holds them all reports the same event, as far as the question tells events apart."""
    cited_words = {i: _article_words(e.article) for i, e in enumerate(cited)}
    return {n for n in names_in(question) if n not in FUNCTION_WORDS
            and all(_holds_name(n, found) for found in cited_words.values())}


def note_differing_reports(sentences: Sequence[AnswerSentence], question: str, evidence: Sequence[Evidence],
                           retrieved: Sequence[RetrievedPassage], embedder: Embedder,
                           same_report_min: float) -> list[Citation]:
    """Marks each verified sentence with the sentences of other articles that give a different figure for what it
    states (`AnswerSentence.differs`), and returns citations for them. Looks beyond the evidence the model was shown:
    the other report is often in a passage that ranked lower ("4,5 Millionen Euro" shown, "2,8 Millionen" not)."""
    by_n = {e.n: e for e in evidence}
    checked = [s for s in sentences if s.supported and any(n in by_n for n in s.citations)]
    if not any(claimed_figures(s.text, question) for s in checked):
        return []
    candidates = list(evidence)
    next_n = max(e.n for e in evidence) + 1
    seen = {(e.article.id, e.sentence.start) for e in evidence}
    for hit in retrieved:
        for sentence in hit.passage.sentences:
            if (hit.article.id, sentence.start) in seen:
                continue
            seen.add((hit.article.id, sentence.start))
            text = hit.article.text[sentence.start:sentence.end]
            candidates.append(Evidence(next_n, hit.passage, hit.article,
                                       EvidenceSentence(sentence.start, sentence.end, text, 0.0)))
            next_n += 1
    vectors = dict(zip([e.n for e in candidates], embedder.embed_queries([e.sentence.text for e in candidates])))
    listed: dict[int, Citation] = {}
    for s in checked:
        s.differs = differing_reports(s.text, question, [by_n[n] for n in s.citations if n in by_n], candidates,
                                      vectors, same_report_min)
        cited_dates = [by_n[n].article.published for n in s.citations if n in by_n]
        other_dates = [c.article.published for c in candidates if c.n in s.differs]
        # "a later article" only when every one listed is later: an older report is no update
        if other_dates and all(other_dates) and cited_dates and all(cited_dates) and \
                min(other_dates) > max(cited_dates):
            s.newer_report = max(other_dates)
        for n in s.differs:
            e = next(c for c in candidates if c.n == n)
            listed.setdefault(n, replace(citation_for(e, e.sentence.start, e.sentence.end), other_figure=True))
    return list(listed.values())
