"""The Telegram bot end to end: an unmodified python-telegram-bot Application, polling a fake
Bot API server over real HTTP, answering from the real index."""

from __future__ import annotations

import asyncio
import logging
import socket

import aiohttp
import pytest
import yaml

from bot.adapters.telegram.application import build_application, make_services
from bot.adapters.telegram.html import utf16_len
from bot.adapters.telegram.server import configure_logging, make_application, serve_webhook
from bot.app import build_app
from bot.settings import Settings
from tests.support.fake_bot_api import FakeBotAPI
from tests.support.telegram import (
    TOKEN,
    FailingAnswers,
    bot_with_answers,
    last_message_id,
    running_bot,
    texts,
)


async def test_start_offers_topic_buttons_and_commands_are_registered(app, tmp_path):
    async with running_bot(app, tmp_path) as (api, _):
        api.inject_message(101, "/start")
        [reply] = await api.wait_for(1, chat_id=101)
        assert "个人信息保护小助手" in reply["text"] and reply["parse_mode"] == "HTML"
        buttons = [b["callback_data"] for row in reply["reply_markup"]["inline_keyboard"] for b in row]
        assert "t:fake_sms" in buttons and "t:delivery_labels" in buttons
        registered = api.sent(method="setMyCommands")
        assert {c.get("language_code") for c in registered} == {None, "zh"}
        assert {"start", "topics", "cases", "report", "lang", "privacy", "forget"} <= {
            c["command"] for c in registered[0]["commands"]
        }


async def test_every_information_command_answers(app, tmp_path):
    async with running_bot(app, tmp_path) as (api, _):
        for chat_id, command in enumerate(
            ["/help", "/topics", "/report", "/privacy", "/cases", "/lang"], 201
        ):
            api.inject_message(chat_id, command)
        replies = {c: (await api.wait_for(1, chat_id=c))[0] for c in range(201, 207)}
        assert "/topics" in replies[201]["text"]
        topic_buttons = [b for row in replies[202]["reply_markup"]["inline_keyboard"] for b in row]
        assert len(topic_buttons) == 16
        assert "96110" in replies[203]["text"] and "12321" in replies[203]["text"]
        assert "15" in replies[204]["text"] and "HMAC" in replies[204]["text"]
        assert replies[205]["text"].startswith("<i>案例 1/")
        assert {
            b["callback_data"] for row in replies[206]["reply_markup"]["inline_keyboard"] for b in row
        } == {
            "l:zh",
            "l:en",
        }


async def test_cases_page_with_next_button(app, tmp_path):
    async with running_bot(app, tmp_path) as (api, _):
        api.inject_message(301, "/cases")
        [first] = await api.wait_for(1, chat_id=301)
        api.inject_callback_query(301, "c:1:zh", message_id=last_message_id(api, 301))
        [edit] = await api.wait_for(1, chat_id=301, method="editMessageText")
        assert edit["text"].startswith("<i>案例 2/") and edit["text"] != first["text"]
        assert api.sent(301, method="answerCallbackQuery")


async def test_free_text_in_chinese_and_english_gets_a_sourced_answer(app, tmp_path):
    async with running_bot(app, tmp_path) as (api, _):
        api.inject_message(401, "收到短信说可以提升信用卡额度，是真的吗")
        api.inject_message(402, "my ID number leaked, what should I do?")
        [zh] = await api.wait_for(1, chat_id=401)
        [en] = await api.wait_for(1, chat_id=402)
        assert "来源：<a href=" in zh["text"] and "额度" in zh["text"]
        assert "Source: <a href=" in en["text"] and "ID" in en["text"]
        # The curated answer is ready within half a second: no "typing…" spends the rate budget.
        assert not api.sent(401, method="sendChatAction")
        buttons = [b["callback_data"] for row in zh["reply_markup"]["inline_keyboard"] for b in row]
        related = [c for c in buttons if c.startswith("e:")]
        assert related and all(c.startswith(("e:", "f:")) for c in buttons)
        api.inject_callback_query(401, related[0])
        await api.wait_for(2, chat_id=401)
        assert texts(api, 401)[1].startswith("<b>")


async def test_follow_up_is_read_in_the_context_of_the_previous_question(app, tmp_path):
    async with running_bot(app, tmp_path) as (api, _):
        api.inject_message(501, "我刚点了短信里的提额链接，还填了银行卡号")
        await api.wait_for(1, chat_id=501)
        api.inject_message(501, "那怎么办？")
        await api.wait_for(2, chat_id=501)
        follow_up = texts(api, 501)[1]
        assert "超出" not in follow_up and "不在我能可靠回答" not in follow_up
        assert "银行" in follow_up


