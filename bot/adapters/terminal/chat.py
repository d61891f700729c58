"""The interactive terminal chat, readable on a projector."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from bot.adapters.render import notes, see_also_lines, source_lines
from bot.adapters.terminal.style import Style
from bot.core.memory import ChatMemory
from bot.services.answering import Answer, AnswerService, EmptyQuestion

if TYPE_CHECKING:
    from bot.services.llm.grounded import GroundedAnswerer

CHAT = "terminal"  # one conversation per process
BANNER = {
    "zh": "个人信息保护小助手 · 输入问题后回车；/en 切换英文，/zh 切换中文，/quit 退出",
    "en": "Personal-information protection assistant · type a question; "
    "/zh Chinese, /en English, /quit to leave",
}


def run_chat(
    service: AnswerService | GroundedAnswerer, stdin: TextIO, stdout: TextIO, context_ttl_s: float = 900
) -> int:
    """Read questions until end of input or /quit; print each answer.

    Like Telegram, the chat remembers its last answered question for `context_ttl_s`
    seconds, in memory only, so that "那怎么办？" is read after it.
    """
    style = Style.for_output(stdout)
    memory = ChatMemory(ttl_s=context_ttl_s)
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
            answer = service.ask(line, lang=forced_lang, previous=memory.previous(CHAT))
        except EmptyQuestion:
            print(style(service.empty_reply(forced_lang or "zh"), "33"), file=stdout)
            continue
        if answer.in_scope and not answer.refused:
            memory.remember(CHAT, answer.question)
        print(_render(service, answer, style), file=stdout)


def _render(service: AnswerService | GroundedAnswerer, answer: Answer, style: Style) -> str:
    colour = "1;31" if answer.refused else ("37" if answer.in_scope or answer.small_talk else "33")
    lines = ["", style(answer.answer, colour)]
    lines += [style(line, "36") for line in notes(service.replies, answer)]
    related = see_also_lines(service.replies, answer)
    if related:
        lines.append("")
        lines.append(style(related[0], "1;34"))
        lines += [style(line, "34") for line in related[1:]]
    sources = source_lines(service.replies, answer)
    if sources:
        lines.append("")
        lines += [style(line, "2") for line in sources]
    topic = answer.topic or "-"
    lines.append(style(f"[{topic} · {answer.latency_ms:.0f} ms]", "2"))
    return "\n".join(lines)
