"""The interactive terminal chat, readable on a projector."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, TextIO

from bot.answering import Answer, AnswerService, EmptyQuestion

if TYPE_CHECKING:
    from bot.grounded import GroundedAnswerer

BANNER = {
    "zh": "个人信息保护小助手 · 输入问题后回车；/en 切换英文，/zh 切换中文，/quit 退出",
    "en": "Personal-information protection assistant · type a question; "
    "/zh Chinese, /en English, /quit to leave",
}


class Style:
    """ANSI colours, or nothing when the output is not a terminal (or NO_COLOR is set)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __call__(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.enabled else text


def run_chat(service: AnswerService | GroundedAnswerer, stdin: TextIO, stdout: TextIO) -> int:
    """Read questions until end of input or /quit; print each answer."""
    style = Style(stdout.isatty() and "NO_COLOR" not in os.environ)
    forced_lang: str | None = None
    print(style(BANNER["zh"], "1;36"), file=stdout)
    print(style(BANNER["en"], "36"), file=stdout)
    while True:
        print(style("\n你 / you > ", "1;32"), end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:
            print(file=stdout)
            return 0
        command = line.strip().lower()
        if command in ("/quit", "/exit", "/q"):
            return 0
        if command in ("/zh", "/en"):
            forced_lang = command[1:]
            continue
        try:
            answer = service.ask(line, lang=forced_lang)
        except EmptyQuestion:
            print(style(service.empty_reply(forced_lang or "zh"), "33"), file=stdout)
            continue
        print(_render(service, answer, style), file=stdout)


def _render(service: AnswerService | GroundedAnswerer, answer: Answer, style: Style) -> str:
    colour = "1;31" if answer.refused else ("37" if answer.in_scope else "33")
    lines = ["", style(answer.answer, colour)]
    if answer.related and not answer.refused:
        lines.append("")
        lines.append(style(service.replies.render("see_also", answer.lang), "1;34"))
        lines += [style(f"  · {r.title}", "34") for r in answer.related]
    if answer.generated:  # a model's answer: each cited source under its marker
        lines.append("")
        for number, ref in enumerate(answer.sources, start=1):
            lines.append(style(f"[{number}] {service.source_line(ref, answer.lang)}", "2"))
    elif answer.sources:
        lines.append("")
        lines.append(style(service.source_line(answer.sources[0], answer.lang), "2"))
    topic = answer.topic or "-"
    lines.append(style(f"[{topic} · {answer.latency_ms:.0f} ms]", "2"))
    return "\n".join(lines)
