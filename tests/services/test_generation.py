"""The generation chain and its rules, with LangChain's fake chat models: no index, no server."""

from __future__ import annotations

import shutil
import time
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import BaseMessage
from pydantic import Field

from bot.data.knowledge import load_knowledge
from bot.data.templates import PromptError
from bot.services.llm.generation import AnswerGenerator, GenerationFailed, failure_reason
from bot.services.llm.grounding import as_plain_text, enforce_citations, unsupported_numbers
from bot.services.llm.prompts import load_llm_prompts
from bot.settings import REPO_ROOT, Settings, SettingsError


class RecordingChatModel(FakeListChatModel):
    """A fake chat model with queued replies that keeps the messages it was sent."""

    seen: list[list[BaseMessage]] = Field(default_factory=list)

    def _call(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> str:
        self.seen.append(list(messages))
        return super()._call(messages, *args, **kwargs)


@pytest.fixture(scope="module")
def kb():
    return load_knowledge(REPO_ROOT / "knowledge")


@pytest.fixture(scope="module")
def prompts():
    return load_llm_prompts(REPO_ROOT / "prompts")


@pytest.fixture
def entries(kb):
    return [kb.entries["fake-sms-credit-limit-gang"], kb.entries["fake-sms-fake-base-station"]]


def generator(
    prompts, *replies: str, sleep: float | None = None
) -> tuple[AnswerGenerator, RecordingChatModel]:
    model = RecordingChatModel(responses=list(replies), sleep=sleep)
    return AnswerGenerator(prompts, model), model


# --- the rules on the model's text ----------------------------------------------------------------


def test_citations_are_renumbered_in_order_of_first_citation():
    cited = enforce_citations("Delete it [2]. Call the bank [1][2]. Never tap links【2】.", 2)
    assert cited.text == "Delete it [1]. Call the bank [2][1]. Never tap links[1]."
    assert cited.entries == [1, 0]


def test_citations_that_point_to_no_entry_are_removed():
    cited = enforce_citations("银行不会发提额链接 [7]。别点 [1, 9]。", 2)
    assert cited.text == "银行不会发提额链接。别点 [1]。"
    assert cited.entries == [0]


def test_an_answer_without_a_valid_citation_is_not_grounded():
    assert enforce_citations("Banks never send such links.", 3) is None
    assert enforce_citations("Banks never send such links [4] [0].", 3) is None


def test_numbers_missing_from_the_entries_are_found():
    evidence = "拨打 96110 咨询；起诉9,300余人；2023-03-03"
    assert unsupported_numbers("请拨打96110 [1]，共起诉9300余人。", evidence) == []
    assert unsupported_numbers("请拨打 95555 [1]。", evidence) == ["95555"]
    assert unsupported_numbers("请拨打 ９６１１０ [1]。", evidence) == []


def test_markdown_is_turned_into_plain_text():
    text = "## Advice\n- **Delete** the text [1]\n* call `96110`"
    assert as_plain_text(text) == "Advice\n· Delete the text [1]\n· call 96110"


# --- the chain ------------------------------------------------------------------------------------


def test_the_chain_sends_numbered_entries_and_the_question(prompts, entries):
    gen, model = generator(prompts, "银行不会用短信链接提额 [1]。号码可以伪装 [2]。")
    result = gen.answer("提额短信能点吗", entries, "zh", timeout_s=5)
    assert result.text == "银行不会用短信链接提额 [1]。号码可以伪装 [2]。"
    assert [e.id for e in result.cited] == [entries[0].id, entries[1].id]
    [messages] = model.seen
    system, human = messages
    assert system.type == "system" and "编号资料" in system.content
    assert "[1] 伪基站冒充银行“提额”短信案" in human.content and "[2] 什么是伪基站" in human.content
    assert "来源：最高人民检察院" in human.content and "提额短信能点吗" in human.content


def test_the_english_prompt_is_used_for_english(prompts, entries):
    gen, model = generator(prompts, "Banks never send such links [1].")
    gen.answer("is this text real?", entries, "en", timeout_s=5)
    human = model.seen[0][1].content
    assert human.startswith("Material:") and "Source: " in human and "[1] The fake base-station" in human


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("", "empty"),
        ("   \n ", "empty"),
        ("Banks never send such links.", "no_citation"),
        ("Call 95511 now [1].", "unsupported_number"),
    ],
)
def test_unusable_replies_fail_with_a_reason(prompts, entries, reply, reason):
    gen, _ = generator(prompts, reply)
    with pytest.raises(GenerationFailed) as failed:
        gen.answer("is it real?", entries, "en", timeout_s=5)
    assert failed.value.reason == reason


def test_only_cited_entries_are_returned(prompts, entries):
    gen, _ = generator(prompts, "A fake station can fake the number [2][5].")
    result = gen.answer("why does the number look real?", entries, "en", timeout_s=5)
    assert result.text == "A fake station can fake the number [1]."
    assert [e.id for e in result.cited] == [entries[1].id]


