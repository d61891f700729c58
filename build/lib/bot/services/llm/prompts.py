"""The language-model prompts (`prompts/llm.yaml`), checked like every other template file."""

from __future__ import annotations

from pathlib import Path

from bot.data.templates import load_templates

# The variables each prompt may use, and those it must use, without which the
# model would not see the question or the entries.
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


def load_llm_prompts(directory: Path) -> dict[str, dict[str, str]]:
    """The prompts of `llm.yaml`: every one in both languages, variables checked."""
    return load_templates(directory / "llm.yaml", LLM_VARIABLES, LLM_REQUIRED).templates
