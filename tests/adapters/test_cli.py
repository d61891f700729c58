"""The command-line contract: `ask`, `ask --json`, `ask --jsonl`, `chat`, exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from bot.adapters.cli import main
from bot.adapters.terminal.chat import run_chat
from bot.settings import REPO_ROOT

CONTRACT = {"question", "answer", "lang", "in_scope", "refused", "topic", "sources", "related", "latency_ms"}


def _run(argv, env, stdin_text: str | None = None):
    out = io.StringIO()
    code = main(argv, environ=env, stdin=io.StringIO(stdin_text or ""), stdout=out)
    return code, out.getvalue()


def test_ask_json_prints_one_object_with_the_contract(env):
    code, out = _run(["ask", "--json", "快递盒上的面单怎么处理"], env)
    assert code == 0
    data = json.loads(out)
    assert set(data) >= CONTRACT
    assert data["topic"] == "delivery_labels" and data["lang"] == "zh" and data["in_scope"] is True
    assert isinstance(data["latency_ms"], float) and data["latency_ms"] >= 0


def test_ask_plain_prints_answer_and_source(env):
    code, out = _run(["ask", "what do I do if my ID number leaked?"], env)
    assert code == 0 and "Source:" in out and "http" in out


def test_ask_lang_forces_the_reply_language(env):
    code, out = _run(["ask", "--json", "--lang", "en", "快递单怎么处理"], env)
    assert code == 0 and json.loads(out)["lang"] == "en"


def test_out_of_scope_json_has_null_topic(env):
    code, out = _run(["ask", "--json", "明天会下雨吗"], env)
    data = json.loads(out)
    assert code == 0 and data["in_scope"] is False and data["topic"] is None and data["refused"] is False


@pytest.mark.parametrize("question", ["", "   ", "\u200b\u200d"])
def test_empty_question_is_exit_code_2_with_a_clear_message(env, question, capsys):
    code, out = _run(["ask", question], env)
    assert code == 2 and out == ""
    assert "empty" in capsys.readouterr().err


def test_jsonl_reads_plain_and_json_lines_and_writes_one_object_each(env):
    lines = "\n".join(
        [
            "收到提额短信怎么办",
            json.dumps({"q": "my ID number leaked, what now?"}),
            "",
            json.dumps({"q": "   "}),
            "{not json at all",
            "帮我查一下这个手机号的机主是谁",
        ]
    )
    code, out = _run(["ask", "--jsonl"], env, lines)
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(rows) == 5
    assert rows[0]["topic"] == "fake_sms"
    assert rows[1]["lang"] == "en" and rows[1]["topic"] == "after_leak"
    assert rows[2] == {"question": "", "error": "empty question"}
    assert set(rows[3]) >= CONTRACT
    assert rows[4]["refused"] is True and rows[4]["topic"] == "legal"


def test_hostile_input_through_the_cli(env):
    code, out = _run(["ask", "--json", "\x00\x1b[2J" + "验证码" * 40_000 + "😀\u202e"], env)
    data = json.loads(out)
    assert code == 0 and len(data["question"]) <= 2000 and data["answer"]


def test_chat_answers_until_quit(app):
    stdin = io.StringIO("收到短信说可以提额\n\n/en\nwhat about delivery labels?\n/quit\nnever read\n")
    out = io.StringIO()
    assert run_chat(app.answers, stdin, out) == 0
    text = out.getvalue()
    assert "来源" in text and "Source:" in text
    assert "请输入一个问题" in text  # the empty line
    assert "\033[" not in text  # no colour codes when the output is not a terminal


def test_chat_ends_cleanly_at_end_of_input(app):
    out = io.StringIO()
    assert run_chat(app.answers, io.StringIO("你好\n"), out) == 0


def test_python_m_bot_ask_runs_as_a_process(env):
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", "96110是什么电话"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**env, "PATH": "/usr/bin:/bin", "HOME": "/tmp"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["topic"] == "reporting"


def test_unknown_backend_is_a_configuration_error(capsys):
    code, _ = _run(["ask", "hi"], {"BOT_EMBEDDING_BACKEND": "magic"})
    assert code == 2 and "BOT_EMBEDDING_BACKEND" in capsys.readouterr().err


def test_chat_reads_a_follow_up_after_the_last_question(app):
    stdin = io.StringIO("快递面单怎么处理\n那怎么办\n/quit\n")
    out = io.StringIO()
    assert run_chat(app.answers, stdin, out) == 0
    alone = app.answers.ask("那怎么办")
    assert not alone.in_scope  # on its own, the follow-up has nothing to answer
    text = out.getvalue()
    assert "抱歉，这个问题不在" not in text and text.count("来源") == 2


@pytest.mark.parametrize(
    ("previous", "follow_up", "found"),
    [
        # Alone it gets the overview of every channel; after the spam, the 12321 entry.
        ("老是收到垃圾短信", "能举报吗", lambda a: a.sources[0].id == "reporting-12321-spam-and-scam-sms"),
        ("怎么防止个人信息泄露", "我爸妈呢", lambda a: a.sources[0].id == "elderly-family-protection-advice"),
        # Alone nearer the family advice than any out-of-scope example, the thread in scope.
        ("快递面单怎么处理", "我爸妈呢", lambda a: a.sources[0].id == "elderly-family-protection-advice"),
    ],
)
def test_follow_ups_resolve_against_the_last_question(app, previous, follow_up, found):
    alone = app.answers.ask(follow_up)
    assert not (alone.in_scope and found(alone))  # the memory is what finds it
    answer = app.answers.ask(follow_up, previous=previous)
    assert answer.in_scope and found(answer)
    # The terminal chat passes the last question: the same reply comes out there.
    out = io.StringIO()
    assert run_chat(app.answers, io.StringIO(f"{previous}\n{follow_up}\n/quit\n"), out) == 0
    assert answer.answer.splitlines()[0] in out.getvalue()


def test_the_chat_reads_a_follow_up_with_the_whole_thread(app):
    # "我爸妈呢" after "那怎么办" used to be read with "那怎么办" alone, and was out of scope.
    family = app.answers.ask("我爸妈呢", previous="快递面单怎么处理 那怎么办")
    assert family.in_scope and family.follow_up
    text = _chat(app, "快递面单怎么处理\n那怎么办\n我爸妈呢\n/quit\n")
    assert "抱歉，这个问题不在" not in text and text.count("来源") == 3
    assert family.answer.splitlines()[0] in text.split("你 / you >")[3]


def test_a_follow_up_answered_alone_is_not_lost_after_the_last_question(app):
    # Read after the delivery labels, the merged evidence was weaker than either alone.
    alone = app.answers.ask("what about my parents?")
    after = app.answers.ask("what about my parents?", previous="How do I dispose of delivery labels?")
    assert after.in_scope and after.follow_up
    assert after.sources[0].id == alone.sources[0].id == "elderly-family-protection-advice"


@pytest.mark.parametrize(
    ("thread", "follow_up", "entry"),
    [
        ("快递面单怎么处理", "能举报吗", "reporting-where-to-report-overview"),
        ("身份证丢了怎么办 有人用它办了电话卡", "能报警吗", "reporting-110-police"),
        # Not the entry for those who called back ("只要还没转账…还来得及").
        ("有人冒充客服说要给我退款", "我已经转钱了", "reporting-110-police"),
        # Alone, "要去派出所吗" was nearer the out-of-scope examples (户口, 签证) and went unanswered.
        ("身份证丢了怎么办 有人用它办了电话卡", "要去派出所吗", "reporting-110-police"),
        # Not the stolen-phone entry, which "报警丢手机要带什么东西" made the nearest alone.
        ("身份证丢了怎么办 有人用它办了电话卡", "报警要带什么", "lost-id-police-report-receipt"),
    ],
)
def test_a_bare_follow_up_ends_on_the_channel_it_asks_for(app, thread, follow_up, entry):
    answer = app.answers.ask(follow_up, previous=thread)
    assert answer.follow_up and answer.sources[0].id == entry


@pytest.mark.parametrize(
    "off_topic",
    # "那股票呢" and "那红烧肉呢" were answered with a nearby entry before the field classifier decided.
    ["怎么做红烧肉？", "那天气呢", "今天星期几", "what's the weather", "那股票呢", "那红烧肉呢"],
)
def test_a_question_from_another_field_after_an_answer_stays_out_of_scope(app, off_topic):
    answer = app.answers.ask(off_topic, previous="快递面单怎么处理")
    assert not answer.in_scope and not answer.follow_up


def _chat(app, lines: str, stats=None) -> str:
    out = io.StringIO()
    assert run_chat(app.answers, io.StringIO(lines), out, stats=stats) == 0
    return out.getvalue()


def test_chat_warns_about_the_askers_own_id_number(app):
    text = _chat(app, "我的身份证号110101199003071234被人拿去办卡了怎么办\n/quit\n")
    warning = app.answers.ask("我的身份证号110101199003071234被人拿去办卡了怎么办").privacy_warning
    assert warning and warning in text
    assert "110101199003071234" not in text


def test_chat_confirms_a_language_switch_and_keeps_the_language_for_a_bare_number(app):
    text = _chat(app, "/en\n/zh\n快递面单怎么处理\n13812345678\n/quit\n")
    assert "OK, answers in English from now on." in text and "好的，之后用中文回答。" in text
    replies = text.split("你 / you >")  # the banner, then what follows each input
    assert "OK, answers in English" in replies[1] and "好的" in replies[2]
    bare = replies[4]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in bare)  # the bare number got a Chinese reply


def test_the_terminal_chat_counts_into_the_statistics(app, tmp_path):
    from bot.services.pseudonym import Pseudonymizer
    from bot.services.stats import format_table, open_stats

    stats = open_stats(f"sqlite:///{tmp_path / 'stats.db'}", Pseudonymizer(b"p" * 32))
    _chat(app, "快递面单怎么处理\n怎么做红烧肉？\n/quit\n", stats=stats)
    summary = stats.summary()
    assert summary.total_questions == 1 and summary.days[0].out_of_scope == 1
    assert summary.topics == {"delivery_labels": 1}
    assert "the terminal chat" in format_table(summary)


# --- check --image ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def screenshot(tmp_path_factory):
    """An SMS screenshot of the ETC scam, drawn with the CJK font (.ci/run installs it)."""
    from tests.support.images import cjk_font_path, png, sms_screenshot

    if cjk_font_path() is None:
        pytest.skip("no CJK font to draw the screenshot: apt-get install fonts-wqy-microhei")
    path = tmp_path_factory.mktemp("pictures") / "sms.png"
    lines = ["【ETC服务】您的ETC卡已失效，", "请登录 etc-renzheng.top 认证，", "逾期停用。客服13812345678"]
    path.write_bytes(png(sms_screenshot("106928301234", lines)))
    return path


def test_check_image_json_has_the_checker_fields_plus_text_and_qr(env, screenshot):
    code, out = _run(["check", "--image", str(screenshot), "--json"], env)
    data = json.loads(out)
    assert code == 0
    assert set(data) >= {"risk", "score", "signs", "topic", "match", "advice", "lang", "scheme", "text", "qr"}
    assert data["risk"] == "high" and "etc-renzheng.top" in data["text"] and data["qr"] == []
    assert "13812345678" not in out


def test_check_image_plain_shows_what_was_read_and_the_verdict(env, screenshot):
    code, out = _run(["check", "--image", str(screenshot)], env)
    assert code == 0 and out.startswith("risk: HIGH")
    assert "图片里的文字" in out and "etc-renzheng.top" in out and "13812345678" not in out


@pytest.mark.parametrize("content", [b"not a picture at all", b"", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"])
def test_check_image_of_a_file_that_is_not_a_picture_is_exit_2_with_one_line(env, tmp_path, capsys, content):
    path = tmp_path / "notes.png"
    path.write_bytes(content)
    code, out = _run(["check", "--image", str(path)], env)
    err = capsys.readouterr().err
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "notes.png" in err and "Traceback" not in err


def test_check_image_of_a_missing_file_or_with_text_too_is_exit_2(env, tmp_path, capsys, screenshot):
    assert _run(["check", "--image", str(tmp_path / "nowhere.png")], env)[0] == 2
    assert "cannot read" in capsys.readouterr().err
    assert _run(["check", "--image", str(screenshot), "some text"], env)[0] == 2
    assert "--image" in capsys.readouterr().err


def test_check_image_too_large_is_refused_before_reading(env, tmp_path, capsys):
    path = tmp_path / "huge.png"
    path.write_bytes(b"\x89PNG" + b"\0" * 1_200_000)
    code, _ = _run(["check", "--image", str(path)], {**env, "BOT_IMAGE_MAX_MB": "1"})
    assert code == 2 and "larger than 1 MB" in capsys.readouterr().err


def test_an_english_follow_up_with_it_is_read_with_the_thread(app):
    # Seven words and no opening phrase: it was read alone, and got the channels abroad.
    answer = app.answers.ask("can I report it to the police?", previous="My ID card was lost")
    assert answer.follow_up and answer.sources[0].id.startswith("lost-id-")
