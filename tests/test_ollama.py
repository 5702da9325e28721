import re

import pytest

from rag.answer import Assistant
from rag.generate import refusal_text
from rag.llm import ChatMessage, LLMError, OllamaChat, Usage, backend_status, get_chat_model

from fake_ollama import FakeOllama


@pytest.fixture
def ollama():
    server = FakeOllama()
    yield server
    server.close()


def test_streams_ndjson_and_reports_usage(ollama):
    chat = OllamaChat(ollama.url, "fake-model", n_ctx=2048, timeout=30)
    usage = Usage()
    pieces = list(chat.stream([ChatMessage("user", "[3] Die USA boten einen 30-tägigen Waffenstillstand an.")],
                              64, 0.0, usage))
    assert len(pieces) > 3
    assert "".join(pieces) == "The US offered Ukraine a 30-day ceasefire [3]."
    assert usage.prompt_tokens == 321
    request = ollama.requests[-1]
    assert request["stream"] is True and request["options"]["num_predict"] == 64


def test_auto_prefers_ollama_when_it_has_the_model(ollama, settings):
    s = settings.with_overrides(llm_backend="auto", ollama_host=ollama.url, ollama_model="fake-model")
    status = backend_status(s)
    assert (status.backend, status.model, status.message) == ("ollama", "fake-model", "")
    assert isinstance(get_chat_model(s, status), OllamaChat)


def test_auto_falls_back_to_embedded_when_model_missing_or_server_down(ollama, settings):
    missing = backend_status(settings.with_overrides(llm_backend="auto", ollama_host=ollama.url, ollama_model="llama9"))
    assert missing.backend == "llamacpp" and "no model 'llama9'" in missing.message
    down = backend_status(settings.with_overrides(llm_backend="auto", ollama_host="http://127.0.0.1:9"))
    assert down.backend == "llamacpp" and "not answering" in down.message


def test_ollama_configured_but_down_is_a_clear_error(settings):
    s = settings.with_overrides(llm_backend="ollama", ollama_host="http://127.0.0.1:9", ollama_model="x")
    with pytest.raises(LLMError, match="not answering"):
        get_chat_model(s)


def test_full_answer_through_ollama(ollama, sample_settings):
    s = sample_settings.with_overrides(llm_backend="ollama", ollama_host=ollama.url, ollama_model="fake-model")
    answer = Assistant(s).ask("What did the US offer Ukraine?")
    assert not answer.refused, answer.refusal_reason
    assert answer.backend == "ollama" and answer.model == "fake-model"
    assert "30-day" in answer.answer
    assert answer.sentences[0].supported
    assert "30-tägigen Waffenstillstand" in answer.citations[0].quote
    # whether the evidence answers, the answer, and the check of its one sentence, as the server counted
    assert answer.prompt_tokens == 3 * 321
    answerable_request, answer_request, check_request = ollama.requests[-3:]
    # before writing, the model is asked whether the evidence answers the question at all: one first-token request
    assert answerable_request["stream"] is False and answerable_request["logprobs"] is True
    assert "Question: What did the US offer Ukraine?" in answerable_request["messages"][-1]["content"]
    assert "30-tägigen Waffenstillstand" in answerable_request["messages"][-1]["content"]
    prompt = answer_request["messages"]
    assert prompt[0]["role"] == "system" and "What did the US offer Ukraine?" in prompt[-1]["content"]
    # then the sentence goes to the model-based check, with its article's title and quote, asking for the first
    # token's log-probabilities (one non-streaming request); the server's 0.9 on YES is the sentence's score
    assert check_request["stream"] is False and check_request["logprobs"] is True
    assert check_request["options"]["num_predict"] == 1
    assert check_request["messages"][-1]["content"].startswith("Article: Russland und Nordkorea")
    assert "30-tägigen Waffenstillstand" in check_request["messages"][-1]["content"]
    assert answer.sentences[0].model_check == pytest.approx(0.9)
    assert "verify" in answer.timings


def ask_through(server, settings, question):
    """One question answered through a FakeOllama server, which is closed afterwards."""
    try:
        s = settings.with_overrides(llm_backend="ollama", ollama_host=server.url, ollama_model="fake-model")
        return Assistant(s).ask(question)
    finally:
        server.close()


