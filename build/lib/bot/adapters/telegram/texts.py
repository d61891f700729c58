"""The Telegram texts (`prompts/telegram.yaml`): templates, the command menu and the /start topics.

Checked on load like every template file; the menu's commands are checked
against the handlers when the application is built, and the /start topics
against the knowledge base when the services are made.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.data.files import bilingual
from bot.data.templates import PromptError, Templates, checked_templates, read_mapping

# Every template and the variables the code supplies to it (HTML parse mode: values are escaped).
TELEGRAM_VARIABLES: dict[str, set[str]] = {
    "start": set(),
    "help": set(),
    "topics": set(),
    "topic_entries": set(),
    "case_counter": {"number", "total"},
    "choose_language": set(),
    "language_set": set(),
    "privacy": set(),
    "forgotten": set(),
    "non_text": set(),
    "rate_limited": set(),
    "apology": set(),
    "source_link": {"name", "date", "url"},
    "check_usage": set(),
    "check_resembles": set(),
    "risk_high": set(),
    "risk_medium": set(),
    "risk_low": set(),
    "button_previous": set(),
    "button_next": set(),
    "button_expired": set(),
    # Community-worker demo kit.
    "feedback_thanks": set(),
    "feedback_already": set(),
    "stats_not_available": set(),
    "stats_caption": {"days", "questions"},
}
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")


@dataclass(frozen=True)
class MenuCommand:
    """One command of the menu, described in both languages."""

    command: str
    description: dict[str, str]


@dataclass(frozen=True)
class TelegramTexts(Templates):
    """The Telegram templates, plus the menu, the /start topics and the /report entry."""

    menu: tuple[MenuCommand, ...] = ()
    start_topics: tuple[str, ...] = ()
    report_entry: str = ""


def load_telegram_texts(directory: Path) -> TelegramTexts:
    """Read and check `telegram.yaml` in `directory`."""
    path = directory / "telegram.yaml"
    data = read_mapping(path)
    templates = checked_templates(data, path, TELEGRAM_VARIABLES)
    return TelegramTexts(
        templates=templates,
        menu=_menu(path, data.get("menu")),
        start_topics=_names(path, data.get("start_topics"), "start_topics"),
        report_entry=str(data.get("report_entry") or ""),
    )


def _menu(path: Path, raw: object) -> tuple[MenuCommand, ...]:
    if not isinstance(raw, list) or not raw:
        raise PromptError(f"{path}: 'menu' must be a list of commands")
    menu, seen = [], set()
    for number, item in enumerate(raw, start=1):
        command = str(item.get("command") or "") if isinstance(item, dict) else ""
        where = f"{path}: menu item {number}"
        if not _COMMAND_RE.match(command) or command in seen:
            raise PromptError(f"{where}: 'command' must be a new name of 1-32 of a-z, 0-9 and _")
        seen.add(command)

        def fail(field_name: str, message: str, where: str = where) -> None:
            raise PromptError(f"{where} ({field_name}): {message}")

        menu.append(MenuCommand(command, bilingual(item, command, fail)))
    return tuple(menu)


def _names(path: Path, raw: object, key: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw or not all(isinstance(v, str) and v for v in raw):
        raise PromptError(f"{path}: {key!r} must be a non-empty list of names")
    return tuple(raw)
