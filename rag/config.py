"""All settings in one typed object: defaults < newsrag.toml < NEWSRAG_* environment < CLI flags."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_ollama_host() -> str:
    # OLLAMA_HOST is the variable Ollama's own tools read; honour it too.
    host = os.environ.get("OLLAMA_HOST", "http://127.0.0.1:11434")
    return host if "://" in host else f"http://{host}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSRAG_", toml_file="newsrag.toml", extra="ignore")

    # storage
    index_dir: Path = Path("index")
    chroma_host: str | None = Field(None, description="use a Chroma server (chroma run) instead of index_dir/chroma")
    chroma_port: int = 8000
    collection: str = "passages"

    # embeddings: "use" = USE multilingual v3 (pip package, offline); "sentence-transformers" = any ST model
    embedder: Literal["use", "sentence-transformers"] = "use"
    embed_model: str = Field("", description="sentence-transformers model path or name; '' = packaged all-MiniLM-L6-v2")
    embed_batch_size: int = 64

    # splitting
    passage_max_chars: int = 700
    # an article that shares this share of its sentences (of the shorter of the two articles) with an article under
    # another id is reported as a near copy (an earlier or later version saved under another name); it still goes in
    near_copy_share: float = Field(0.6, gt=0, le=1)

    # retrieval and evidence
    top_k: int = 5
    # where the articles are written in the question's language and in others, the question is translated by the
    # model into the others before retrieval (one short call, 5-10 s here), so that the articles in the question's
    # language stop winning on shared words alone. See README (Articles in both languages).
    translate_questions: bool = True
    candidates: int = 30
    lexical_weight_same_language: float = 0.25
    lexical_weight_cross_language: float = 0.15
    evidence_sentences: int = 6
    evidence_passages: int = 3  # small models lose the thread with more
    evidence_margin: float = 0.15  # keep passages scoring within this of the best
    # best evidence score under this: the articles do not answer. 0.25 measured on xquad-de-dev (200 questions each):
    # refuses 2.5% (en) / 0% (de) of questions whose gold paragraph is indexed, 17.5% / 8% of those whose is not
    refuse_below: float = 0.25

    # before the answer is written, the model is asked whether the evidence states the answer at all (one short call,
    # ~5 s here); below this probability of YES the assistant refuses. 0 turns the check off. See README (Evaluation)
    # for what it measured on xquad-de-dev.
    answerable_min_yes: float = 0.7

    # answer checking
    support_threshold: float = 0.45
    # a content word of a sentence that the cited passage does not spell alike still counts as backed when its
    # embedding is this close to one of the passage's words (across languages: "sanctions" / "Sanktionen")
    word_match_min: float = Field(0.5, ge=0, le=1)
    # the same for a name the passage spells otherwise ("canarian" / "kanarischen"); stricter: names are the anchors
    name_match_min: float = Field(0.7, ge=0, le=1)
    # a lone citation moves to another shown sentence of its article when that one embeds this much closer to the
    # sentence than the cited one does (small models cite the sentence next to the one they used)
    recite_closer_by: float = Field(0.15, ge=0)
    # how alike two sentences of different articles must be to count as reporting the same thing, when looking for
    # articles that give a different figure
    same_report_min: float = Field(0.35, ge=-1, le=1)
    # after the embedding and word checks, the model itself is asked whether each cited quote states its sentence
    # (one short call per sentence, ~2 s here); measured on xquad-de-dev it catches claims that reuse the passage's
    # words in a relation the passage does not state ("the Canarian Islands are off the coast of France")
    verify_with_model: bool = True
    # the model's probability (first-token YES against NO) below which a sentence counts as not stated
    verify_min_yes: float = 0.5
    # a verified sentence whose model check is below this is marked weak, so that a reader checks its quote first
    # (right answers on xquad-de-dev mostly score 0.73-0.96; wrong ones that pass sit near the threshold)
    confident_min_yes: float = 0.7
    # the answer is shown only when more than this share of its sentences is verified; otherwise the draft is
    # refused and its sentences, with each flag's reason, are kept on the refusal. 0.5: a two-sentence answer with one
    # flagged sentence is refused (on xquad-de-dev no right answer had half its sentences flagged, while hidden-gold
    # drafts often did); 0 refuses only drafts with no verified sentence
    min_verified_share: float = 0.5

    # a pasted brief or e-mail is not a question: the follow-up rewrite turns it into another question, and the answer
    # drifts away from what was asked; such a question is refused with a clear error
    max_question_chars: int = Field(1000, ge=50)

    # LLM
    llm_backend: Literal["auto", "ollama", "llamacpp"] = "auto"
    ollama_host: str = Field(default_factory=_default_ollama_host)
    ollama_model: str = "qwen2.5:7b-instruct"
    ollama_timeout_s: float = Field(300.0, gt=0)  # one answer from a slow CPU-only server can take minutes
    # questions the web page lets an Ollama server answer at once (the embedded model answers one at a time)
    ollama_parallel: int = Field(4, ge=1)
    llamacpp_model: str = Field("qwen2.5-coder-1.5b", description="a packaged model name or a path to a GGUF file")
    llamacpp_binding: Literal["auto", "xllamacpp", "llama-cpp-python"] = "auto"
    n_ctx: int = 4096
    n_threads: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1))
    max_answer_tokens: int = 256
    # Embedded model: reusing the cached start of the previous prompt shifts llama.cpp's numerics enough to flip a
    # greedy choice, so the same question got a different answer depending on what was asked before (measured: the
    # German seed question lost a name after one question, kept it after another). Off: every answer and follow-up
    # rewrite evaluates its whole prompt, as the first question does (~10 s more per answer on 2 cores). The claim checks
    # still reuse their cached prefix (a full one costs ~10 s per sentence): their probabilities can move by ~0.02.
    reuse_answer_prompt: bool = False
    temperature: float = 0.0
    models_dir: Path | None = Field(None, description="where assembled GGUF files live; default <venv>/share/newsrag")

    prompts_dir: Path = PROJECT_ROOT / "prompts"

    # web page
    host: str = "127.0.0.1"
    port: int = 7860
    auth_user: str | None = None
    auth_password: str | None = None
    upload_dir: Path | None = None
    max_upload_mb: int = 20
    # the server log has one line per question (its length, the outcome, the time), never its text unless this is
    # set: what a journalist asks about can be a story before it is published
    log_questions: bool = False

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    def with_overrides(self, **overrides: object) -> "Settings":
        """CLI flags win over everything; None means 'flag not given'."""
        given = {k: v for k, v in overrides.items() if v is not None}
        return self.model_copy(update=given) if given else self


def set_offline_environment() -> None:
    """Nothing may reach the network at run time; set before any hub-aware library is imported."""
    for key, value in {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "DO_NOT_TRACK": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }.items():
        os.environ.setdefault(key, value)