def test_check_falls_back_to_the_reply_text_on_a_server_without_logprobs(sample_settings):
    old = FakeOllama(logprobs=False)
    answer = ask_through(old, sample_settings, "What did the US offer Ukraine?")
    assert not answer.refused, answer.refusal_reason
    # the logprobs request came back without them, so the check asked again for the reply and read its YES
    asked_logprobs, asked_text = old.requests[-2:]
    assert asked_logprobs.get("logprobs") is True and "logprobs" not in asked_text
    assert answer.sentences[0].supported and answer.sentences[0].model_check == 1.0
    assert answer.prompt_tokens == 5 * 321  # both checks asked twice (log-probabilities, then the reply), the answer


def test_a_bare_answer_is_checked_as_the_answer_to_its_question(sample_settings):
    def reply(messages):
        user = messages[-1]["content"]
        if user.startswith("Article:") or user.endswith("Answer YES or NO."):
            return "YES"
        n = re.search(r"^\[(\d+)\][^\n]*30-tägigen", user, flags=re.MULTILINE).group(1)
        return f"Ein 30-tägiger Waffenstillstand [{n}]."

    server = FakeOllama(reply=reply)
    answer = ask_through(server, sample_settings, "Wie lange sollte der Waffenstillstand dauern?")
    assert not answer.refused, answer.sentences
    check = server.requests[-1]["messages"][-1]["content"]
    # "a 30-day ceasefire" alone is stated by any source with a 30 in it; the check sees what it answers
    assert "Claim: Wie lange sollte der Waffenstillstand dauern? Ein 30-tägiger Waffenstillstand." in check


def test_evidence_that_does_not_answer_is_refused_before_an_answer_is_written(sample_settings):
    def reply(messages):
        if messages[0]["content"].startswith("You decide whether evidence sentences"):
            return "NO"
        return "The US offered Ukraine a 30-day ceasefire [1]."

    server = FakeOllama(reply=reply)
    answer = ask_through(server, sample_settings, "What did the US offer Ukraine?")
    # the passages are on the topic and the verdict is a probability: the reader is sent to them, not told that the
    # articles are silent
    assert answer.refused and answer.refusal_kind == "no_answer"
    assert answer.answer.startswith("The closest passages do not seem to answer this") and answer.closest
    # the server's 0.9 on NO is a 0.1 probability of yes, under the 0.7 the settings require
    assert "the evidence does not answer the question" in answer.refusal_reason and "0.10 < 0.70" in answer.refusal_reason
    assert [r["stream"] for r in server.requests if "messages" in r] == [False]  # no answer was asked for
    assert answer.closest and answer.prompt_tokens == 321


def test_a_draft_with_half_its_sentences_flagged_is_refused_and_the_share_is_a_setting(sample_settings):
    def reply(messages):
        user = messages[-1]["content"]
        if messages[0]["content"].startswith("You decide whether evidence sentences"):
            return "YES"
        if user.startswith("Article:"):  # the claim check confirms only the ceasefire offer
            return "YES" if "30-tägigen" in user and "30-day" in user else "NO"
        n = re.search(r"^\[(\d+)\][^\n]*30-tägigen", user, flags=re.MULTILINE).group(1)
        return f"The US offered Ukraine a 30-day ceasefire [{n}]. Russia rejected the offer the same evening [{n}]."

    question = "What did the US offer Ukraine?"
    refused = ask_through(FakeOllama(reply=reply), sample_settings, question)
    assert refused.refused
    assert "only 1 of the 2 sentences" in refused.refusal_reason
    # a draft that did not hold up is not proof that the articles are silent: the refusal must not say they are
    assert refused.refusal_kind == "unverified" and "do not say" not in refused.answer
    # one sentence did verify: the refusal says the draft was held back, not that nothing could be checked
    assert refused.answer.startswith("The model's draft was held back") and "could be checked" not in refused.answer
    assert "only 1 of the 2 sentences of the model's draft is supported" in refused.refusal_reason
    assert [s.supported for s in refused.sentences] == [True, False]  # the reason keeps what was flagged
    # the draft's citation is listed first and numbered as its sentences now cite it, so that the reason names a
    # listed passage; the closest passages follow, each once
    assert [s.citations for s in refused.sentences] == [[1], [1]]
    assert refused.sentences[1].reason.endswith("not in passage [1]")
    assert "30-tägigen" in refused.closest[0].quote and refused.closest[0].quote != refused.closest[0].text
    assert [c.n for c in refused.closest] == list(range(1, len(refused.closest) + 1))
    assert len({c.passage_id for c in refused.closest}) == len(refused.closest) > 1

    shown = ask_through(FakeOllama(reply=reply), sample_settings.with_overrides(min_verified_share=0.0), question)
    assert not shown.refused, shown.refusal_reason
    assert [s.supported for s in shown.sentences] == [True, False] and shown.sentences[1].reason
    # the flag travels with the answer text, which a tool may show or copy without the sentence list
    assert shown.answer == ("The US offered Ukraine a 30-day ceasefire [1]. Russia rejected the offer the same evening "
                            "[1] (unverified: the passage it cites does not back it).")