def test_a_slow_model_is_abandoned_at_the_deadline(prompts, entries):
    gen, _ = generator(prompts, "late [1]", sleep=3)
    start = time.monotonic()
    with pytest.raises(GenerationFailed) as failed:
        gen.answer("is it real?", entries, "en", timeout_s=0.3)
    assert failed.value.reason == "timeout"
    assert time.monotonic() - start < 3  # the sleeping model was not waited for


def test_a_streaming_fake_model_works_through_the_same_chain(prompts, entries):
    model = GenericFakeChatModel(messages=iter(["Delete the text [1]."]))
    result = AnswerGenerator(prompts, model).answer("what do I do?", entries, "en", timeout_s=5)
    assert result.text == "Delete the text [1]." and result.cited == [entries[0]]


def test_rewrite_returns_the_first_line_without_quotes(prompts):
    gen, model = generator(prompts, '"我点了提额短信链接后该怎么办？"\n（改写说明）')
    assert (
        gen.rewrite("我点了提额短信的链接", "那怎么办？", "zh", timeout_s=5)
        == "我点了提额短信链接后该怎么办？"
    )
    human = model.seen[0][1].content
    assert "上一个问题：我点了提额短信的链接" in human and "追问：那怎么办？" in human


def test_an_empty_rewrite_fails(prompts):
    gen, _ = generator(prompts, "")
    with pytest.raises(GenerationFailed):
        gen.rewrite("a", "b", "en", timeout_s=5)


def test_failure_reasons_from_client_errors():
    class StatusError(Exception):
        def __init__(self, status_code):
            self.status_code = status_code

    class APITimeoutError(Exception):
        pass

    class APIConnectionError(Exception):
        pass

    assert failure_reason(StatusError(429)) == "rate_limited"
    assert failure_reason(StatusError(503)) == "server_error"
    assert failure_reason(APITimeoutError()) == "timeout"
    assert failure_reason(APIConnectionError()) == "connection"
    assert failure_reason(ValueError()) == "error"


# --- prompts and settings -------------------------------------------------------------------------


def test_a_prompt_missing_a_variable_is_an_error_naming_the_file(tmp_path):
    shutil.copy(REPO_ROOT / "prompts" / "llm.yaml", tmp_path / "llm.yaml")
    text = (tmp_path / "llm.yaml").read_text(encoding="utf-8")
    (tmp_path / "llm.yaml").write_text(text.replace("问题：{question}", "问题："), encoding="utf-8")
    with pytest.raises(PromptError) as error:
        load_llm_prompts(tmp_path)
    assert (
        "llm.yaml" in str(error.value) and "'answer'" in str(error.value) and "{question}" in str(error.value)
    )


def test_a_prompt_with_an_unknown_variable_is_an_error(tmp_path):
    shutil.copy(REPO_ROOT / "prompts" / "llm.yaml", tmp_path / "llm.yaml")
    text = (tmp_path / "llm.yaml").read_text(encoding="utf-8")
    (tmp_path / "llm.yaml").write_text(text.replace("Question: {question}", "Q: {query}"), encoding="utf-8")
    with pytest.raises(PromptError, match="unknown variable"):
        load_llm_prompts(tmp_path)


def test_llm_settings_from_the_environment_keep_the_key_secret():
    settings = Settings.from_env(
        {
            "LLM_PROVIDER": "ollama",
            "LLM_BASE_URL": "http://localhost:11434",
            "LLM_MODEL": "qwen2.5:7b",
            "LLM_API_KEY": "sk-very-secret",
            "LLM_TIMEOUT_S": "5",
        }
    )
    assert settings.llm_provider == "ollama" and settings.llm_model == "qwen2.5:7b"
    assert settings.llm_timeout_s == 5.0
    assert "sk-very-secret" not in repr(settings) and "sk-very-secret" not in str(settings.model_dump())


def test_the_default_is_no_language_model():
    assert Settings.from_env({}).llm_provider == "none"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LLM_PROVIDER": "ollama"}, "LLM_MODEL"),
        ({"LLM_PROVIDER": "openai", "LLM_MODEL": "m"}, "LLM_BASE_URL"),
        ({"LLM_PROVIDER": "gpt"}, "LLM_PROVIDER"),
        ({"LLM_PROVIDER": "ollama", "LLM_MODEL": "m", "LLM_TIMEOUT_S": "0"}, "LLM_TIMEOUT_S"),
    ],
)
def test_bad_llm_settings_are_clear_errors(env, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_both_providers_build_their_langchain_model():
    from bot.app import build_chat_model as make_chat_model

    ollama = make_chat_model(Settings(llm_provider="ollama", llm_model="qwen2.5:7b"))
    openai = make_chat_model(
        Settings(llm_provider="openai", llm_model="m", llm_base_url="http://127.0.0.1:1/v1", llm_timeout_s=3)
    )
    assert type(ollama).__name__ == "ChatOllama" and ollama.base_url == "http://localhost:11434"
    assert type(openai).__name__ == "ChatOpenAI" and openai.max_retries == 0 and openai.request_timeout == 3
