"""Prompts (templates in prompts/) and the model calls: condensing a follow-up, writing the answer, checking a claim."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from string import Template

from .language import NEGATION, detect_language
from .llm import ChatMessage, ChatModel, Usage, choice_probability, complete
from .split import split_sentences
from .types import Evidence

LANGUAGE_NAMES = {"en": "English", "de": "German"}
NOT_IN_ARTICLES = "NOT_IN_ARTICLES"
# "The names are not mentioned in the given evidence": the model's own words for NOT_IN_ARTICLES. A sentence is one
# when it has all three, in any order (German puts them in another): a negation, a verb of saying, the evidence.
_SAYING = re.compile(r"\b(?:mention\w*|state[sd]?|given|provided|found|contain\w*|say|says|specif\w*|erwähnt|genannt|"
                     r"nennt|nennen|angegeben|enthalten|gefunden|steht)\b", re.IGNORECASE)
_EVIDENCE = re.compile(r"\b(?:evidence|articles?|sources?|passages?|Artikeln?|Belegen?|Quellen?|Textstellen?)\b",
                       re.IGNORECASE)


def declines_to_answer(draft: str) -> bool:
    """The draft is NOT_IN_ARTICLES, or every sentence of it says in other words that the evidence does not say."""
    if NOT_IN_ARTICLES.lower() in draft.lower():
        return True
    plain = re.sub(r"\s*\[\d+\]", "", draft).strip()
    sentences = [plain[s.start:s.end] for s in split_sentences(plain)]
    return bool(sentences) and all(NEGATION.search(s) and _SAYING.search(s) and _EVIDENCE.search(s) for s in sentences)


@lru_cache(maxsize=32)
def _template(prompts_dir: Path, name: str) -> Template:
    path = prompts_dir / name
    if not path.exists():
        raise FileNotFoundError(f"prompt template {path} is missing")
    return Template(path.read_text(encoding="utf-8"))


def render(prompts_dir: Path, name: str, **values: object) -> str:
    return _template(prompts_dir, name).substitute({k: str(v) for k, v in values.items()}).strip()


def localised(prompts_dir: Path, stem: str, language: str, **values: object) -> str:
    """`stem_<language>.txt` when the prompts have one, else the English `stem_en.txt`."""
    name = f"{stem}_{language}.txt"
    return render(prompts_dir, name if (prompts_dir / name).exists() else f"{stem}_en.txt", **values)


REFUSAL_STEMS = {"not_found": "refusal", "no_answer": "no_answer", "unverified": "unverified"}


def refusal_text(prompts_dir: Path, language: str, kind: str = "not_found", partly_verified: bool = False) -> str:
    """"The articles do not say" only when no passage bears on the question; when the model judged on-topic passages,
    or its draft did not verify, the reader is sent to the closest passages instead. A draft held back although some
    of its sentences verified must not be called unchecked: the reader is sent to those sentences."""
    if kind == "unverified" and partly_verified:
        return localised(prompts_dir, "held_back", language)
    return localised(prompts_dir, REFUSAL_STEMS.get(kind, "refusal"), language)


@lru_cache(maxsize=4)
def _refusal_texts(prompts_dir: Path) -> frozenset[str]:
    files = [f for stem in REFUSAL_STEMS.values() for f in prompts_dir.glob(f"{stem}_*.txt")]
    return frozenset(f.read_text(encoding="utf-8").strip() for f in files)


def _fence(text: str) -> str:
    # An article cannot fake the start of another evidence block or the end of the evidence.
    return re.sub(r"^\s*\[(\d+)\]", r"(\1)", text, flags=re.MULTILINE).replace("Question:", "Question -")


def evidence_text(prompts_dir: Path, evidence: Sequence[Evidence]) -> str:
    """The numbered evidence sentences as the model reads them: grouped by article, in the article's own order, so
    each article's sentences read as prose."""
    groups: dict[str, list[Evidence]] = {}
    for e in evidence:
        groups.setdefault(e.article.id, []).append(e)
    return "\n\n".join(
        render(prompts_dir, "evidence_article.txt", title=_fence(items[0].article.title),
               # no "(undated)": the model took it for the article's content ('The article "Nikola Tesla"
               # (undated) was published in 1937')
               dated=f" ({items[0].article.published})" if items[0].article.published else "",
               passages="\n".join(render(prompts_dir, "evidence_block.txt", n=e.n, text=_fence(e.sentence.text))
                                  for e in items))
        for items in groups.values()
    )


