"""Reading the project's data files (knowledge/, prompts/): one YAML reader, one bilingual check."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import yaml

# The two languages every text is written in.
LANGS = ("zh", "en")

# libyaml's parser when present: a tenth of the pure-Python load time, which
# a cold `python -m bot ask` notices.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> object:
    """Parse one YAML file; raises OSError, UnicodeDecodeError or yaml.YAMLError."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)


def read_data_file(path: Path, error: type[Exception]) -> object:
    """Parse one YAML data file; a missing or malformed file is `error` naming the file."""
    try:
        return read_yaml(path)
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise error(f"{path}: not valid YAML: {exc}") from None


def bilingual(
    value: object, name: str, bad: Callable[[str, str], object], fold_english: bool = False
) -> dict[str, str]:
    """The zh and en texts of `value`, stripped; each problem goes to `bad(field, message)`.

    `bad` may record the problem and return (the knowledge loader lists every
    problem) or raise (the quiz and the demo stop at the first). With
    `fold_english`, runs of white space in the English text become one space
    (YAML's folded lines).
    """
    if not isinstance(value, dict):
        bad(name, "must have zh and en texts")
        return {}
    out = {}
    for lang in LANGS:
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            bad(f"{name}.{lang}", f"has no {lang!r} text (empty or missing)")
        else:
            out[lang] = " ".join(text.split()) if fold_english and lang == "en" else text.strip()
    return out


def read_jsonl(path: Path, parse: Callable[[dict], object]) -> Iterator[object]:
    """`parse(row)` for each JSON object of a JSON-lines file (blank lines skipped).

    A line that is not JSON, or that `parse` cannot read (KeyError, TypeError,
    ValueError), is a ValueError naming the file and the line. `parse` may
    return None to skip a row.
    """
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = parse(json.loads(line))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}:{number}: {exc}") from None
        if item is not None:
            yield item
