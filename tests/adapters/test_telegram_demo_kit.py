"""The community-worker demo kit in Telegram, end to end over the fake Bot API: a group quiz game,
a private quiz, 👍/👎 feedback counted per entry, the admin-only /stats chart, and a look into
every table of the statistics database for text or raw ids."""

from __future__ import annotations

import asyncio
import html
import re
import sqlite3
import struct

from bot.data.knowledge import load_knowledge
from bot.services.quiz import load_quiz
from bot.settings import REPO_ROOT
from tests.support.telegram import running_bot

GROUP = -100555
LINE = re.compile(r"^([A-D])\. (.+)$", re.MULTILINE)


def _bank():
    kb = load_knowledge(REPO_ROOT / "knowledge")
    return load_quiz(REPO_ROOT / "knowledge", REPO_ROOT / "prompts", kb)


def _buttons(message) -> list[str]:
    return [b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row]


def right_letter(bank, message) -> str:
    """Which option of a sent quiz question is right, worked out from the quiz data (not the bot)."""
    text = html.unescape(message["text"])
    item = next(
        i for i in bank.items if i.question["zh"] in text and (i.message is None or i.message["zh"] in text)
    )
    right = item.choices[item.correct]["zh"]
    return next(letter for letter, choice in LINE.findall(text) if choice == right)


def press(api, chat_id, message, letter, user_id, name):
    """Press the button of option `letter` (or "r" for "show the answer") under `message`."""
    index = "r" if letter == "r" else str("ABCD".index(letter))
    data = next(d for d in _buttons(message) if d.endswith(f":{index}"))
    api.inject_callback_query(chat_id, data, user_id=user_id, first_name=name)


async def toast(api, chat_id, count) -> str:
    """The text of the `count`-th callback answer in the chat."""
    answers = await api.wait_for(count, chat_id=chat_id, method="answerCallbackQuery")
    return answers[count - 1].get("text", "")


