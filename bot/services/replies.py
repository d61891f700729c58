"""The answer service's fixed replies (`prompts/replies.yaml`, `prompts/scope_examples.yaml`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.data.files import LANGS
from bot.data.templates import PromptError, Templates, check_names, checked_templates, read_mapping

# Every template and the variables the code supplies to it.
REPLY_VARIABLES: dict[str, set[str]] = {
    "see_also": set(),
    "source_line": {"name", "date", "url"},
    "out_of_scope": {"examples"},
    "refusal": set(),
    "empty_question": set(),
    "personal_data_warning": {"kinds"},
    "real_case": {"title"},
    "outside_mainland": {"numbers"},
    "pinyin": set(),
    "override": set(),
}
# Names of the kinds of personal data (bot/core/masking.py) the warning lists, and
# the words that stand in for every kind when a question is searched.
PERSONAL_DATA_KINDS = ("id_number", "bank_card", "phone")
PERSONAL_DATA_LABELS = ("id_number", "bank_card", "phone", "email", "plate", "address")


@dataclass(frozen=True)
class Replies(Templates):
    """The fixed reply texts, per template and language, and the example questions shown when out of scope."""

    scope_examples: dict[str, list[str]] = field(default_factory=dict)

    def personal_data_labels(self, lang: str) -> dict[str, str]:
        """The word for each kind of personal data, standing in for it when a question is searched."""
        return self.names("personal_data_labels", lang)

    def personal_data_warning(self, kinds: list[str], lang: str) -> str:
        """The kind warning for a sender who posted their own ID, card or phone number."""
        names = [self.names("personal_data_kinds", lang)[k] for k in kinds]
        joined = "、".join(names) if lang == "zh" else ", ".join(names)
        return self.render("personal_data_warning", lang, kinds=joined)


def load_replies(directory: Path) -> Replies:
    """Load and check `replies.yaml` and `scope_examples.yaml` from `directory`."""
    path = directory / "replies.yaml"
    templates = checked_templates(read_mapping(path), path, REPLY_VARIABLES)
    check_names(path, templates, "personal_data_kinds", PERSONAL_DATA_KINDS)
    check_names(path, templates, "personal_data_labels", PERSONAL_DATA_LABELS)
    examples = read_mapping(directory / "scope_examples.yaml")
    for lang in LANGS:
        if not isinstance(examples.get(lang), list) or not examples[lang]:
            raise PromptError(f"{directory / 'scope_examples.yaml'}: no examples for {lang!r}")
    return Replies(templates=templates, scope_examples=examples)