def answer_messages(prompts_dir: Path, question: str, evidence: Sequence[Evidence], language: str) -> list[ChatMessage]:
    language_name = LANGUAGE_NAMES.get(language, "the language of the question")
    blocks = evidence_text(prompts_dir, evidence)
    # one worked example (fictional, so it cannot leak a fact into an answer unnoticed: the checker would flag it)
    example = [
        ChatMessage("user", render(prompts_dir, "answer_user.txt", evidence=render(prompts_dir, "example_evidence.txt"),
                                   question=localised(prompts_dir, "example_question", language),
                                   language=language_name)),
        ChatMessage("assistant", localised(prompts_dir, "example_answer", language)),
    ]
    return [
        ChatMessage("system", render(prompts_dir, "answer_system.txt", language=language_name)),
        *example,
        ChatMessage("user", render(prompts_dir, "answer_user.txt", evidence=blocks, question=question,
                                   language=language_name)),
    ]


def condense_question(model: ChatModel, prompts_dir: Path, question: str, history: Sequence[tuple[str, str]],
                      max_turns: int = 3) -> str:
    """A follow-up ('and what did he say?') becomes a standalone question, using the last turns."""
    if not history:
        return question
    lines = []
    for user, assistant in list(history)[-max_turns:]:
        lines.append(f"User: {user}")
        # a refusal carries nothing to resolve "he" or "so" against, and the model copied it as the question
        if assistant.strip() in _refusal_texts(prompts_dir):
            continue
        plain = re.sub(r"\s*\[\d+\]", "", assistant)[:600]
        lines.append(f"Assistant: {plain}")
    prompt = render(prompts_dir, "condense.txt", history="\n".join(lines), question=question)
    rewritten = complete(model, [ChatMessage("user", prompt)], max_tokens=80).strip()
    rewritten = rewritten.split("\n")[0].strip().strip('"').strip()
    rewritten = re.sub(r"^(rewritten question|question)\s*:\s*", "", rewritten, flags=re.IGNORECASE)
    # a model that answers instead of rewriting produces something long or empty: keep the original then
    if not rewritten or len(rewritten) > 3 * len(question) + 120:
        return question
    # nor a statement ("What did Helga Brandt say …?" became "Helga Brandt said that the bridge was maroden."), which
    # is then checked as if it were asked, nor the question in another language (a German name got lost)
    asked, said = detect_language(question), detect_language(rewritten)
    if question.rstrip().endswith("?") and not rewritten.endswith("?") or asked and said and asked != said:
        return question
    return rewritten


def translate_question(model: ChatModel, prompts_dir: Path, question: str, language: str,
                       usage: Usage | None = None) -> str:
    """The question in another language of the articles, for retrieval only: an English question finds a German
    article by its own words ("Pjöngjang", "Soforthilfe"), and in a corpus of both languages the articles in the
    question's language no longer win on shared words alone. '' when the model gives nothing usable."""
    prompt = render(prompts_dir, f"translate_{language}.txt", question=question)
    translated = complete(model, [ChatMessage("user", prompt)], max_tokens=80, usage=usage).strip()
    translated = re.sub(r"^(english|german|englisch|deutsch|translation|question)\s*:\s*", "",
                        translated.split("\n")[0].strip(), flags=re.IGNORECASE).strip('"„“ ')
    # not a translation: an answer ("Ja, er wurde gefunden."), the question echoed, the wrong language, a long reply
    if (not translated or len(translated) > 2 * len(question) + 40 or translated.strip() == question.strip()
            or question.rstrip().endswith("?") and not translated.endswith("?")
            or detect_language(translated) not in (language, "")):
        return ""
    return translated


@lru_cache(maxsize=4)
def _verify_examples(prompts_dir: Path) -> tuple[tuple[str, str, str, str], ...]:
    text = (prompts_dir / "verify_examples.txt").read_text(encoding="utf-8")
    blocks = []
    for block in re.split(r"\n\s*\n", text):
        fields = dict(re.findall(r"^(Article|Source|Claim|Verdict):\s*(.+)$", block, flags=re.MULTILINE))
        if {"Article", "Source", "Claim", "Verdict"} <= fields.keys():
            blocks.append((fields["Article"], fields["Source"], fields["Claim"], fields["Verdict"]))
    return tuple(blocks)