async def test_lang_button_switches_the_reply_language(app, tmp_path):
    async with running_bot(app, tmp_path) as (api, _):
        api.inject_callback_query(601, "l:en")
        await api.wait_for(1, chat_id=601)
        api.inject_message(601, "快递单怎么处理")
        await api.wait_for(2, chat_id=601)
        assert "Source:" in texts(api, 601)[1]


async def test_groups_answer_mentions_and_replies_only(app, tmp_path):
    async with running_bot(app, tmp_path) as (api, _):
        group = -100123
        api.inject_message(group, "大家晚上好", chat_type="supergroup", user_id=7001)
        mention = [{"type": "mention", "offset": 0, "length": len("@test_bot")}]
        api.inject_message(
            group, "@test_bot 快递单怎么处理", chat_type="supergroup", user_id=7001, entities=mention
        )
        [reply] = await api.wait_for(1, chat_id=group)
        assert "面单" in reply["text"] or "快递" in reply["text"]
        api.inject_message(
            group,
            "那老人怎么防骗",
            chat_type="supergroup",
            user_id=7002,
            reply_to_message=last_message_id(api, group),
        )
        await api.wait_for(2, chat_id=group)
        api.inject_non_text(group, "sticker", chat_type="supergroup")
        await asyncio.sleep(1.5)
        assert len(api.sent(group)) == 2  # the greeting and the sticker got no reply


async def test_sticker_in_private_gets_a_text_only_hint_and_edits_are_answered(app, tmp_path):
    async with running_bot(app, tmp_path) as (api, _):
        api.inject_non_text(701, "sticker")
        [hint] = await api.wait_for(1, chat_id=701)
        assert "文字" in hint["text"]
        api.inject_message(702, "天气", message_id=55)
        await api.wait_for(1, chat_id=702)
        api.inject_edited_message(702, 55, "快递盒上的单子怎么处理")
        await api.wait_for(2, chat_id=702)
        assert "面单" in texts(api, 702)[1] or "快递" in texts(api, 702)[1]


async def test_429_delays_the_reply_instead_of_losing_it(app, tmp_path):
    async with running_bot(app, tmp_path) as (api, _):
        api.fail_next("sendMessage", times=1, retry_after=1)
        api.inject_message(801, "96110是什么电话")
        [reply] = await api.wait_for(1, chat_id=801, timeout=20)
        assert "96110" in reply["text"]
        statuses = [c.status for c in api.calls if c.method == "sendMessage"]
        assert statuses[:2] == [429, 200]


async def test_per_user_limit_answers_politely(app, tmp_path):
    async with running_bot(app, tmp_path, user_questions_per_minute=2) as (api, _):
        for question in ["快递单怎么处理", "验证码能给别人吗", "96110是什么"]:
            api.inject_message(901, question, user_id=9001)
            await api.wait_for(len(api.sent(901)) + 1, chat_id=901, timeout=15)
        assert "稍等" in texts(api, 901)[2]


async def test_long_answer_is_split_under_the_utf16_limit(bundled_embeddings, small_knowledge, tmp_path):
    path = small_knowledge / "entries" / "fake_sms.yaml"
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    long = dict(entries[0])
    long["id"] = "fake-sms-very-long-test-entry"
    long["answer"] = {"zh": "很长的回答，用来测试分段。😀" * 650, "en": "A long answer. " * 700}
    long["questions"] = [
        "超长测试问题是什么",
        "长长长测试",
        "分段测试问题",
        "超長測試問題",
        "测试一下超长的回答",
        "what is the very long test answer",
    ]
    path.write_text(yaml.safe_dump([*entries, long], allow_unicode=True), encoding="utf-8")
    settings = Settings(knowledge_dir=small_knowledge, data_dir=tmp_path)
    long_app = build_app(settings, embeddings=bundled_embeddings)
    async with running_bot(long_app, tmp_path) as (api, _):
        api.inject_message(1001, "超长测试问题是什么")
        await asyncio.sleep(0.5)
        pieces = await api.wait_for(3, chat_id=1001, timeout=20)
        assert all(0 < utf16_len(p["text"]) <= 4096 for p in pieces)
        joined = "".join(p["text"] for p in api.sent(1001))
        assert joined.count("😀") == 650


def bot_log(caplog) -> str:
    """Everything the bot process logged (the fake Telegram server's access log is not the bot's)."""
    return "\n".join(
        r.getMessage() + (r.exc_text or "") for r in caplog.records if not r.name.startswith("aiohttp")
    )


