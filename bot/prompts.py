"""Reply templates from `prompts/`, validated on load.

A template that is missing a language, or uses a {variable} the code does not
supply, is an error naming the file and the template, raised at start-up
rather than in front of a user.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

from bot.datafiles import read_data_file

LANGS = ("zh", "en")

# Every template and the variables the code supplies to it.
REPLY_VARIABLES: dict[str, set[str]] = {
    "see_also": set(),
    "source_line": {"name", "date", "url"},
    "out_of_scope": {"examples"},
    "refusal": set(),
    "empty_question": set(),
    "personal_data_warning": {"kinds"},
}
# Names of the kinds of personal data (bot/masking.py) the warning lists, and
# the words that stand in for every kind when a question is searched.
PERSONAL_DATA_KINDS = ("id_number", "bank_card", "phone")
PERSONAL_DATA_LABELS = ("id_number", "bank_card", "phone", "email", "plate", "address")


# The Telegram texts (prompts/telegram.yaml) and their variables.
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
    # Community-worker demo kit.
    "feedback_thanks": set(),
    "feedback_already": set(),
    "stats_not_available": set(),
    "stats_caption": {"days", "questions"},
}


# The language-model prompts (prompts/llm.yaml, bot/generation.py): the variables each
# may use, and those it must use, without which the model would not see the question
# or the entries.
LLM_VARIABLES: dict[str, set[str]] = {
    "system": set(),
    "answer": {"question", "entries"},
    "entry": {"number", "title", "answer", "source"},
    "rewrite_system": set(),
    "rewrite": {"previous", "question"},
}
LLM_REQUIRED: dict[str, set[str]] = {
    "answer": {"question", "entries"},
    "entry": {"number", "answer"},
    "rewrite": {"previous", "question"},
}


class PromptError(ValueError):
    """A template file is missing, malformed or uses an unknown variable."""


@dataclass(frozen=True)
class Replies:
    """The fixed reply texts, per template and language."""

    templates: dict[str, dict[str, str]]
    scope_examples: dict[str, list[str]]

    def render(self, template: str, lang: str, /, **values: str) -> str:
        """Fill `template` in `lang` with `values`."""
        return self.templates[template][lang].format(**values)

    def personal_data_labels(self, lang: str) -> dict[str, str]:
        """The word for each kind of personal data, standing in for it when a question is searched."""
        return self.templates["personal_data_labels"][lang]

    def personal_data_warning(self, kinds: list[str], lang: str) -> str:
        """The kind warning for a sender who posted their own ID, card or phone number."""
        names = [self.templates["personal_data_kinds"][lang][k] for k in kinds]
        joined = "、".join(names) if lang == "zh" else ", ".join(names)
        return self.render("personal_data_warning", lang, kinds=joined)


def load_replies(directory: Path) -> Replies:
    """Load and check `replies.yaml` and `scope_examples.yaml` from `directory`."""
    templates = _checked(directory / "replies.yaml", REPLY_VARIABLES)
    _check_names(directory / "replies.yaml", templates, "personal_data_kinds", PERSONAL_DATA_KINDS)
    _check_names(directory / "replies.yaml", templates, "personal_data_labels", PERSONAL_DATA_LABELS)
    examples = _read(directory / "scope_examples.yaml")
    for lang in LANGS:
        if not isinstance(examples.get(lang), list) or not examples[lang]:
            raise PromptError(f"{directory / 'scope_examples.yaml'}: no examples for {lang!r}")
    return Replies(templates=templates, scope_examples=examples)


def load_telegram_texts(directory: Path) -> tuple[Replies, dict[str, str]]:
    """The Telegram texts of `telegram.yaml`, and the English names of the topics."""
    path = directory / "telegram.yaml"
    templates = _checked(path, TELEGRAM_VARIABLES)
    names = templates.get("topic_names_en")
    if not isinstance(names, dict) or not names:
        raise PromptError(f"{path}: topic_names_en is missing")
    return Replies(templates=templates, scope_examples={}), {str(k): str(v) for k, v in names.items()}


def load_templates(path: Path, expected: dict[str, set[str]]) -> Replies:
    """Any template file checked like the others: every template in zh and en, known variables only."""
    return Replies(templates=_checked(path, expected), scope_examples={})


def load_llm_prompts(directory: Path) -> dict[str, dict[str, str]]:
    """The language-model prompts of `llm.yaml`: every template in both languages, variables checked."""
    return _checked(directory / "llm.yaml", LLM_VARIABLES, LLM_REQUIRED)


def _checked(path: Path, expected: dict[str, set[str]], required: dict[str, set[str]] | None = None) -> dict:
    """Read a template file and check every expected template in both languages.

    `required` names variables a template must use, not only may.
    """
    templates = _read(path)
    for name, variables in expected.items():
        per_lang = templates.get(name)
        if not isinstance(per_lang, dict):
            raise PromptError(f"{path}: template {name!r} is missing")
        for lang in LANGS:
            text = per_lang.get(lang)
            if not isinstance(text, str) or not text.strip():
                raise PromptError(f"{path}: template {name!r} has no {lang!r} text")
            used = {f for _, f, _, _ in string.Formatter().parse(text) if f}
            unknown = used - variables
            if unknown:
                raise PromptError(
                    f"{path}: template {name!r} ({lang}) uses unknown "
                    f"variable(s) {', '.join(sorted(unknown))}; "
                    f"allowed: {', '.join(sorted(variables)) or 'none'}"
                )
            missing = (required or {}).get(name, set()) - used
            if missing:
                raise PromptError(
                    f"{path}: template {name!r} ({lang}) is missing the variable(s) "
                    + ", ".join("{" + v + "}" for v in sorted(missing))
                )
    return templates


def _check_names(path: Path, templates: dict, name: str, keys: tuple[str, ...]) -> None:
    """A table of names per language (`name`) must name every one of `keys` in both languages."""
    table = templates.get(name)
    for lang in LANGS:
        names = table.get(lang) if isinstance(table, dict) else None
        missing = [k for k in keys if not isinstance(names, dict) or not names.get(k)]
        if missing:
            raise PromptError(f"{path}: {name!r} ({lang}) lacks {', '.join(missing)}")


def _read(path: Path) -> dict:
    data = read_data_file(path, PromptError)
    if not isinstance(data, dict):
        raise PromptError(f"{path}: must be a mapping")
    return data
