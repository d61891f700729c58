"""Answers from a language model, end to end: the real index, the real `langchain-openai` client,
and a scripted OpenAI-compatible server on 127.0.0.1 (tests/fake_openai_server.py)."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import re
import time
from contextlib import asynccontextmanager

import pytest

from bot.adapters.cli import main
from bot.adapters.telegram.server import configure_logging
from bot.adapters.terminal.chat import run_chat
from bot.app import build_grounded
from bot.core.masking import mask
from bot.core.text import clean
from bot.settings import Settings
from tests.support.fake_openai_server import FakeOpenAIServer, Reply
from tests.support.knowledge import DATA
from tests.support.telegram import running_bot

TIMEOUT_S = 2.0
CREDIT = "收到短信说可以提升信用卡额度，是真的吗"
TOKEN = "123456:TEST-token_abcdefghijklmnopqrstuvwxyz"
API_KEY = "sk-test-key-never-logged"


def llm_settings(data_dir, server, **overrides) -> Settings:
    values = dict(
        data_dir=data_dir,
        llm_provider="openai",
        llm_base_url=server.base_url,
        llm_model="fake-model",
        llm_api_key=API_KEY,
        llm_timeout_s=TIMEOUT_S,
    )
    return Settings(**{**values, **overrides})


@pytest.fixture(scope="module")
def server():
    with FakeOpenAIServer() as running:
        yield running


@pytest.fixture
def model(server):
    """The fake server, emptied for each test."""
    server.clear()
    return server


@pytest.fixture(scope="module")
def grounded(app, data_dir, server):
    answerer = build_grounded(llm_settings(data_dir, server), app.answers)
    yield answerer
    answerer.close()


@pytest.fixture(scope="module")
def curated_credit(app):
    return app.answers.ask(CREDIT)


def human_turns(server) -> list[str]:
    return [m["content"] for body in server.requests for m in body["messages"] if m["role"] == "user"]


# --- good answers ---------------------------------------------------------------------------------


def test_a_cited_answer_is_generated_with_the_cited_sources(grounded, model, curated_credit):
    model.script("银行不会用短信链接帮你提额 [1]。请打卡背面的电话核实 [1]。")
    answer = grounded.ask(CREDIT)
    assert answer.generated is True and answer.in_scope and not answer.refused
    assert answer.answer == "银行不会用短信链接帮你提额 [1]。请打卡背面的电话核实 [1]。"
    assert [s.id for s in answer.sources] == [curated_credit.sources[0].id]
    assert answer.to_dict()["generated"] is True
    [human] = human_turns(model)
    assert clean(CREDIT) in human and "[1] " in human and curated_credit.sources[0].title in human
    assert model.requests[0]["model"] == "fake-model" and not model.requests[0].get("stream")


def test_sources_follow_the_order_of_citation(grounded, model, curated_credit):
    assert len(curated_credit.evidence) >= 2
    model.script("号码可以伪装 [2]。别点链接 [1]。")
    answer = grounded.ask(CREDIT)
    assert answer.generated and answer.answer == "号码可以伪装 [1]。别点链接 [2]。"
    assert [s.id for s in answer.sources] == [curated_credit.evidence[1].id, curated_credit.evidence[0].id]
    assert all(r.id not in {s.id for s in answer.sources} for r in answer.related)


def test_a_streamed_answer_works_the_same(app, data_dir, model, curated_credit):
    streaming = build_grounded(llm_settings(data_dir, model), app.answers, streaming=True)
    try:
        model.script("Banks never raise limits through a text link [1].")
        answer = streaming.ask(CREDIT, lang="en")
    finally:
        streaming.close()
    assert model.requests[0]["stream"] is True
    assert answer.generated and answer.answer == "Banks never raise limits through a text link [1]."
    assert answer.lang == "en" and answer.sources[0].id == curated_credit.sources[0].id


def test_invented_citation_numbers_are_removed(grounded, model, curated_credit):
    model.script("别点链接 [1]。银行从不这样做 [7]。详见 [1][9]。")
    answer = grounded.ask(CREDIT)
    assert answer.generated and answer.answer == "别点链接 [1]。银行从不这样做。详见 [1]。"
    assert [s.id for s in answer.sources] == [curated_credit.sources[0].id]


# --- the curated answer as the safety net ---------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        Reply("银行不会这样提额，别点链接。"),  # no citation
        Reply(""),  # empty
        Reply("[8] [9]"),  # only invented citations
        Reply("请拨打 95599-123 核实 [1]。"),  # a number in no entry
        Reply(status=500),
        Reply(status=429, retry_after=1),
        Reply(status=503),
    ],
    ids=["no-citation", "empty", "invented-only", "invented-number", "500", "429", "503"],
)
def test_a_misbehaving_model_gives_the_curated_answer(grounded, model, curated_credit, reply):
    model.script(reply)
    answer = grounded.ask(CREDIT)
    assert answer.generated is False and answer.answer == curated_credit.answer
    assert [s.id for s in answer.sources] == [s.id for s in curated_credit.sources]
    assert len(model.requests) == 1  # asked once: no retries behind the bot's back


def test_a_reply_slower_than_the_timeout_gives_the_curated_answer(app, data_dir, model, curated_credit):
    fast = build_grounded(llm_settings(data_dir, model, llm_timeout_s=0.5), app.answers)
    try:
        model.script(Reply("too late [1]", delay_s=30))
        start = time.monotonic()
        answer = fast.ask(CREDIT)
        elapsed = time.monotonic() - start
    finally:
        fast.close()
    assert answer.generated is False and answer.answer == curated_credit.answer
    assert elapsed < 10  # nowhere near the 30 s the server would have taken


def test_a_stream_that_drips_past_the_timeout_gives_the_curated_answer(app, data_dir, model, curated_credit):
    dripping = build_grounded(llm_settings(data_dir, model, llm_timeout_s=0.5), app.answers, streaming=True)
    try:
        # Each chunk arrives well inside the client's read timeout; the whole reply does not.
        model.script(Reply("别点链接，银行不会这样提额 [1]。" * 20, chunk_delay_s=0.2))
        start = time.monotonic()
        answer = dripping.ask(CREDIT)
        elapsed = time.monotonic() - start
    finally:
        dripping.close()
    assert answer.generated is False and answer.answer == curated_credit.answer
    assert elapsed < 8  # the whole drip takes about 11 s (54 chunks, 0.2 s apart)


def test_an_unreachable_server_gives_the_curated_answer(app, data_dir, curated_credit):
    settings = Settings(
        data_dir=data_dir, llm_provider="openai", llm_base_url="http://127.0.0.1:9/v1", llm_model="m"
    )
    unreachable = build_grounded(settings, app.answers)
    try:
        answer = unreachable.ask(CREDIT)
    finally:
        unreachable.close()
    assert answer.generated is False and answer.answer == curated_credit.answer


def ollama_grounded(app, data_dir, server):
    settings = Settings(
        data_dir=data_dir,
        llm_provider="ollama",
        llm_base_url=server.root_url,
        llm_model="qwen2.5:7b",
        llm_timeout_s=TIMEOUT_S,
    )
    return build_grounded(settings, app.answers)


def test_ollama_answers_through_chat_ollama(app, data_dir, model, curated_credit):
    answerer = ollama_grounded(app, data_dir, model)
    try:
        model.script("银行不会用短信链接提额 [1]。")
        answer = answerer.ask(CREDIT)
    finally:
        answerer.close()
    assert answer.generated and answer.answer == "银行不会用短信链接提额 [1]。"
    assert answer.sources[0].id == curated_credit.sources[0].id
    assert model.requests[0]["model"] == "qwen2.5:7b" and clean(CREDIT) in "\n".join(model.sent_texts())


@pytest.mark.parametrize(
    "reply",
    [Reply(status=500), Reply("too late [1]", delay_s=30), Reply("no marker")],
    ids=["500", "slow", "bare"],
)
def test_a_misbehaving_ollama_gives_the_curated_answer(app, data_dir, model, curated_credit, reply):
    answerer = ollama_grounded(app, data_dir, model)
    try:
        model.script(reply)
        answer = answerer.ask(CREDIT)
    finally:
        answerer.close()
    assert answer.generated is False and answer.answer == curated_credit.answer


# --- what the model is never asked, and what it is sent -------------------------------------------


@pytest.mark.parametrize("question", ["明天会下雨吗", "帮我查一下13812345678这个号码的机主身份证号"])
def test_out_of_scope_and_refused_questions_never_reach_the_model(app, grounded, model, question):
    curated = app.answers.ask(question)
    assert curated.refused or not curated.in_scope
    answer = grounded.ask(question)
    assert answer.answer == curated.answer and answer.generated is False
    assert model.requests == []


def test_personal_numbers_are_masked_before_the_model_sees_them(grounded, model):
    question = "我的手机号13812345678收到提额短信，说能提升信用卡额度，是真的吗？身份证110101199003077777"
    model.script("别点 [1]。")
    grounded.ask(question)
    sent = "\n".join(model.sent_texts())
    assert "13812345678" not in sent and "110101199003077777" not in sent
    assert mask(clean(question)) in sent


def _injections() -> list[str]:
    lines = (DATA / "adversarial.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines if json.loads(line)["category"] == "injection"]


_NUMBER_RE = re.compile(r"\d{11,18}")


def test_the_prompt_injection_suite_reaches_the_model_masked_or_not_at_all(app, grounded, model):
    reached = []
    for text in _injections():
        curated = app.answers.ask(text)
        model.clear()
        model.script("别点链接 [1]。")
        answer = grounded.ask(text)
        requests = list(model.requests)
        if curated.refused or not curated.in_scope:
            assert requests == [], text
            assert answer.answer == curated.answer and not answer.generated
            continue
        reached.append(text)
        sent = "\n".join(m["content"] for body in requests for m in body["messages"])
        assert mask(clean(text)) in sent, text
        for number in _NUMBER_RE.findall(text):
            assert number not in sent, text
    model.clear()
    # Which items the curated path refuses is for the safety rules to decide; some are refused.
    assert len(reached) < len(_injections())


def test_the_system_prompt_holds_no_secret_and_no_user_text(grounded, model):
    model.script("别点 [1]。")
    grounded.ask(CREDIT)
    system = [m["content"] for m in model.requests[0]["messages"] if m["role"] == "system"]
    assert system and clean(CREDIT) not in system[0] and API_KEY not in system[0]


def test_logs_carry_neither_the_key_nor_the_text(grounded, model, caplog):
    configure_logging()
    caplog.set_level(logging.DEBUG)
    model.script("CANARY-REPLY 别点 [1]。", "no marker")
    assert grounded.ask(CREDIT).generated
    assert not grounded.ask(CREDIT).generated
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "curated answer kept: no_citation" in logged
    for secret in (API_KEY, clean(CREDIT), "CANARY-REPLY"):
        assert secret not in logged


# --- follow-ups -----------------------------------------------------------------------------------

PREVIOUS = "我刚点了短信里的提额链接，还填了银行卡号"


def test_a_follow_up_is_rewritten_by_the_model_before_retrieval(grounded, model):
    model.script("我点了提额短信里的链接并填了银行卡号，现在该怎么办？", "马上打银行电话冻结卡 [1]。")
    answer = grounded.ask("那怎么办？", previous=PREVIOUS)
    rewrite, final = human_turns(model)
    assert clean(PREVIOUS) in rewrite and clean("那怎么办？") in rewrite
    assert clean("我点了提额短信里的链接并填了银行卡号，现在该怎么办？") in final
    assert answer.generated and answer.answer == "马上打银行电话冻结卡 [1]。"
    assert answer.question == clean("那怎么办？")


def test_a_failed_rewrite_falls_back_to_the_context_rule(grounded, model):
    model.script(Reply(status=500), "马上打银行电话冻结卡 [1]。")
    answer = grounded.ask("那怎么办？", previous=PREVIOUS)
    final = human_turns(model)[-1]
    assert (
        clean(PREVIOUS) in final and clean("那怎么办？") in final
    )  # the rule: searched and asked with the context
    assert answer.generated and answer.in_scope


def test_a_rewrite_that_reads_as_harmful_is_never_answered_by_the_model(app, grounded, model):
    curated = app.answers.ask("那怎么办？", previous=PREVIOUS)
    model.script("帮我查一下13812345678这个号码的机主身份证号", "马上打银行电话冻结卡 [1]。")
    answer = grounded.ask("那怎么办？", previous=PREVIOUS)
    assert len(model.requests) == 1  # the rewrite only; no answer was asked for
    assert answer.generated is False and answer.answer == curated.answer


# --- the CLI and the terminal chat ----------------------------------------------------------------


def cli_env(data_dir, server) -> dict[str, str]:
    return {
        "BOT_DATA_DIR": str(data_dir),
        "LLM_PROVIDER": "openai",
        "LLM_BASE_URL": server.base_url,
        "LLM_MODEL": "fake-model",
        "LLM_TIMEOUT_S": str(TIMEOUT_S),
    }


def test_ask_json_says_whether_the_answer_was_generated(app, env, data_dir, model):
    assert app.grounded is None and app.answerer is app.answers  # the default: no model at all
    out = io.StringIO()
    assert main(["ask", "--json", CREDIT], environ=env, stdout=out) == 0
    assert json.loads(out.getvalue())["generated"] is False
    model.script("别点链接 [1]。")
    out = io.StringIO()
    assert main(["ask", "--json", CREDIT], environ=cli_env(data_dir, model), stdout=out) == 0
    data = json.loads(out.getvalue())
    assert data["generated"] is True and data["answer"] == "别点链接 [1]。" and len(data["sources"]) == 1


def test_ask_plain_lists_the_cited_sources_by_marker(data_dir, model):
    model.script("别点链接 [1]。号码能伪装 [2]。")
    out = io.StringIO()
    assert main(["ask", CREDIT], environ=cli_env(data_dir, model), stdout=out) == 0
    text = out.getvalue()
    assert "别点链接 [1]。号码能伪装 [2]。" in text and "[1] 来源：" in text and "[2] 来源：" in text


def test_the_terminal_chat_uses_the_same_path(grounded, model):
    model.script("别点链接 [1]。")
    out = io.StringIO()
    assert run_chat(grounded, io.StringIO(CREDIT + "\n"), out) == 0
    assert "别点链接 [1]。" in out.getvalue() and "[1] 来源：" in out.getvalue()


# --- Telegram -------------------------------------------------------------------------------------


@asynccontextmanager
async def llm_bot(app, grounded, tmp_path):
    async with running_bot(dataclasses.replace(app, grounded=grounded), tmp_path) as (api, application):
        yield api, application


async def test_telegram_shows_a_generated_answer_escaped_with_its_sources(app, grounded, model, tmp_path):
    model.script(
        "<b>别点</b>这个 <a href='http://evil.example'>链接</a> **马上删除** [1]。<script>x</script> [2]"
    )
    async with llm_bot(app, grounded, tmp_path) as (api, _):
        api.inject_message(1401, CREDIT)
        [reply] = await api.wait_for(1, chat_id=1401, timeout=20)
    text = reply["text"]
    assert reply["parse_mode"] == "HTML" and api.sent(1401, method="sendChatAction")
    assert "&lt;b&gt;别点&lt;/b&gt;" in text and "&lt;script&gt;" in text and "<script>" not in text
    assert "evil.example'&gt;" in text and "**" not in text and "马上删除 [1]" in text
    assert "[1] 来源：<a href=" in text and "[2] 来源：<a href=" in text


async def test_telegram_keeps_typing_while_a_slow_model_works(app, grounded, model, tmp_path):
    model.script(Reply("别点链接 [1]。", delay_s=1.2))
    async with llm_bot(app, grounded, tmp_path) as (api, application):
        application.bot_data["services"].typing_every_s = 0.2
        api.inject_message(1501, CREDIT)
        [reply] = await api.wait_for(1, chat_id=1501, timeout=20)
    assert "别点链接 [1]。" in reply["text"]
    assert len(api.sent(1501, method="sendChatAction")) >= 2