async def test_errors_are_logged_without_text_and_the_user_gets_an_apology(app, tmp_path, caplog):
    configure_logging()
    caplog.set_level(logging.INFO)
    async with bot_with_answers(app, tmp_path, lambda services: FailingAnswers(app.answers)) as (api, _):
        api.inject_message(1101, "我的身份证号110101199003077777泄露了 CANARY-PHRASE-42")
        [apology] = await api.wait_for(1, chat_id=1101)
    assert "抱歉" in apology["text"]
    logged = bot_log(caplog)
    assert "update failed for chat=c_" in logged
    for secret in ("CANARY-PHRASE-42", "110101199003077777", TOKEN, "1101"):
        assert secret not in logged


async def test_conversation_logs_carry_neither_token_nor_text(app, tmp_path, caplog):
    configure_logging()
    caplog.set_level(logging.INFO)
    async with running_bot(app, tmp_path) as (api, _):
        api.inject_message(1201, "CANARY-QUESTION 快递单怎么处理")
        await api.wait_for(1, chat_id=1201)
    logged = bot_log(caplog)
    assert "answered chat=c_" in logged
    assert TOKEN not in logged and "CANARY-QUESTION" not in logged and "快递单" not in logged


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_webhook_checks_the_secret_and_serves_health(app, tmp_path):
    port = _free_port()
    secret = "s3cret-token-for-webhook-tests"
    async with FakeBotAPI(token=TOKEN) as api:
        settings = Settings(
            data_dir=tmp_path,
            telegram_token=TOKEN,
            telegram_api_base_url=api.base_url,
            bot_mode="webhook",
            webhook_url="https://bot.example.org/tg-hook",
            webhook_secret=secret,
            port=port,
        )
        stop = asyncio.Event()
        server = asyncio.create_task(
            serve_webhook(make_application(settings, app), settings, "127.0.0.1", stop)
        )
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                try:
                    async with http.get(f"{base}/readyz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            async with http.get(f"{base}/healthz") as response:
                assert response.status == 200
            update = {
                "update_id": 1,
                "message": {"message_id": 1, "date": 0, "chat": {"id": 1301, "type": "private"},
                            "from": {"id": 1301, "is_bot": False, "first_name": "A"}, "text": "96110是什么"},
            }  # fmt: skip
            status, _ = await api.post_to_webhook(f"{base}/tg-hook", update, secret_token="wrong")
            assert status == 403
            status, _ = await api.post_to_webhook(f"{base}/tg-hook", update)
            assert status == 403
            status, _ = await api.post_to_webhook(f"{base}/tg-hook", update, secret_token=secret)
            assert status == 200
            [reply] = await api.wait_for(1, chat_id=1301)
            assert "96110" in reply["text"]
        assert api.sent(method="setWebhook")[0]["secret_token"] == secret
        stop.set()
        await asyncio.wait_for(server, 10)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "TELEGRAM_BOT_TOKEN is not set"),
        ({"TELEGRAM_BOT_TOKEN": "12345"}, "does not look like a bot token"),
    ],
)
def test_missing_or_malformed_token_is_exit_code_2(env, message, capsys):
    from bot.adapters.cli import main

    assert main(["telegram"], environ=env) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


async def test_check_command_reply_and_forwarded_message(app, tmp_path):
    scam = "【工商银行】您的信用卡可提额至5万，请今日内登录 icbc-95588.top 填写卡号和验证码，电话13812345678"
    async with running_bot(app, tmp_path) as (api, _):
        api.inject_message(1401, f"/check {scam}")
        [checked] = await api.wait_for(1, chat_id=1401)
        assert checked["text"].startswith("🔴") and "icbc-95588.top" in checked["text"]
        assert "13812345678" not in checked["text"]
        assert "96110" in checked["text"]

        api.inject_message(1402, "您的验证码是 482910，请勿告诉任何人", message_id=10)
        await api.wait_for(1, chat_id=1402)
        api.inject_message(1402, "/check", reply_to_message=10)
        await api.wait_for(2, chat_id=1402)
        verdict = texts(api, 1402)[1]
        assert verdict.startswith("🟢") and "不代表一定安全" in verdict

        forwarded = {
            "message_id": 20,
            "date": 0,
            "chat": {"id": 1403, "type": "private", "first_name": "A"},
            "from": {"id": 1403, "is_bot": False, "first_name": "A"},
            "forward_origin": {"type": "hidden_user", "sender_user_name": "Unknown", "date": 0},
            "text": "Your account will be frozen within 24 hours. Transfer your funds to a safe account now.",
        }
        api.inject_update({"message": forwarded})
        [auto] = await api.wait_for(1, chat_id=1403)
        assert auto["text"].startswith("🔴") and "safe account" in auto["text"].lower()

        api.inject_message(1404, "/check")
        api.inject_message(1405, "/check \u200b\u200b")
        [usage] = await api.wait_for(1, chat_id=1404)
        [invisible] = await api.wait_for(1, chat_id=1405)
        assert "/check" in usage["text"] and "/check" in invisible["text"]


