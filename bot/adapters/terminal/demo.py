"""The guided demo: a scripted walkthrough (prompts/demo.yaml) played in the terminal.

The script is data a community worker edits; it is validated on load with the file and the
missing key named. Between steps the runner waits for Enter, unless told not to pause (the CLI
does not pause when standard input is not a terminal, or with --no-pause).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.adapters.render import plain_answer, plain_check, plain_image_check
from bot.adapters.terminal.style import Style
from bot.core.memory import ChatMemory
from bot.data.files import bilingual, read_data_file
from bot.data.templates import PromptError, Templates, checked_templates
from bot.services.answering import AnswerService
from bot.services.checking import MessageChecker
from bot.services.image_check import ImageChecker
from bot.services.images import ImageError
from bot.services.stats import UsageStats

# ask: a question; check: a message through the scam checker; check_image: a picture file
# (a path relative to the script's folder) read and checked as Telegram does with a photo.
ACTIONS = ("ask", "check", "check_image")
TEXT_VARIABLES: dict[str, set[str]] = {
    "intro": set(),
    "step_header": {"number", "total", "title"},
    "typed": set(),
    "sent_picture": set(),
    "nothing_read": set(),
    "press_enter": set(),
    "outcome_answered": {"topic", "ms"},
    "outcome_out_of_scope": set(),
    "outcome_refused": set(),
    "risk": {"risk", "score"},
    "resembles": {"title", "source"},
    "end": set(),
}

DEMO_CHAT = "demo"  # the one conversation a demo plays


class DemoScriptError(ValueError):
    """The demo script is missing, malformed or incomplete."""


@dataclass(frozen=True)
class DemoStep:
    """One step: what the presenter says, and what is typed to the bot."""

    title: dict[str, str]
    say: dict[str, str]
    action: str
    input: str
    picture: Path | None = None  # check_image: the file `input` names


@dataclass(frozen=True)
class DemoScript:
    """The demo's texts and its steps."""

    texts: dict[str, dict[str, str]]
    steps: tuple[DemoStep, ...]

    def text(self, name: str, lang: str, **values: str) -> str:
        """One of the demo's own texts, filled in."""
        return self.texts[name][lang].format(**values)


def load_demo(path: Path) -> DemoScript:
    """Read and check the demo script."""
    data = read_data_file(path, DemoScriptError)
    if not isinstance(data, dict):
        raise DemoScriptError(f"{path}: must be a mapping with the demo texts and 'steps'")
    try:
        texts = Templates(checked_templates(data, path, TEXT_VARIABLES)).templates
    except PromptError as exc:
        raise DemoScriptError(str(exc)) from None
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise DemoScriptError(f"{path}: 'steps' is missing or empty")
    steps = []
    for number, raw in enumerate(raw_steps, start=1):
        where = f"{path}: step {number}"
        if not isinstance(raw, dict):
            raise DemoScriptError(f"{where}: must be a mapping")
        if raw.get("action") not in ACTIONS:
            raise DemoScriptError(f"{where}: 'action' must be one of {', '.join(ACTIONS)}")
        if not isinstance(raw.get("input"), str) or not raw["input"].strip():
            raise DemoScriptError(f"{where}: 'input' is missing (the text typed to the bot)")
        picture = path.parent / raw["input"].strip() if raw["action"] == "check_image" else None
        if picture is not None and not picture.is_file():
            raise DemoScriptError(f"{where}: the picture {picture} does not exist")
        steps.append(
            DemoStep(
                title=_bilingual(raw.get("title"), f"{where}: 'title'"),
                say=_bilingual(raw.get("say"), f"{where}: 'say'"),
                action=raw["action"],
                input=raw["input"].strip(),
                picture=picture,
            )
        )
    return DemoScript(texts, tuple(steps))


def _bilingual(value: object, where: str) -> dict[str, str]:
    """The shared bilingual check; the first problem is a `DemoScriptError` naming the step."""

    def fail(field_name: str, message: str) -> None:
        raise DemoScriptError(f"{where} {message}")

    return bilingual(value, where, fail)


