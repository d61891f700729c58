"""Paths of the test data and a small copy of the knowledge base for tests that rebuild the index."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from bot.settings import REPO_ROOT

DATA = Path(__file__).resolve().parent.parent / "data"
SHARED_TOPICS = REPO_ROOT.parent / "shared" / "topics.md"


def write_small_knowledge(target: Path) -> Path:
    """Write the three-entry copy of the knowledge base into `target`."""
    (target / "entries").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "knowledge" / "TOPICS.md", target / "TOPICS.md")
    shutil.copy(REPO_ROOT / "knowledge" / "lexicon.txt", target / "lexicon.txt")
    for name in ("topics.yaml", "harmful_requests.yaml", "scam_signs.yaml", "qr_codes.yaml"):
        shutil.copy(REPO_ROOT / "knowledge" / name, target / name)
    source = (REPO_ROOT / "knowledge" / "entries" / "fake_sms.yaml").read_text(encoding="utf-8")
    entries = yaml.safe_load(source)[:3]
    (target / "entries" / "fake_sms.yaml").write_text(
        yaml.safe_dump(entries, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    # The quiz items whose entries are among the three (the quiz refuses items without an entry).
    kept = {e["id"] for e in entries}
    quiz = yaml.safe_load((REPO_ROOT / "knowledge" / "quiz.yaml").read_text(encoding="utf-8"))
    (target / "quiz.yaml").write_text(
        yaml.safe_dump([q for q in quiz if q["entry_id"] in kept], allow_unicode=True), encoding="utf-8"
    )
    return target
