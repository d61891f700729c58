"""The chat-model component: picks the LangChain chat model named by the settings.

The integrations are an optional extra (`pip install -e '.[llm]'`) and are
imported only when selected, so the default path never loads them.
"""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from bot.settings import Settings, SettingsError

OLLAMA_DEFAULT_URL = "http://localhost:11434"
# Answers are short; a cap keeps a rambling model inside the time limit.
MAX_OUTPUT_TOKENS = 700


def make_chat_model(settings: Settings, streaming: bool = False) -> BaseChatModel:
    """The configured chat model; `SettingsError` when it cannot be built.

    The client's own timeout is `LLM_TIMEOUT_S` and it never retries: the
    answerer enforces the deadline itself and falls back to the curated answer.
    """
    match settings.llm_provider:
        case "openai":
            return _openai(settings, streaming)
        case "ollama":
            return _ollama(settings)
        case _:
            raise SettingsError("LLM_PROVIDER is none: no language model is configured")


def _openai(settings: Settings, streaming: bool) -> BaseChatModel:
    try:
        from langchain_openai import ChatOpenAI
    except ImportError:
        raise SettingsError(_missing("openai", "langchain-openai")) from None
    # A local OpenAI-compatible server usually ignores the key, but the client insists on one.
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
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


def _ollama(settings: Settings) -> BaseChatModel:
    try:
        from langchain_ollama import ChatOllama
    except ImportError:
        raise SettingsError(_missing("ollama", "langchain-ollama")) from None
    client: dict = {"timeout": settings.llm_timeout_s}
    if settings.llm_api_key:  # an Ollama behind an authenticating proxy
        client["headers"] = {"Authorization": f"Bearer {settings.llm_api_key.get_secret_value()}"}
    return ChatOllama(
        model=settings.llm_model,
        base_url=settings.llm_base_url or OLLAMA_DEFAULT_URL,
        temperature=0.2,
        num_predict=MAX_OUTPUT_TOKENS,
        client_kwargs=client,
    )


def _missing(provider: str, package: str) -> str:
    return f"LLM_PROVIDER={provider} needs {package}: pip install -e '.[llm]'"
