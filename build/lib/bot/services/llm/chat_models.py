"""The chat-model component: picks the LangChain chat model named by the settings.

The integrations are an optional extra (`pip install -e '.[llm]'`) and are
imported only when selected, so the default path never loads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from langchain_core.language_models import BaseChatModel

from bot.services.llm import ModelUnavailable

OLLAMA_DEFAULT_URL = "http://localhost:11434"
# Answers are short; a cap keeps a rambling model inside the time limit.
MAX_OUTPUT_TOKENS = 700


@dataclass(frozen=True)
class ChatModelConfig:
    """What the chat model needs: plain values, filled from the settings by `bot.app`."""

    llm_provider: str
    llm_model: str | None = None
    llm_base_url: str | None = None
    llm_timeout_s: float = 8.0
    # Never in a repr: a traceback or log line must not carry it.
    llm_api_key: str | None = field(default=None, repr=False)


def make_chat_model(settings: ChatModelConfig, streaming: bool = False) -> BaseChatModel:
    """The configured chat model; `ModelUnavailable` when it cannot be built.

    The client's own timeout is `LLM_TIMEOUT_S` and it never retries: the
    answerer enforces the deadline itself and falls back to the curated answer.
    """
    match settings.llm_provider:
        case "openai":
            return _openai(settings, streaming)
        case "ollama":
            return _ollama(settings)
        case _:
            raise ModelUnavailable("LLM_PROVIDER is none: no language model is configured")


def _openai(settings: ChatModelConfig, streaming: bool) -> BaseChatModel:
    try:
        from langchain_openai import ChatOpenAI
    except ImportError:
        raise ModelUnavailable(_missing("openai", "langchain-openai")) from None
    # A local OpenAI-compatible server usually ignores the key, but the client insists on one.
    key = settings.llm_api_key or "not-needed"
    return ChatOpenAI(
        model=settings.llm_model,
        base_url=settings.llm_base_url,
        api_key=key,
        timeout=settings.llm_timeout_s,
        max_retries=0,
        temperature=0.2,
        max_tokens=MAX_OUTPUT_TOKENS,
        streaming=streaming,
        # OpenAI-compatible servers (Ollama, vLLM, llama.cpp) speak chat completions, not Responses.
        use_responses_api=False,
    )


def _ollama(settings: ChatModelConfig) -> BaseChatModel:
    try:
        from langchain_ollama import ChatOllama
    except ImportError:
        raise ModelUnavailable(_missing("ollama", "langchain-ollama")) from None
    client: dict = {"timeout": settings.llm_timeout_s}
    if settings.llm_api_key:  # an Ollama behind an authenticating proxy
        client["headers"] = {"Authorization": f"Bearer {settings.llm_api_key}"}
    return ChatOllama(
        model=settings.llm_model,
        base_url=settings.llm_base_url or OLLAMA_DEFAULT_URL,
        temperature=0.2,
        num_predict=MAX_OUTPUT_TOKENS,
        client_kwargs=client,
    )


def _missing(provider: str, package: str) -> str:
    return f"LLM_PROVIDER={provider} needs {package}: pip install -e '.[llm]'"