STALE_BUTTONS = ["x:from-an-older-version", "e:an-entry-that-was-removed", "t:no_such_topic"]


@pytest.mark.parametrize("data", STALE_BUTTONS)
async def test_a_stale_button_is_answered_with_a_short_notice(app, tmp_path, data):
    async with running_bot(app, tmp_path) as (api, _):
        api.inject_callback_query(811, data)
        [answered] = await api.wait_for(1, chat_id=811, method="answerCallbackQuery")
        assert "过期" in answered.get("text", "") or "expired" in answered.get("text", "")
        assert api.sent(811) == []  # no message, only the notice on the button


async def test_the_chosen_language_is_per_chat_state(app, tmp_path):
    async with running_bot(app, tmp_path) as (api, application):
        api.inject_callback_query(821, "l:en")
        await api.wait_for(1, chat_id=821)
        api.inject_message(821, "快递面单怎么处理")
        api.inject_message(822, "快递面单怎么处理")
        [_, english] = await api.wait_for(2, chat_id=821)
        [chinese] = await api.wait_for(1, chat_id=822)
        assert "Source" in english["text"] and "来源" in chinese["text"]
        assert application.chat_data[821].language == "en" and application.chat_data[822].language is None


def test_a_menu_command_without_a_handler_stops_the_bot_at_start_up(app, tmp_path):
    import dataclasses

    from bot.adapters.telegram.texts import MenuCommand
    from bot.data.templates import PromptError

    services = make_services(app, Settings(data_dir=tmp_path))
    menu = (*services.texts.menu, MenuCommand("nosuch", {"zh": "没有", "en": "None"}))
    services.texts = dataclasses.replace(services.texts, menu=menu)
    with pytest.raises(PromptError, match="nosuch"):
        build_application(TOKEN, "http://127.0.0.1:1/bot", services)


async def test_greetings_right_after_start_get_the_friendly_reply(app, tmp_path):
    async with running_bot(app, tmp_path) as (api, _):
        api.inject_message(831, "/start")
        await api.wait_for(1, chat_id=831)
        api.inject_message(831, "你好")
        api.inject_message(832, "thanks!")
        [_, hello] = await api.wait_for(2, chat_id=831)
        [thanks] = await api.wait_for(1, chat_id=832)
        assert "你好！我是个人信息保护小助手" in hello["text"] and "You're welcome" in thanks["text"]
        assert "抱歉" not in hello["text"] and "Sorry" not in thanks["text"]


class _SlowAnswers:
    """The real answer service, slower than the typing threshold (as a language model is)."""

    def __init__(self, real, delay_s: float):
        self._real, self._delay_s = real, delay_s
        self.kb, self.max_question_chars, self.replies = real.kb, real.max_question_chars, real.replies

    def ask(self, question, lang=None, previous=None):
        import time

        time.sleep(self._delay_s)
        return self._real.ask(question, lang, previous)

    def empty_reply(self, lang="zh"):
        return self._real.empty_reply(lang)


async def test_typing_is_shown_only_when_an_answer_is_slow(app, tmp_path):
    slow = lambda services: _SlowAnswers(app.answers, delay_s=services.typing_after_s + 0.5)  # noqa: E731
    async with bot_with_answers(app, tmp_path, slow) as (api, _):
        api.inject_message(1201, "快递面单怎么处理")
        [reply] = await api.wait_for(1, chat_id=1201)
    assert "面单" in reply["text"]
    assert api.sent(1201, method="sendChatAction")


async def test_during_a_burst_a_late_curated_answer_shows_no_typing(app, tmp_path):
    def slow_and_busy(services):
        services.typing_max_in_flight = 0  # every answer now counts as part of a burst
        return _SlowAnswers(app.answers, delay_s=services.typing_after_s + 0.5)

    async with bot_with_answers(app, tmp_path, slow_and_busy) as (api, _):
        api.inject_message(1301, "快递面单怎么处理")
        [reply] = await api.wait_for(1, chat_id=1301)
    assert "面单" in reply["text"] and not api.sent(1301, method="sendChatAction")
