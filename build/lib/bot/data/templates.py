"""The one template mechanism: `{variable}` texts per language in YAML files, checked on load.

A template that is missing a language, or uses a {variable} the code does not
supply, is an error naming the file and the template, raised at start-up
rather than in front of a user. Each user of templates declares the names it
renders and the variables it supplies (`expected`) next to the code that
renders them.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.data.files import LANGS, read_data_file

__all__ = ["LANGS", "PromptError", "Templates", "check_names", "checked_templates", "load_templates"]


class PromptError(ValueError):
    """A template file is missing, malformed or uses an unknown variable."""


@dataclass(frozen=True)
class Templates:
    """Texts per template name and language, checked on load."""

    templates: dict[str, dict[str, str]]

    def render(self, template: str, lang: str, /, **values: str) -> str:
        """Fill `template` in `lang` with `values`."""
        return self.templates[template][lang].format(**values)

    def names(self, table: str, lang: str) -> dict[str, str]:
        """A table of names (not a template) in `lang`, as checked by `check_names`."""
        return self.templates[table][lang]


def load_templates(
    path: Path, expected: Mapping[str, set[str]], required: Mapping[str, set[str]] | None = None
) -> Templates:
    """Read a template file and check every expected template (see `checked_templates`)."""
    return Templates(checked_templates(read_mapping(path), path, expected, required))


def read_mapping(path: Path) -> dict:
    """A YAML file that must hold a mapping; anything else is a `PromptError` naming the file."""
    data = read_data_file(path, PromptError)
    if not isinstance(data, dict):
        raise PromptError(f"{path}: must be a mapping")
    return data


def checked_templates(
    templates: dict,
    where: Path | str,
    expected: Mapping[str, set[str]],
    required: Mapping[str, set[str]] | None = None,
) -> dict:
    """Check that every expected template has a text in both languages, using only known variables.

    `required` names variables a template must use, not only may. `where` names
    the file in errors.
    """
    for name, variables in expected.items():
        per_lang = templates.get(name)
        if not isinstance(per_lang, dict):
            raise PromptError(f"{where}: template {name!r} is missing")
        for lang in LANGS:
            text = per_lang.get(lang)
            if not isinstance(text, str) or not text.strip():
                raise PromptError(f"{where}: template {name!r} has no {lang!r} text")
            try:
                used = {f for _, f, _, _ in string.Formatter().parse(text) if f}
            except ValueError as exc:  # an unmatched brace
                raise PromptError(f"{where}: template {name!r} ({lang}) is malformed: {exc}") from None
            unknown = used - variables
            if unknown:
                raise PromptError(
                    f"{where}: template {name!r} ({lang}) uses unknown "
                    f"variable(s) {', '.join(sorted(unknown))}; "
                    f"allowed: {', '.join(sorted(variables)) or 'none'}"
                )
            missing = (required or {}).get(name, set()) - used
            if missing:
                raise PromptError(
                    f"{where}: template {name!r} ({lang}) is missing the variable(s) "
                    + ", ".join("{" + v + "}" for v in sorted(missing))
                )
    return templates


def check_names(path: Path, templates: dict, name: str, keys: tuple[str, ...]) -> None:
    """A table of names per language (`name`) must name every one of `keys` in both languages."""
    table = templates.get(name)
    for lang in LANGS:
        names = table.get(lang) if isinstance(table, dict) else None
        missing = [k for k in keys if not isinstance(names, dict) or not names.get(k)]
        if missing:
            raise PromptError(f"{path}: {name!r} ({lang}) lacks {', '.join(missing)}")
