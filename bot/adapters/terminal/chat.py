"""The interactive terminal chat, readable on a projector."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from bot.adapters.render import notes, see_also_lines, source_lines
from bot.adapters.terminal.style import Style
from bot.core.memory import ChatMemory
from bot.services.answering import Answer, AnswerService, EmptyQuestion

if TYPE_CHECKING:
    from bot.services.llm.grounded import GroundedAnswerer
    from bot.services.stats import UsageStats

CHAT = "terminal"  # one conversation per process
# The reply to /zh and /en, in the language chosen.
SWITCHED = {"zh": "好的，之后用中文回答。", "en": "OK, answers in English from now on."}
BANNER = {
    "zh": "个人信息保护小助手 · 输入问题后回车；/en 切换英文，/zh 切换中文，/quit 退出",
    "en": "Personal-information protection assistant · type a question; "
    "/zh Chinese, /en English, /quit to leave",
}


def run_chat(
    service: AnswerService | GroundedAnswerer,
    stdin: TextIO,
    stdout: TextIO,
    context_ttl_s: float = 900,
    stats: UsageStats | None = None,
) -> int:
    """Read questions until end of input or /quit; print each answer.

    Like Telegram, the chat remembers its last answered question for `context_ttl_s`
    seconds, in memory only, so that "那怎么办？" is read after it. A message with no
    words (a bare phone number) is answered in the session's language. `stats` counts
    each answer (its topic and outcome only, never the text), as Telegram does.
    """
    style = Style.for_output(stdout)
    memory = ChatMemory(ttl_s=context_ttl_s)
    forced_lang: str | None = None
    session_lang = "zh"
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
            forced_lang = session_lang = command[1:]
            print(style(SWITCHED[forced_lang], "36"), file=stdout)
            continue
        lang = forced_lang or (None if _has_words(line) else session_lang)
        try:
            answer = service.ask(line, lang=lang, previous=memory.previous(CHAT))
        except EmptyQuestion:
            print(style(service.empty_reply(forced_lang or session_lang), "33"), file=stdout)
            continue
        session_lang = answer.lang
        if answer.in_scope and not answer.refused:
            memory.remember(CHAT, answer.question, answer.follow_up)
        if stats is not None:
            stats.count_answer(answer.topic, answer.in_scope, answer.refused, None)
        print(_render(service, answer, style), file=stdout)


def _has_words(text: str) -> bool:
    """Whether a message holds letters or Chinese characters (not only digits and signs)."""
    return any(ch.isalpha() for ch in text)


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
    if answer.privacy_warning and not answer.generated:
        lines.append("")
        lines.append(style(answer.privacy_warning, "1;33"))
    topic = answer.topic or "-"
    lines.append(style(f"[{topic} · {answer.latency_ms:.0f} ms]", "2"))
    return "\n".join(lines)
