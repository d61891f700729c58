"""The guided demo: the script is validated data, and it plays straight through without a terminal."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
import yaml

from bot.adapters.terminal.demo import DemoScriptError, load_demo, run_demo
from bot.settings import REPO_ROOT

SCRIPT = REPO_ROOT / "prompts" / "demo.yaml"


def _demo(env, *args: str) -> subprocess.CompletedProcess:
    """`python -m bot demo ARGS` as a separate process, standard input closed."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "demo", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**env, "PATH": "/usr/bin:/bin", "HOME": "/tmp"},
        timeout=180,
    )


def _play(env, *args: str) -> str:
    result = _demo(env, *args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def _steps(output: str) -> list[str]:
    """The output of each step, in order (the text after each step's header)."""
    return output.split("━" * 60)[1:]


def _check_every_step(output: str, app, lang: str) -> None:
    steps = _steps(output)
    assert len(steps) == 7
    credit, checked, screenshot, delivery, english, outside, harmful = steps
    assert "fake_sms" in credit and "不能点，这是诈骗" in credit and "银行不会发短信链接" in credit
    assert ("风险：HIGH" if lang == "zh" else "risk: HIGH") in checked
    assert "icbc-95588.top" in checked and "110" in checked
    # The screenshot (prompts/demo/sms-screenshot.png) is read by the real OCR and judged.
    assert ("风险：HIGH" if lang == "zh" else "risk: HIGH") in screenshot
    assert "etc-renzheng.top" in screenshot and "ETC" in screenshot
    assert "delivery_labels" in delivery and "面单" in delivery
    assert "Source:" in english  # answered in English, with its source
    out_of_scope = app.replies.render("out_of_scope", "zh", examples="").splitlines()[0]
    assert out_of_scope in outside
    refusal = app.replies.render("refusal", "zh").splitlines()[0]
    assert refusal in harmful and ("[拒绝" if lang == "zh" else "[refused") in harmful
    assert "\033[" not in output  # no colours when the output is not a terminal


def test_demo_runs_straight_through_with_no_pause(env, app):
    output = _play(env, "--no-pause")
    _check_every_step(output, app, "zh")
    assert "按回车继续" not in output


def test_demo_does_not_wait_when_standard_input_is_not_a_terminal(env, app):
    output = _play(env, "--lang", "en")  # stdin is /dev/null: no pause, no hang
    _check_every_step(output, app, "en")
    assert "Step 7/7 · A harmful request" in output and "press Enter" not in output


def test_pauses_for_enter_between_steps_and_stops_waiting_at_end_of_input(app):
    script = load_demo(SCRIPT)
    out = io.StringIO()
    run_demo(script, app.answers, app.checker, io.StringIO("\n\n"), out, lang="en", pause=True)
    text = out.getvalue()
    # Two Enters answer two pauses; the third pause meets the end of input and the rest plays on.
    assert text.count("(press Enter to continue)") == 3
    assert len(_steps(text)) == 7


def test_an_edited_script_with_a_missing_key_names_file_step_and_key(tmp_path):
    data = yaml.safe_load(SCRIPT.read_text(encoding="utf-8"))
    del data["steps"][2]["input"]
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DemoScriptError) as caught:
        load_demo(path)
    assert str(path) in str(caught.value) and "step 3" in str(caught.value) and "'input'" in str(caught.value)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["steps"][0].update(action="dance"), "'action'"),
        (lambda d: d["steps"][2].update(input="demo/missing.png"), "missing.png does not exist"),
        (lambda d: d["steps"][1]["title"].pop("en"), "has no 'en' text"),
        (lambda d: d.pop("press_enter"), "'press_enter' is missing"),
        (lambda d: d["step_header"].update(zh="第 {step} 步"), "unknown variable"),
        (lambda d: d.update(steps=[]), "'steps' is missing or empty"),
    ],
)
def test_broken_scripts_get_a_clear_error(tmp_path, change, expected):
    data = yaml.safe_load(SCRIPT.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DemoScriptError, match=expected):
        load_demo(path)


def test_a_broken_script_is_exit_code_2_without_a_traceback(env, tmp_path):
    path = tmp_path / "demo.yaml"
    path.write_text("steps: [\n", encoding="utf-8")
    result = _demo(env, "--script", str(path))
    assert result.returncode == 2 and str(path) in result.stderr and "Traceback" not in result.stderr


def test_a_follow_up_step_is_read_after_the_last_question(app, tmp_path):
    script = yaml.safe_load(SCRIPT.read_text(encoding="utf-8"))
    ask = {k: v for k, v in script["steps"][3].items() if k != "input"}  # the delivery-label step
    script["steps"] = [
        {**ask, "input": "快递盒上的面单直接扔掉可以吗？"},
        {**ask, "input": "已经扔掉了，那怎么办？"},
    ]
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(script, allow_unicode=True), encoding="utf-8")
    out = io.StringIO()
    run_demo(load_demo(path), app.answers, app.checker, io.StringIO(""), out, lang="zh", pause=False)
    first, follow_up = _steps(out.getvalue())
    assert "delivery_labels" in follow_up
    # The follow-up gets the next advice, not the first answer again.
    assert follow_up.split("\n来源")[0].strip().splitlines()[-1] not in first
