"""The seed questions about the sample article, answered by the embedded default model (Qwen2.5-Coder-1.5B)."""

import json
import re

import pytest

from rag.answer import Assistant

from conftest import SEED_QUESTIONS

# ../shared sits beside the checkout on developer machines and in CI
QUESTIONS = [json.loads(line) for line in SEED_QUESTIONS.read_text().splitlines() if line.strip()] \
    if SEED_QUESTIONS.exists() else []


@pytest.fixture(scope="module")
def assistant(sample_index_dir):
    from rag.config import Settings

    return Assistant(Settings(index_dir=sample_index_dir, llm_backend="llamacpp", llamacpp_model="qwen2.5-coder-1.5b"))


@pytest.mark.slow
@pytest.mark.parametrize("question", QUESTIONS, ids=[q["id"] for q in QUESTIONS])
def test_seed_question(assistant, question):
    answer = assistant.ask(question["question"])
    print(question["id"], "->", answer.answer, answer.refusal_reason)
    if not question["answerable"]:
        assert answer.refused, answer.answer
        return
    assert not answer.refused, answer.refusal_reason
    for pattern in question["must_mention"]:
        assert re.search(pattern, answer.answer, re.IGNORECASE), f"{pattern!r} not in {answer.answer!r}"
    assert any(question["gold_passage_contains"] in c.text for c in answer.citations)
    assert answer.language == question["lang"]
    # the reader sees [1], [2], … in the order the answer cites them, not the evidence list's numbers
    first_cited = list(dict.fromkeys(n for s in answer.sentences for n in s.citations))
    assert first_cited == list(range(1, len(first_cited) + 1)) == [c.n for c in answer.citations]
    for sentence in answer.sentences:
        assert sentence.supported or sentence.reason
        for n in sentence.citations:
            citation = next(c for c in answer.citations if c.n == n)
            assert citation.quote in citation.text


@pytest.mark.slow
def test_an_answer_does_not_depend_on_the_questions_asked_before_it(assistant):
    # with the embedded model's prompt cache reused, this German answer lost a name after one question and kept it
    # after another; each answer now evaluates its whole prompt
    question = "Wer nahm an dem Treffen in Pjöngjang teil?"
    first = assistant.ask(question)
    assistant.ask("Who is Kim Jong Gyu?")
    again = assistant.ask(question)
    assert again.answer == first.answer
    assert [s.supported for s in again.sentences] == [s.supported for s in first.sentences]
