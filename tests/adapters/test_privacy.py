"""The bot practises what it preaches: masked numbers, a kind warning, nothing retained, odd updates
survived, floods contained, secrets never shown. Real python-telegram-bot over HTTP, real index."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters.telegram.server import configure_logging
from bot.services.answering import EmptyQuestion
from bot.settings import Settings, SettingsError
from tests.support.telegram import TOKEN, running_bot, texts

CANARY_ID = "11010519491231002X"  # the GB 11643 example number: a valid check digit
CANARY_PHONE = "13912345678"
CANARY_PHRASE = "CANARY-ZEBRA-7741"
PEPPER = "pepper-for-tests-0123456789abcdef"


def _files_containing(roots: list[Path], needles: list[str]) -> list[str]:
    hits = []
    for root in roots:
        for path in root.rglob("*"):
            if not path.is_file():
                continue
            data = path.read_bytes()
            for needle in needles:
                for encoded in (needle.encode("utf-8"), needle.encode("utf-16-le")):
                    if encoded in data:
                        hits.append(f"{path}: {needle}")
    return hits


async def test_a_whole_conversation_leaves_no_trace_in_any_file(app, data_dir, tmp_path):
    """The canary test: after a conversation full of personal data, no file holds any of it."""
    log_file = tmp_path / "logs" / "bot.log"
    log_file.parent.mkdir()
    configure_logging(logging.DEBUG)
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.addFilter(lambda record: not record.name.startswith("aiohttp"))  # the fake server's own log
    logging.getLogger().addHandler(handler)
    bot_data = tmp_path / "bot-data"
    try:
        async with running_bot(app, bot_data, pepper=PEPPER) as (api, application):
            chat = 4242
            script = [
                "/start",
                f"我的身份证号{CANARY_ID}泄露了，手机{CANARY_PHONE}也总接到骚扰电话 {CANARY_PHRASE}",
                "那怎么办？",
                f"/check 【银行】您的卡将被冻结，请回复身份证号{CANARY_ID}"
                f"并点击 http://icbc-95588.top {CANARY_PHRASE}",
                "/privacy",
                "/forget",
            ]
            for number, text in enumerate(script, start=1):
                api.inject_message(chat, text, user_id=chat)
                await api.wait_for(number, chat_id=chat, timeout=20)
            services = application.bot_data["services"]
            assert len(services.memory) == 0  # /forget dropped the chat's context
            sent = "\n".join(texts(api, chat))
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    assert "身份证号" in sent and "遮盖" in sent  # the kind warning was given
    assert CANARY_ID not in sent and CANARY_PHONE not in sent  # nothing echoed back unmasked
    assert log_file.stat().st_size > 0  # the log did get written
    needles = [CANARY_ID, CANARY_ID[6:14], CANARY_PHONE, CANARY_PHRASE]
    assert _files_containing([tmp_path, data_dir], needles) == []


async def test_sender_is_warned_and_only_the_masked_text_is_used(app, tmp_path):
    async with running_bot(app, tmp_path) as (api, _):
        api.inject_message(
            4301, f"my card 6222 0212 3456 7890 128 and phone {CANARY_PHONE} were leaked, what now?"
        )
        [reply] = await api.wait_for(1, chat_id=4301)
    assert "A gentle reminder" in reply["text"] and "a phone number" in reply["text"]
    assert CANARY_PHONE not in reply["text"] and "0212 3456" not in reply["text"]


def test_answer_json_carries_the_masked_question_and_the_kinds(app):
    answer = app.answers.ask(f"身份证{CANARY_ID}丢了怎么办")
    assert CANARY_ID not in answer.question and answer.personal_data == ["id_number"]
    assert answer.privacy_warning and "身份证号" in answer.privacy_warning
    plain = app.answers.ask("身份证丢了怎么办")
    assert plain.personal_data == [] and plain.privacy_warning is None
    # The number does not change what is found: the search reads "身份证号" in its place.
    with_number = app.answers.ask(f"我身份证号{CANARY_ID}好像泄露了，咋办")
    without = app.answers.ask("我身份证号好像泄露了，咋办")
    assert with_number.sources[0].id == without.sources[0].id


ODD_UPDATES = [
    # text with entities pointing past its end, and a text of invisible characters only
    {"message": {"text": "hi", "entities": [{"type": "bold", "offset": 5, "length": 90}]}},
    {"message": {"text": "\u200b\u200d\u202e\ufeff"}},
    {"message": {"text": "\x00\x01\x02 " * 50}},
    {"message": {"text": "😀" * 3000}},
    {"message": {"text": "/check"}},
    {"message": {"text": "/check \u200b"}},
    {"message": {"text": "/start@someone_else_bot extra words"}},
    # no text at all: a dice, an impossible location, a new member
    {"message": {"dice": {"emoji": "🎲", "value": 3}}},
    {"message": {"location": {"latitude": 91.5, "longitude": -200.0}}},
    {"message": {"new_chat_members": [{"id": 5, "is_bot": False, "first_name": "N"}]}},
    # button presses with unknown, empty or hostile data
    {"callback_query": {"data": "c:-999999999999:xx"}},
    {"callback_query": {"data": "e:../../etc/passwd"}},
    {"callback_query": {"data": ""}},
    {"callback_query": {"data": "t:" + "x" * 60}},
]


async def test_odd_updates_never_crash_a_handler(app, tmp_path, caplog):
    caplog.set_level(logging.ERROR, logger="bot.telegram")
    async with running_bot(app, tmp_path) as (api, _):
        chat = 4401
        for raw in ODD_UPDATES:
            kind, body = next(iter(raw.items()))
            if kind == "message":
                api.inject_update(
                    {"message": {**api._user_message(chat, chat, "Odd", "private", None, None, None), **body}}
                )
            else:
                api.inject_callback_query(chat, body["data"])
        api.inject_message(chat, "快递单怎么处理")  # the bot still answers afterwards
        await api.wait_for(lambda params: "快递" in params.get("text", ""), chat_id=chat, timeout=20)
    assert [r for r in caplog.records if r.name == "bot.telegram" and r.levelno >= logging.ERROR] == []
    assert not any("抱歉" in t and "出错" in t for t in texts(api, chat))


async def test_a_flood_from_one_user_leaves_the_bot_answering_others(app, tmp_path):
    async with running_bot(app, tmp_path) as (api, _):
        flooder, other = 4501, 4502
        for number in range(1000):
            api.inject_message(flooder, f"快递单怎么处理 {number}", user_id=flooder)
        api.inject_message(other, "验证码能告诉别人吗", user_id=other)
        [reply] = await api.wait_for(1, chat_id=other, timeout=60)
        # The per-minute allowance of answers, then "please wait" once, not a thousand times.
        await api.wait_for(10 + 1, chat_id=flooder, timeout=60)
        for _ in range(50):  # give any stray extra reply the chance to show up
            await asyncio.sleep(0.1)
        flooded = texts(api, flooder)
        assert not api.pending_updates
    assert "验证码" in reply["text"]
    assert len(flooded) == 10 + 1
    assert sum("稍等" in t for t in flooded) == 1


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.text(st.characters(blacklist_categories=()), max_size=3000))
def test_ask_and_check_never_raise_on_any_text(app, text):
    try:
        answer = app.answers.ask(text)
        assert answer.lang in ("zh", "en")
    except EmptyQuestion:
        pass
    try:
        result = app.checker.check(text)
        assert result.risk in ("high", "medium", "low")
    except ValueError:
        pass


def test_huge_inputs_are_capped_before_any_work(app):
    for text in ("问" * 100_000, "1" * 100_000, "\ud800\x00" * 50_000):
        answer = app.answers.ask(text)
        assert len(answer.question) <= app.answers.max_question_chars
        app.checker.check(text)


SECRETS = {
    "TELEGRAM_BOT_TOKEN": TOKEN,
    "BOT_PEPPER": PEPPER,
    "WEBHOOK_SECRET": "webhook-secret-abcdefghijkl",
    "LLM_API_KEY": "sk-test-key-0123456789abcdef",
}
NOT_SECRET = {"LLM_PROVIDER": "openai", "LLM_MODEL": "test-model"}


def test_settings_never_show_secrets_in_repr_or_errors():
    settings = Settings.from_env({**SECRETS, **NOT_SECRET})
    shown = repr(settings) + str(settings) + str(settings.model_dump())
    for secret in SECRETS.values():
        assert secret not in shown
    with pytest.raises(SettingsError) as bad:
        Settings.from_env(
            {**SECRETS, **NOT_SECRET, "PORT": "not-a-port", "BOT_USER_QUESTIONS_PER_MINUTE": "-1"}
        )
    for secret in SECRETS.values():
        assert secret not in str(bad.value)


async def test_secrets_never_reach_logs_or_error_replies(app, tmp_path, caplog):
    from tests.support.telegram import FailingAnswers

    configure_logging(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    async with running_bot(app, tmp_path, pepper=PEPPER) as (api, application):
        application.bot_data["services"].answers = FailingAnswers(app.answers)
        api.inject_message(4601, "快递单怎么处理")
        [apology] = await api.wait_for(1, chat_id=4601)
    logged = "\n".join(
        r.getMessage() + (r.exc_text or "") for r in caplog.records if not r.name.startswith("aiohttp")
    )
    assert "update failed" in logged
    for secret in (TOKEN, TOKEN.split(":")[1], PEPPER):
        assert secret not in logged and secret not in apology["text"]
