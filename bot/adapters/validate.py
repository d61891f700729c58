"""`python -m bot validate`: load every data file of the manifest in full and print a summary.

Each check of `bot.data.manifest` has one loader here; a mistake in any data
file (an entry, a pattern, a template, the demo script) is an error naming the
file before the bot ever starts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from bot.adapters.telegram.texts import load_telegram_texts
from bot.adapters.terminal.demo import load_demo
from bot.app import build_quiz
from bot.core.knowledge import KnowledgeBase
from bot.data.knowledge import load_knowledge
from bot.data.manifest import DATA_FILES
from bot.retrieval.lexical import lexicon_words
from bot.services.check_rules import load_check_rules
from bot.services.image_check import load_image_rules
from bot.services.llm.prompts import load_llm_prompts
from bot.services.replies import load_replies
from bot.services.safety import load_safety_rules
from bot.services.small_talk import load_small_talk
from bot.settings import Settings

MIN_ENTRIES_PER_TOPIC = 4


def checks(settings: Settings, kb: KnowledgeBase) -> dict[str, Callable[[], str]]:
    """Each check of the manifest: loads its files in full, returns one line for the summary."""
    k, p = settings.knowledge_dir, settings.prompts_dir

    def quiz() -> str:
        items = build_quiz(settings, kb).items
        generated = sum(1 for i in items if i.kind == "case_facts")
        return f"quiz OK: {len(items) - generated} written items, {generated} generated from cases"

    return {
        "knowledge": lambda: f"knowledge OK: {len(kb.entries)} entries, {len(kb.topics)} topics",
        "safety": lambda: (
            f"harmful-request rules OK: "
            f"{len(load_safety_rules(k / 'harmful_requests.yaml').harmful)} patterns"
        ),
        "checker": lambda: f"scam checker OK: {len(load_check_rules(k, p).signs)} warning signs",
        "images": lambda: f"picture checks OK: {len(load_image_rules(k, p).kinds)} kinds of QR code",
        "lexicon": lambda: f"lexicon OK: {len(lexicon_words(k / 'lexicon.txt'))} words",
        "quiz": quiz,
        "replies": lambda: f"replies OK: {len(load_replies(p).templates)} templates",
        "small_talk": lambda: f"small talk OK: {sum(map(len, load_small_talk(p).kinds.values()))} patterns",
        "telegram": lambda: f"Telegram texts OK: {len(load_telegram_texts(p).menu)} menu commands",
        "llm": lambda: f"language-model prompts OK: {len(load_llm_prompts(p))} prompts",
        "demo": lambda: f"demo script OK: {len(load_demo(p / 'demo.yaml').steps)} steps",
    }


def validate(settings: Settings, stdout: TextIO, stderr: TextIO) -> int:
    """Validate every data file; print entries per topic and per kind, then one line per check."""
    kb = load_knowledge(settings.knowledge_dir)
    summary = kb.summary()
    print(f"knowledge base OK: {len(kb.entries)} entries in {len(kb.files)} files", file=stdout)
    print("\nentries per topic:", file=stdout)
    for topic in kb.topics:
        print(f"  {topic:<22} {summary['topic'].get(topic, 0):>3}", file=stdout)
    print("\nentries per kind:", file=stdout)
    for kind, count in sorted(summary["kind"].items()):
        print(f"  {kind:<22} {count:>3}", file=stdout)
    print("", file=stdout)
    table = checks(settings, kb)
    for name in dict.fromkeys(f.check for f in DATA_FILES):
        print(table[name](), file=stdout)
    missing = [t for t in kb.topics if summary["topic"].get(t, 0) < MIN_ENTRIES_PER_TOPIC]
    if missing:
        print(f"\ntopics with fewer than {MIN_ENTRIES_PER_TOPIC} entries: {', '.join(missing)}", file=stderr)
        return 1
    return 0
