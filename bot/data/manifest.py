"""Every data file the bot reads, and which check loads it in full (`python -m bot validate`).

A file added to `knowledge/` or `prompts/` must be listed here: a test fails
for a data file that nothing validates. `check` names the loader that reads
the file completely (see `bot.adapters.validate`), so a mistake in any of
them is found by `validate`, not by a user.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DataFile:
    """One data file (a glob pattern for the entries), its folder and the check that loads it."""

    folder: str  # "knowledge" or "prompts"
    pattern: str
    check: str
    what: str


DATA_FILES: tuple[DataFile, ...] = (
    DataFile("knowledge", "TOPICS.md", "knowledge", "the topic ids (a copy of the shared contract)"),
    DataFile("knowledge", "topics.yaml", "knowledge", "each topic's name in zh and en"),
    DataFile("knowledge", "entries/*.yaml", "knowledge", "the knowledge entries"),
    DataFile("knowledge", "out_of_scope.yaml", "knowledge", "questions the bot does not answer (scope)"),
    DataFile("knowledge", "request_examples.yaml", "knowledge", "harmful and protective example requests"),
    DataFile("knowledge", "benign_narratives.yaml", "knowledge", "real stories that are not harmful"),
    DataFile("knowledge", "harmful_requests.yaml", "safety", "patterns of harmful requests"),
    DataFile("knowledge", "scam_signs.yaml", "checker", "the scam checker's warning signs"),
    DataFile("knowledge", "scam_schemes.yaml", "checker", "the fraud schemes a message is named after"),
    DataFile("knowledge", "tlds.txt", "checker", "the DNS root zone's top-level domains (IANA), for links"),
    DataFile("knowledge", "qr_codes.yaml", "images", "what a QR code holds, and the advice for each kind"),
    DataFile("knowledge", "message_examples.yaml", "knowledge", "real scam and legitimate messages (dev)"),
    DataFile("knowledge", "notice_examples.yaml", "knowledge", "legitimate notices and chat we wrote"),
    DataFile("knowledge", "lexicon.txt", "lexicon", "domain words for jieba"),
    DataFile("knowledge", "quiz.yaml", "quiz", "the quiz's written items"),
    DataFile("prompts", "replies.yaml", "replies", "the answer service's fixed replies"),
    DataFile("prompts", "scope_examples.yaml", "replies", "example questions shown when out of scope"),
    DataFile("prompts", "small_talk.yaml", "small_talk", "greetings, thanks, who are you"),
    DataFile("prompts", "check.yaml", "checker", "the checker's advice per risk level"),
    DataFile("prompts", "quiz.yaml", "quiz", "the quiz's texts"),
    DataFile("prompts", "telegram.yaml", "telegram", "Telegram texts, the command menu, /start topics"),
    DataFile("prompts", "llm.yaml", "llm", "the language-model prompts"),
    DataFile("prompts", "demo.yaml", "demo", "the guided demo's script"),
    DataFile("prompts", "demo/*.png", "demo", "the pictures the demo's check_image steps send"),
)
# Files in those folders that are documentation, not data.
DOCUMENTATION = ("README.md",)
