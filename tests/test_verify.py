"""The model-based claim check: the last step of answer checking, which flags a sentence whose quote does not state it."""

import pytest

from rag.answer import Assistant
from rag.generate import _answerable_examples, _verify_examples, claim_for_check, source_states_claim
from rag.llm import embedded_model


def test_verify_examples_are_parsed_from_the_prompt_file(settings):
    examples = _verify_examples(settings.prompts_dir)
    assert len(examples) >= 2
    assert {verdict for *_, verdict in examples} == {"YES", "NO"}
    assert all(title for title, *_ in examples)


class VerdictModel:
    """The real embedded model for the answer; a fixed verdict for the claim check (to test what a 'no' does)."""

    def __init__(self, inner, verdict):
        self.inner, self.backend, self.model, self.verdict, self.checks = inner, inner.backend, inner.model, verdict, 0

    def stream(self, messages, *args, **kwargs):
        if messages[0].content.startswith("You check whether a source sentence states a claim"):
            # no first_token_logprobs here, so the check reads this reply as 1.0 (YES) or 0.0 (NO)
            self.checks += 1
            yield self.verdict
            return
        yield from self.inner.stream(messages, *args, **kwargs)


@pytest.mark.slow
def test_a_no_from_the_model_check_flags_the_sentence_and_a_yes_keeps_it(qwen_settings):
    question = "What did the US offer Ukraine?"
    kept = Assistant(qwen_settings, model=VerdictModel(embedded_model(qwen_settings), "YES")).ask(question)
    assert not kept.refused and any(s.supported for s in kept.sentences)
    assert not any(s.weak for s in kept.sentences)
    # a check that passes below the confident level marks the sentence weak (a bare YES reads as 1.0)
    doubtful = Assistant(qwen_settings.with_overrides(confident_min_yes=1.01),
                         model=VerdictModel(embedded_model(qwen_settings), "YES")).ask(question)
    assert [s.weak for s in doubtful.sentences] == [s.supported and s.model_check is not None
                                                    for s in doubtful.sentences]
    assert any(s.weak for s in doubtful.sentences)

    model = VerdictModel(embedded_model(qwen_settings), "NO")
    flagged = Assistant(qwen_settings, model=model).ask(question)
    # every sentence the other checks passed went to the model check and was flagged: nothing is left to stand on
    assert model.checks >= 1
    assert flagged.refused
    assert "no sentence of the model's draft is supported" in flagged.refusal_reason
    assert any("the model-based check found that" in s.reason for s in flagged.sentences)


@pytest.mark.slow
def test_verification_can_be_switched_off(qwen_settings):
    model = VerdictModel(embedded_model(qwen_settings), "NO")
    answer = Assistant(qwen_settings.with_overrides(verify_with_model=False), model=model).ask(
        "What did the US offer Ukraine?")
    assert model.checks == 0 and not answer.refused and "verify" not in answer.timings


@pytest.mark.slow
@pytest.mark.parametrize("question, claim, stated", [
    ("Where is Konstanz?", "Konstanz lies on Lake Constance.", True),
    ("Seit wann fährt die Fähre nach Bregenz?", "Die Fähre fährt seit 2019 nach Bregenz.", True),
    ("Where is Konstanz?", "Konstanz lies on the coast of France.", False),
    ("Who opened the ferry to Bregenz?", "The ferry to Bregenz was opened by the Swiss president.", False),
])
def test_qwen_tells_a_stated_claim_from_a_reworded_one(qwen_settings, question, claim, stated):
    source = ("Die Stadt Konstanz liegt am Bodensee, nahe der Grenze zur Schweiz. "
              "Seit 2019 fährt eine Fähre von dort nach Bregenz.")
    model = embedded_model(qwen_settings)
    probability = source_states_claim(model, qwen_settings.prompts_dir, claim_for_check(question, claim), source,
                                      "Konstanz")
    # a probability read from llama.cpp's log-probabilities, not a 0/1 text verdict
    assert probability is not None and 0.0 < probability < 1.0
    assert (probability >= qwen_settings.verify_min_yes) is stated


@pytest.mark.slow
def test_a_bare_answer_is_checked_together_with_its_question(qwen_settings):
    source = "Seit 2019 fährt eine Fähre von Konstanz nach Bregenz."
    model = embedded_model(qwen_settings)
    bare = source_states_claim(model, qwen_settings.prompts_dir, "2019.", source, "Konstanz")
    asked = source_states_claim(model, qwen_settings.prompts_dir,
                                claim_for_check("In which year did Konstanz join Switzerland?", "2019."), source,
                                "Konstanz")
    # alone, "2019." is stated by any source with that year in it; with its question it is a claim the source does
    # not make, and the 1.5B judge is less sure of it (how much less varies: the seed and eval runs measure that)
    assert bare is not None and asked is not None
    assert bare >= qwen_settings.verify_min_yes and asked < bare - 0.1


@pytest.mark.slow
def test_the_article_title_tells_the_check_who_they_are(qwen_settings):
    # "Sie" is the Normans only through the title, as it was when the answer model read the evidence
    source = "Sie tauften ihre Burg nach ihrer Herkunft: Montferrat hieß sie."
    claim = "The Normans named their castle Montferrat."
    model = embedded_model(qwen_settings)
    with_title = source_states_claim(model, qwen_settings.prompts_dir, claim, source, "Normannen in Syrien")
    assert with_title is not None and with_title >= qwen_settings.verify_min_yes


@pytest.mark.slow
def test_evidence_on_the_topic_that_does_not_answer_is_refused_before_an_answer_is_written(qwen_settings):
    # the article mentions the troops North Korea sent, never how many: the passage is close enough to pass the
    # similarity gate, and the model is asked whether it answers before it can write a number from elsewhere
    question = "How many soldiers did North Korea send to Russia?"
    assistant = Assistant(qwen_settings)
    answer = assistant.ask(question)
    # on-topic passages judged not to answer: the reader is sent to them, not told that the articles are silent
    assert answer.refused and answer.refusal_kind == "no_answer"
    assert answer.answer.startswith("The closest passages do not seem to answer this")
    assert "the model found that the evidence does not answer the question" in answer.refusal_reason
    assert "answerable" in answer.timings and "generate" not in answer.timings
    assert answer.answerable is not None and answer.answerable < qwen_settings.answerable_min_yes
    assert answer.closest and answer.prompt_tokens > 0
    # the seed questions, which the evidence does answer, pass the same check (tests/test_seed.py asks them in full)
    assert not assistant.ask("Who is Kim Jong Gyu?").refused


def test_answerability_examples_are_parsed_from_the_prompt_file(settings):
    examples = _answerable_examples(settings.prompts_dir)
    assert {verdict for verdict, _ in examples} == {"YES", "NO"}
    assert all(question.endswith("?") for _, question in examples)
