"""The plain llama-index pipeline newsrag is measured against: VectorStoreIndex over a Chroma collection and the default
CitationQueryEngine, with the SAME embedder (rag.embed) and the SAME LLM (rag.llm's embedded model, its own chat
template). Settings.llm and Settings.embed_model are set explicitly (their defaults are OpenAI); everything is offline.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from rag.config import Settings as NewsSettings
from rag.config import set_offline_environment

set_offline_environment()

from llama_index.core import Document, StorageContext, VectorStoreIndex  # noqa: E402
from llama_index.core import Settings as LISettings  # noqa: E402
from llama_index.core.base.llms.types import (  # noqa: E402
    ChatMessage as LIChatMessage,
    ChatResponse,
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
)
from llama_index.core.embeddings import BaseEmbedding  # noqa: E402
from llama_index.core.llms import CustomLLM  # noqa: E402
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback  # noqa: E402
from llama_index.core.query_engine import CitationQueryEngine  # noqa: E402
from llama_index.core.vector_stores import FilterOperator, MetadataFilter, MetadataFilters  # noqa: E402
from pydantic import PrivateAttr  # noqa: E402

from rag.embed import get_embedder  # noqa: E402
from rag.llm import ChatMessage, ChatModel, Usage, embedded_model  # noqa: E402


class NewsragEmbedding(BaseEmbedding):
    """rag.embed's embedder (USE multilingual by default) as a llama-index embedding model."""

    _embedder: Any = PrivateAttr()

    def __init__(self, embedder, **kwargs: Any) -> None:
        super().__init__(model_name=embedder.name, embed_batch_size=64, **kwargs)
        self._embedder = embedder

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embedder.embed_queries([query])[0].tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embedder.embed_passages([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.embed_passages(texts).tolist()


class NewsragLLM(CustomLLM):
    """rag.llm's ChatModel (the embedded GGUF with its own chat template) as a llama-index LLM.
    A completion prompt is sent as one user message, so the model's chat template is always applied."""

    max_tokens: int = 256
    context_window: int = 4096
    _model: Any = PrivateAttr()
    _usage: Usage = PrivateAttr(default_factory=Usage)

    def __init__(self, model: ChatModel, max_tokens: int = 256, context_window: int = 4096) -> None:
        super().__init__(max_tokens=max_tokens, context_window=context_window)
        self._model = model
        self._usage = Usage()

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(context_window=self.context_window, num_output=self.max_tokens,
                           model_name=getattr(self._model, "model", "newsrag"), is_chat_model=False)

    def reset_usage(self) -> None:
        self._usage = Usage()

    @property
    def usage(self) -> Usage:
        return self._usage

    def _run(self, messages: Sequence[ChatMessage]) -> Iterable[str]:
        usage = Usage()
        yield from self._model.stream(messages, self.max_tokens, 0.0, usage)
        self._usage.prompt_tokens += usage.prompt_tokens
        self._usage.completion_tokens += usage.completion_tokens

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text="".join(self._run([ChatMessage("user", prompt)])))

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        text = ""
        for token in self._run([ChatMessage("user", prompt)]):
            text += token
            yield CompletionResponse(text=text, delta=token)

    @llm_chat_callback()
    def chat(self, messages: Sequence[LIChatMessage], **kwargs: Any) -> ChatResponse:
        ours = [ChatMessage(str(getattr(m.role, "value", m.role)), m.content or "") for m in messages]
        text = "".join(self._run(ours))
        return ChatResponse(message=LIChatMessage(role="assistant", content=text))


# A plain pipeline has no refusal of its own: count an answer as a refusal when it says the sources do not answer.
REFUSAL_RE = re.compile(
    r"empty response|no (relevant )?information|not (provided|mentioned|specified|stated|available|given|contain)"
    r"|(do|does|did) not (say|mention|provide|contain|specify|include|state)|none of the (provided )?sources"
    r"|cannot (be )?(determined|answer|find|determine)|unable to (answer|determine|find)|there is no mention"
    r"|nicht (erwähnt|angegeben|genannt|enthalten|beantwortet)|keine (informationen|angaben|hinweise)"
    r"|geben keine auskunft|lässt sich nicht",
    re.IGNORECASE,
)
CITE_RE = re.compile(r"\[\s*(?:source\s*)?(\d+)\s*\]", re.IGNORECASE)


class LlamaIndexBaseline:
    def __init__(self, corpus: Sequence[Path], settings: NewsSettings, similarity_top_k: int = 2,
                 model: ChatModel | None = None) -> None:
        import chromadb
        from llama_index.vector_stores.chroma import ChromaVectorStore

        from rag.load import load_paths

        self.embed_model = NewsragEmbedding(get_embedder(settings))
        self.llm = NewsragLLM(model or embedded_model(settings), settings.max_answer_tokens, settings.n_ctx)
        LISettings.llm = self.llm  # never the OpenAI defaults
        LISettings.embed_model = self.embed_model
        self._tmp = tempfile.TemporaryDirectory(prefix="newsrag-li-")
        client = chromadb.PersistentClient(path=self._tmp.name,
                                           settings=chromadb.Settings(anonymized_telemetry=False))
        collection = client.get_or_create_collection("baseline", embedding_function=None)
        store = ChromaVectorStore(chroma_collection=collection)
        docs = [Document(text=a.text, doc_id=a.id, metadata={"article_id": a.id, "title": a.title})
                for a in load_paths(corpus) if not hasattr(a, "reason")]
        self.article_ids = [d.doc_id for d in docs]
        self.article_texts = {d.doc_id: d.text for d in docs}
        started = time.perf_counter()
        self.index = VectorStoreIndex.from_documents(
            docs, storage_context=StorageContext.from_defaults(vector_store=store), embed_model=self.embed_model)
        self.ingest_seconds = round(time.perf_counter() - started, 2)
        self.similarity_top_k = similarity_top_k

    def ask(self, question: str, exclude_ids: Sequence[str] = ()) -> dict[str, Any]:
        filters = None
        if exclude_ids:
            allowed = [a for a in self.article_ids if a not in set(exclude_ids)]
            filters = MetadataFilters(filters=[MetadataFilter(key="article_id", value=allowed,
                                                              operator=FilterOperator.IN)])
        retriever = self.index.as_retriever(similarity_top_k=self.similarity_top_k, filters=filters)
        engine = CitationQueryEngine.from_args(self.index, llm=self.llm, retriever=retriever)
        self.llm.reset_usage()
        started = time.perf_counter()
        response = engine.query(question)
        seconds = time.perf_counter() - started
        text = str(response.response or "").strip()
        sources = response.source_nodes
        cited = []
        for n in dict.fromkeys(int(m) for m in CITE_RE.findall(text)):
            if 1 <= n <= len(sources):
                node = sources[n - 1].node
                cited.append({"n": n, "article_id": node.metadata.get("article_id") or node.ref_doc_id,
                              "text": node.get_content()})
        return {"answer": text, "refused": bool(REFUSAL_RE.search(text)) or not text, "citations": cited,
                "retrieved": [s.node.metadata.get("article_id") for s in sources],
                "prompt_tokens": self.llm.usage.prompt_tokens, "seconds": round(seconds, 3)}

    def close(self) -> None:
        self._tmp.cleanup()