def test_a_draft_that_only_repeats_the_question_is_refused_without_asking_the_check(sample_settings):
    question = "When did the US offer Ukraine a ceasefire?"

    def reply(messages):
        if messages[0]["content"].startswith("You decide whether evidence sentences"):
            return "YES"
        if messages[-1]["content"].startswith("Article:"):
            return "YES"
        n = re.search(r"^\[(\d+)\][^\n]*30-tägigen", messages[-1]["content"], flags=re.MULTILINE).group(1)
        return f"The US offered Ukraine a ceasefire [{n}]."

    server = FakeOllama(reply=reply)
    answer = ask_through(server, sample_settings, question)
    assert answer.refused and answer.refusal_kind == "no_answer" and "do not say" not in answer.answer
    assert answer.refusal_reason == "the model's draft only repeats the question"
    assert [(s.supported, s.reason) for s in answer.sentences] == [(False, "repeats the question without an answer")]
    # the claim check was never asked: the answerability check and the answer are the only requests
    assert [r["stream"] for r in server.requests if "messages" in r] == [False, True]


def test_a_draft_of_bare_markers_is_refused_as_unsupported(sample_settings):
    def reply(messages):
        return "YES" if messages[-1]["content"].endswith("Answer YES or NO.") else "[1]"

    answer = ask_through(FakeOllama(reply=reply), sample_settings, "What did the US offer Ukraine?")
    assert answer.refused and answer.sentences == []
    # nothing to compare with the question: not "only repeats the question"
    assert answer.refusal_reason == "no sentence of the model's draft is supported by the passages it cites"
    assert answer.answer.startswith("No answer could be checked against the articles")  # and nothing held up


def test_a_follow_up_after_a_refusal_is_rewritten_from_the_question_not_the_refusal(sample_settings):
    """The refusal text gave the model nothing to resolve "so" against, and it copied the refusal as the question."""
    server = FakeOllama(reply=lambda messages: "Who said that the US offered Ukraine a ceasefire?")
    try:
        s = sample_settings.with_overrides(llm_backend="ollama", ollama_host=server.url, ollama_model="fake-model")
        assistant = Assistant(s)
        history = [("What did the US offer Ukraine?", refusal_text(s.prompts_dir, "en", "not_found")),
                   ("Wer bot das an?", refusal_text(s.prompts_dir, "de", "unverified")),
                   ("Und wann?", refusal_text(s.prompts_dir, "de", "no_answer"))]
        answer = assistant.ask("Who said so?", history)
    finally:
        server.close()
    rewrite = next(r for r in server.requests if "messages" in r)["messages"][-1]["content"]
    assert rewrite.startswith("Rewrite the last question")
    assert "User: What did the US offer Ukraine?" in rewrite and "User: Und wann?" in rewrite
    assert "do not say" not in rewrite and "Keine Antwort" not in rewrite and "Assistant:" not in rewrite
    assert "Passagen" not in rewrite
    assert answer.standalone_question == "Who said that the US offered Ukraine a ceasefire?"


@pytest.mark.parametrize("rewrite, kept", [
    ("What did Helga Brandt say about the Hafenbrücke in Lindenstadt?", True),
    # a statement is no question: it would be checked as if the reader had asked it
    ("Helga Brandt said that the Hafenbrücke in Lindenstadt was maroden.", False),
    # nor is the question in another language
    ("Was sagte Helga Brandt über die Hafenbrücke in Lindenstadt?", False),
])
def test_a_follow_up_rewrite_that_is_a_statement_or_in_another_language_is_not_used(sample_settings, rewrite, kept):
    """Found by a new-user trial: a question in a running chat came back as a statement and was refused."""
    from rag.generate import condense_question

    server = FakeOllama(reply=lambda messages: rewrite)
    try:
        s = sample_settings.with_overrides(llm_backend="ollama", ollama_host=server.url, ollama_model="fake-model")
        question = "What did she say about the bridge?"
        history = [("Who is the mayor of Lindenstadt?", "Helga Brandt is the mayor of Lindenstadt [1].")]
        standalone = condense_question(get_chat_model(s), s.prompts_dir, question, history)
    finally:
        server.close()
    assert standalone == (rewrite if kept else question)
