"""Reading the project's YAML data files (knowledge/, prompts/)."""

from __future__ import annotations

from pathlib import Path

import yaml

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
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}") from None