SHORT_ANSWER_WORDS = 6  # an answer sentence this short may be a bare fragment ("1886"): check it with its question


def claim_for_check(question: str, sentence: str) -> str:
    """What the check is asked about: a bare "1886" is stated by any source that has the number; what it claims is
    the answer to the question (measured: 0.98 YES alone, 0.33 with the question in front, for a source about another
    year)."""
    return f"{question} {sentence}" if len(sentence.split()) <= SHORT_ANSWER_WORDS else sentence


def source_states_claim(model: ChatModel, prompts_dir: Path, claim: str, source: str, title: str = "",
                        usage: Usage | None = None) -> float | None:
    """The model's probability that `source` states `claim`: its first-token YES against NO; None when it answers
    neither. The article title tells what 'they' or 'it' refers to, as it did when the answer was written.
    (Adding the question made the 1.5B judge more lenient on wrong answers: measured, dropped.)"""
    messages = [ChatMessage("system", render(prompts_dir, "verify_system.txt"))]
    for example_title, example_source, example_claim, verdict in _verify_examples(prompts_dir):
        messages.append(ChatMessage("user", render(prompts_dir, "verify_user.txt", title=example_title,
                                                   source=example_source, claim=example_claim)))
        messages.append(ChatMessage("assistant", verdict))
    messages.append(ChatMessage("user", render(prompts_dir, "verify_user.txt", title=_fence(title) or "untitled",
                                               source=_fence(source), claim=claim)))
    return choice_probability(model, messages, yes=("YES", "JA"), no=("NO", "NEIN"), usage=usage)


@lru_cache(maxsize=4)
def _answerable_examples(prompts_dir: Path) -> tuple[tuple[str, str], ...]:
    lines = (prompts_dir / "answerable_examples.txt").read_text(encoding="utf-8").splitlines()
    return tuple((verdict, question.strip()) for verdict, _, question in
                 (line.partition(" ") for line in lines if line.startswith(("YES ", "NO "))))


def _answerable_messages(prompts_dir: Path, question: str, evidence_block: str) -> list[ChatMessage]:
    example_evidence = render(prompts_dir, "example_evidence.txt")
    messages = [ChatMessage("system", render(prompts_dir, "answerable_system.txt"))]
    for verdict, example_question in _answerable_examples(prompts_dir):
        messages.append(ChatMessage("user", render(prompts_dir, "answerable_user.txt", evidence=example_evidence,
                                                   question=example_question)))
        messages.append(ChatMessage("assistant", verdict))
    messages.append(ChatMessage("user", render(prompts_dir, "answerable_user.txt", evidence=evidence_block,
                                               question=_fence(question))))
    return messages


def evidence_answers_question(model: ChatModel, prompts_dir: Path, question: str, evidence: Sequence[Evidence],
                              usage: Usage | None = None) -> float | None:
    """The model's probability that the evidence states the answer to the question, asked before it writes one: with
    the answering paragraph missing, the neighbouring ones of the same article still pass the similarity gate, and the
    1.5B model then answers from them and its claim check agrees. None when it answers neither YES nor NO."""
    messages = _answerable_messages(prompts_dir, question, evidence_text(prompts_dir, evidence))
    return choice_probability(model, messages, yes=("YES", "JA"), no=("NO", "NEIN"), usage=usage)


def warm_up_checks(model: ChatModel, prompts_dir: Path) -> None:
    """Ask the answerability check and the claim check once about their own worked examples, so that the backend's
    prompt cache holds the long shared start of both (measured with the embedded model, sample article: the two checks
    took 13 s and 15 s on the first question without this, 6 s and 5 s with it; bench/first_question.py)."""
    example_question = _answerable_examples(prompts_dir)[0][1]
    choice_probability(model, _answerable_messages(prompts_dir, example_question,
                                                   render(prompts_dir, "example_evidence.txt")),
                       yes=("YES", "JA"), no=("NO", "NEIN"))
    title, source, claim, _ = _verify_examples(prompts_dir)[0]
    source_states_claim(model, prompts_dir, claim, source, title)