async def until(condition, timeout: float = 10.0) -> None:
    """Wait for work the bot does after replying (statistics are written after the answer)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def rows(path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as db:
        tables = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: db.execute(f'SELECT * FROM "{t}"').fetchall() for t in tables}


async def test_a_group_plays_the_quiz_together(app, tmp_path):
    bank = _bank()
    async with running_bot(app, tmp_path) as (api, _):
        api.inject_message(GROUP, "/quiz 2", chat_type="supergroup", user_id=501, first_name="Mei")
        title, first = await api.wait_for(2, chat_id=GROUP)
        assert "共 2 题" in title["text"] and "公布答案" in title["text"]
        assert first["text"].startswith("<b>第 1/2 题</b>")
        right = right_letter(bank, first)
        wrong = next(letter for letter, _ in LINE.findall(html.unescape(first["text"])) if letter != right)

        press(api, GROUP, first, right, 501, "Mei")
        assert await toast(api, GROUP, 1) == "已记录你的答案"
        press(api, GROUP, first, wrong, 502, "Tom")
        assert await toast(api, GROUP, 2) == "已记录你的答案"
        press(api, GROUP, first, right, 502, "Tom")  # a change of mind is not taken
        assert await toast(api, GROUP, 3) == "你已经答过这题了"
        press(api, GROUP, first, right, 503, "Ana")
        assert await toast(api, GROUP, 4) == "已记录你的答案"
        press(api, GROUP, first, "r", 502, "Tom")  # only whoever started the quiz reveals
        assert await toast(api, GROUP, 5) == "请等发起测验的人公布答案"
        press(api, GROUP, first, "r", 501, "Mei")
        await toast(api, GROUP, 6)

        reveal, second = (await api.wait_for(4, chat_id=GROUP))[2:]
        assert f"正确答案：{right}." in reveal["text"]
        assert f"{right}: 2" in reveal["text"] and f"{wrong}: 1" in reveal["text"]
        assert "来源：<a href=" in reveal["text"]
        assert second["text"].startswith("<b>第 2/2 题</b>")

        press(api, GROUP, first, right, 504, "Late")  # a button of the finished question
        assert await toast(api, GROUP, 7) == "这道题已经结束了"

        right = right_letter(bank, second)
        wrong = next(letter for letter, _ in LINE.findall(html.unescape(second["text"])) if letter != right)
        for user_id, name, letter in ((501, "Mei", wrong), (502, "Tom", right), (503, "Ana", right)):
            press(api, GROUP, second, letter, user_id, name)
        await toast(api, GROUP, 10)
        press(api, GROUP, second, "r", 501, "Mei")
        *_, reveal, board = await api.wait_for(6, chat_id=GROUP)
        assert f"{right}: 2" in reveal["text"] and f"{wrong}: 1" in reveal["text"]
        assert board["text"].splitlines() == [
            "测验结束！🏆 排行榜：",
            "1. Ana：2 题",
            "2. Mei：1 题",
            "3. Tom：1 题",
        ]
        press(api, GROUP, second, right, 503, "Ana")  # the game is over and forgotten
        await toast(api, GROUP, 12)
        assert len(api.sent(GROUP)) == 6
        db = tmp_path / "stats.sqlite3"
        await until(lambda: any(r[1] == "quiz_play" for r in rows(db)["daily_counts"]))


async def test_a_private_quiz_explains_each_answer_and_gives_the_score(app, tmp_path):
    bank = _bank()
    async with running_bot(app, tmp_path) as (api, _):
        api.inject_message(551, "/quiz 1")
        _, question = await api.wait_for(2, chat_id=551)
        assert "r" not in [d.rsplit(":", 1)[1] for d in _buttons(question)]  # no reveal button alone
        press(api, 551, question, right_letter(bank, question), 551, "Lin")
        _, _, explained, score = await api.wait_for(4, chat_id=551)
        assert explained["text"].startswith("<b>✅ 答对了！</b>") and "来源：<a href=" in explained["text"]
        assert score["text"] == "测验结束！你答对了 1/1 题。"


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


async def test_stats_chart_goes_to_admins_in_private_only(app, tmp_path):
    from bot.adapters.charts import HEIGHT_PX, WIDTH_PX

    async with running_bot(app, tmp_path, admin_user_ids=frozenset({601})) as (api, _):
        api.inject_message(601, "快递单怎么处理")
        await api.wait_for(1, chat_id=601)
        await until(lambda: rows(tmp_path / "stats.sqlite3")["daily_counts"])
        api.inject_message(601, "/stats")
        [photo] = await api.wait_for(1, chat_id=601, method="sendPhoto")
        assert _png_size(photo["photo"].data) == (WIDTH_PX, HEIGHT_PX)
        assert "共回答 1 个问题" in photo["caption"]

        api.inject_message(602, "/stats")  # not an admin
        api.inject_message(-100600, "/stats", chat_type="supergroup", user_id=601)  # an admin, in a group
        [refused] = await api.wait_for(1, chat_id=602)
        [in_group] = await api.wait_for(1, chat_id=-100600)
        assert "只提供给管理员" in refused["text"] and "只提供给管理员" in in_group["text"]
        assert api.sent(602, method="sendPhoto") == [] and api.sent(-100600, method="sendPhoto") == []
        assert len(api.sent(method="sendPhoto")) == 1


async def test_feedback_is_counted_per_entry_and_the_database_holds_no_text_or_ids(app, tmp_path):
    canary = "紫色长颈鹿"
    user, chat = 987654321, 987654321
    async with running_bot(app, tmp_path) as (api, _):
        api.inject_message(chat, f"{canary}说收到短信可以提升信用卡额度，是真的吗", user_id=user)
        [answer] = await api.wait_for(1, chat_id=chat)
        votes = [d for d in _buttons(answer) if d.startswith("f:")]
        assert votes == [v for v in votes if v.split(":")[1] in ("up", "down")] and len(votes) == 2
        entry_id = votes[0].split(":", 2)[2]
        api.inject_callback_query(chat, f"f:up:{entry_id}", user_id=user)
        assert await toast(api, chat, 1) == "谢谢反馈！"
        api.inject_callback_query(chat, f"f:up:{entry_id}", user_id=user)
        assert await toast(api, chat, 2) == "你已经评价过这条回答了"

        api.inject_message(chat + 1, "my ID number leaked, what should I do?", user_id=user + 1)
        [other] = await api.wait_for(1, chat_id=chat + 1)
        other_entry = next(d for d in _buttons(other) if d.startswith("f:down:")).split(":", 2)[2]
        api.inject_callback_query(chat + 1, f"f:down:{other_entry}", user_id=user + 1)
        await toast(api, chat + 1, 1)

        api.inject_message(
            chat, f"/check {canary}：您的账户异常，请立即点击 icbc-95588.top 验证", user_id=user
        )
        api.inject_message(chat + 2, f"{canary}怎么做红烧肉", user_id=user + 2)
        api.inject_message(chat + 3, "帮我查一下这个手机号的机主是谁", user_id=user + 3)
        await api.wait_for(2, chat_id=chat)
        await api.wait_for(1, chat_id=chat + 2)
        await api.wait_for(1, chat_id=chat + 3)

        db = tmp_path / "stats.sqlite3"

        def complete() -> bool:
            metrics = {r[1] for r in rows(db)["daily_counts"]}
            return {"question", "check", "out_of_scope", "refused"} <= metrics and len(
                rows(db)["feedback"]
            ) == 2

        await until(complete)
    tables = rows(db)
    assert sorted(tables["feedback"]) == sorted([(entry_id, "up", 1), (other_entry, "down", 1)])
    assert len(tables["daily_visitors"]) == 4  # four people today, counted by per-day pseudonyms
    values = [str(v) for table in tables.values() for row in table for v in row]
    assert values and not [v for v in values if canary in v or "长颈鹿" in v]
    assert not [v for v in values if str(user)[:6] in v or "icbc" in v or "红烧肉" in v]
    with sqlite3.connect(db) as conn:  # and no column that could hold anything else
        columns = {t: [c[1] for c in conn.execute(f'PRAGMA table_info("{t}")')] for t in tables}
    assert columns == {
        "daily_counts": ["day", "metric", "key", "count"],
        "daily_visitors": ["day", "visitor"],
        "feedback": ["entry_id", "vote", "count"],
    }