def run_demo(
    script: DemoScript,
    answers: AnswerService,
    checker: MessageChecker,
    stdin: TextIO,
    stdout: TextIO,
    lang: str = "zh",
    pause: bool = True,
    stats: UsageStats | None = None,
    images: ImageChecker | None = None,
) -> int:
    """Play every step; with `pause`, wait for Enter between steps (end of input stops waiting).

    `stats` counts each answer and check (outcomes only), as Telegram does.
    """
    style = Style.for_output(stdout)
    total = len(script.steps)
    print(style(script.text("intro", lang), "1;36"), file=stdout)
    # Like the chat: the thread, in memory only, so that a follow-up step is read after it.
    memory = ChatMemory(ttl_s=float("inf"))
    for number, step in enumerate(script.steps, start=1):
        if pause and number > 1 and not _wait_for_enter(script, lang, stdin, stdout, style):
            pause = False  # standard input closed: play the rest straight through
        title = step.title[lang]
        header = script.text("step_header", lang, number=str(number), total=str(total), title=title)
        print("\n" + style("━" * 60, "2"), file=stdout)
        print(style(header, "1;34"), file=stdout)
        print(style(step.say[lang], "3"), file=stdout)
        shown = "sent_picture" if step.picture else "typed"
        print(style(f"{script.text(shown, lang)} {step.input}", "1;32"), file=stdout)
        print("", file=stdout)
        if step.action == "ask":
            text = _asked(script, answers, step.input, lang, style, memory, stats)
            print(text, file=stdout)
        elif step.picture is not None:
            print(_checked_picture(script, images, step.picture, lang, style, stats), file=stdout)
        else:
            print(_checked(script, checker, step.input, lang, style, stats), file=stdout)
    print("\n" + style(script.text("end", lang), "1;36"), file=stdout)
    return 0


def _wait_for_enter(script: DemoScript, lang: str, stdin: TextIO, stdout: TextIO, style: Style) -> bool:
    print("\n" + style(script.text("press_enter", lang), "2"), end="", file=stdout, flush=True)
    return bool(stdin.readline())


def _asked(
    script: DemoScript,
    answers: AnswerService,
    text: str,
    lang: str,
    style: Style,
    memory: ChatMemory,
    stats: UsageStats | None = None,
) -> str:
    """The step's output; an answered question is remembered for the next step."""
    answer = answers.ask(text, previous=memory.previous(DEMO_CHAT))
    if stats is not None:
        stats.count_answer(answer.topic, answer.in_scope, answer.refused, None)
    body = plain_answer(answer, answers.replies)
    if answer.refused:
        return style(body, "1;31") + "\n" + style(script.text("outcome_refused", lang), "2")
    if not answer.in_scope:
        return style(body, "33") + "\n" + style(script.text("outcome_out_of_scope", lang), "2")
    memory.remember(DEMO_CHAT, answer.question, answer.follow_up)
    outcome = script.text("outcome_answered", lang, topic=answer.topic or "-", ms=f"{answer.latency_ms:.0f}")
    return body + "\n" + style(outcome, "2")


def _checked(
    script: DemoScript,
    checker: MessageChecker,
    text: str,
    lang: str,
    style: Style,
    stats: UsageStats | None = None,
) -> str:
    result = checker.check(text)
    if stats is not None:
        stats.count_check(result.risk, None)
    colour = {"high": "1;31", "medium": "1;33"}.get(result.risk, "1;32")
    lines = [style(script.text("risk", lang, risk=result.risk.upper(), score=str(result.score)), colour)]
    lines.append(
        plain_check(
            result, resembles=lambda title, source: script.text("resembles", lang, title=title, source=source)
        )
    )
    return "\n".join(lines)


def _checked_picture(
    script: DemoScript,
    images: ImageChecker | None,
    picture: Path,
    lang: str,
    style: Style,
    stats: UsageStats | None = None,
) -> str:
    """A picture step: what was read, its signs and codes, the advice; a clear line if it cannot be read."""
    try:
        if images is None:
            raise ImageError("unavailable", "no picture checker")
        result = images.check(picture.read_bytes(), lang)
    except (ImageError, OSError):
        return style(script.text("nothing_read", lang), "33")
    if result.risk is None:
        return style(result.advice, "33")
    if stats is not None:
        stats.count_check(result.risk, None)
    colour = {"high": "1;31", "medium": "1;33"}.get(result.risk, "1;32")
    score = str(result.check.score if result.check else 0)
    header = style(script.text("risk", lang, risk=result.risk.upper(), score=score), colour)
    body = plain_image_check(
        result, images.text, lambda title, source: script.text("resembles", lang, title=title, source=source)
    )
    return header + "\n" + body
