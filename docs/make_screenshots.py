"""Make the README's screenshots (not part of the bot).

    python docs/make_screenshots.py chart      # docs/stats-chart.png
    python docs/make_screenshots.py terminal   # docs/terminal-chat.png (needs tmux and a CJK font)
    python docs/make_screenshots.py sms        # docs/sms-screenshot-example.png, and the demo's copy

`chart` fills a temporary statistics database with simulated use: the development questions and
the checker's sample messages put through the real services, spread over a week with made-up
user ids, then runs `python -m bot stats --chart`. `terminal` runs a real `python -m bot chat` in
tmux, types two questions, captures the pane with its colours and draws it with Pillow. `sms`
draws the top of a phone screenshot of an ETC scam text (tests/support/images.py) for the
README's `check --image` example.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DAYS = [dt.date(2026, 11, 24) + dt.timedelta(days=i) for i in range(7)]


def make_chart(out: Path) -> None:
    """Simulated week of use through the real services, then the real stats command."""
    from bot.app import build_app
    from bot.services.pseudonym import Pseudonymizer
    from bot.services.stats import open_stats
    from bot.settings import Settings

    rng = random.Random(7)
    app = build_app(Settings())
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/stats.sqlite3"
        today = {"day": DAYS[0]}
        stats = open_stats(url, Pseudonymizer(b"screenshot-pepper-0123456789"), lambda: today["day"])
        # More use as the week goes on (a centre that started promoting the bot).
        weights = [1, 1.3, 1.6, 2.0, 2.4, 1.2, 2.8]
        lines = (ROOT / "tests" / "data" / "dev_questions.jsonl").read_text(encoding="utf-8").splitlines()
        for line in lines:
            today["day"] = rng.choices(DAYS, weights)[0]
            answer = app.answers.ask(json.loads(line)["q"])
            user = rng.randint(1, 90)
            stats.count_answer(answer.topic, answer.in_scope, answer.refused, user)
            if answer.in_scope and not answer.refused and rng.random() < 0.3:
                stats.count_feedback(answer.sources[0].id, "up" if rng.random() < 0.8 else "down")
        for line in (
            (ROOT / "tests" / "data" / "check_messages.jsonl").read_text(encoding="utf-8").splitlines()
        ):
            today["day"] = rng.choices(DAYS, weights)[0]
            stats.count_check(app.checker.check(json.loads(line)["text"]).risk, rng.randint(1, 90))
        for day, plays in zip(DAYS, [1, 0, 2, 1, 3, 0, 4], strict=True):
            today["day"] = day
            for _ in range(plays):
                stats.count_quiz_play(rng.randint(1, 90))
        env = {**os.environ, "STATS_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
        subprocess.run(
            [sys.executable, "-m", "bot", "stats", "--chart", str(out)], env=env, check=True, cwd=ROOT
        )


def make_terminal(out: Path, questions: list[str], cols: int = 96, rows: int = 44) -> None:
    """A real `python -m bot chat` in tmux, captured with colours and drawn as a PNG."""
    session = "bot-screenshot"
    env = f"cd {ROOT} && PYTHONPATH={ROOT} OMP_NUM_THREADS=1 {sys.executable} -m bot chat"
    subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", str(cols), "-y", str(rows), env], check=True
    )
    try:
        _wait_for(session, "/quit")
        for question in questions:
            subprocess.run(["tmux", "send-keys", "-t", session, "-l", question], check=True)
            subprocess.run(["tmux", "send-keys", "-t", session, "Enter"], check=True)
            _wait_for(session, " ms]", count=questions.index(question) + 1)
        text = subprocess.run(
            ["tmux", "capture-pane", "-p", "-e", "-t", session], capture_output=True, text=True, check=True
        ).stdout
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    render_ansi(text, out, cols)


def _wait_for(session: str, marker: str, count: int = 1, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pane = subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True
        ).stdout
        if pane.count(marker) >= count:
            return
        time.sleep(0.3)
    raise RuntimeError(f"the chat did not show {marker!r} in time")


PALETTE = {
    30: (40, 40, 40), 31: (230, 90, 80), 32: (120, 200, 100), 33: (230, 190, 80),
    34: (100, 150, 240), 35: (200, 120, 220), 36: (90, 200, 210), 37: (225, 225, 225),
}  # fmt: skip
FOREGROUND, BACKGROUND = (215, 215, 215), (24, 26, 33)


def render_ansi(text: str, out: Path, cols: int) -> None:
    """Draw terminal text with SGR colours (bold, dim, 30-37) on a dark background."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 18, index=1)
    cell_w, cell_h = 10, 24
    lines = text.rstrip("\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    pad = 16
    image = Image.new("RGB", (cols * cell_w + 2 * pad, len(lines) * cell_h + 2 * pad), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        colour, bold, dim, x, i = FOREGROUND, False, False, 0, 0
        while i < len(line):
            if line[i] == "\033":
                end = line.find("m", i)
                for code in [int(c) for c in line[i + 2 : end].split(";") if c.isdigit()] or [0]:
                    if code == 0:
                        colour, bold, dim = FOREGROUND, False, False
                    elif code == 1:
                        bold = True
                    elif code == 2:
                        dim = True
                    elif code in PALETTE:
                        colour = PALETTE[code]
                i = end + 1
                continue
            char = line[i]
            wide = unicodedata.east_asian_width(char) in ("W", "F")
            fill = tuple(int(c * 0.6) for c in colour) if dim else colour
            position = (pad + x * cell_w, pad + row * cell_h + 2)
            draw.text(position, char, font=font, fill=fill, stroke_width=1 if bold else 0, stroke_fill=fill)
            x += 2 if wide else 1
            i += 1
    # A small palette keeps the PNG small; the text stays sharp.
    image.quantize(colors=48, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    if what == "chart":
        make_chart(ROOT / "docs" / "stats-chart.png")
    elif what == "terminal":
        make_terminal(
            ROOT / "docs" / "terminal-chat.png",
            [
                "收到短信说可以提升信用卡额度，是真的吗？",
                "I posted a photo of my boarding pass online, is that a problem?",
            ],
        )
    elif what == "sms":
        from tests.support.images import sms_screenshot

        lines = [
            "【ETC服务】尊敬的用户，您的ETC卡",
            "已失效，请于今日内登录",
            "etc-renzheng.top 完成认证，",
            "逾期将停止使用。",
        ]
        picture = sms_screenshot("106928301234", lines).crop((0, 0, 1080, 1000))
        for out in (
            ROOT / "docs" / "sms-screenshot-example.png",
            ROOT / "prompts" / "demo" / "sms-screenshot.png",
        ):
            picture.save(out, optimize=True)
    else:
        sys.exit(__doc__)
