"""How answers, entries, cases and check results look in Telegram: HTML text and inline keyboards.

Callback data formats (each routed by its own `CallbackQueryHandler` pattern
in `application.py`): `l:<lang>` language, `t:<topic>` topic, `e:<entry id>`
entry, `c:<index>:<lang>` case page, `f:<up|down>:<entry id>` feedback,
`z:<game>:<question>:<choice|r>` quiz.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.adapters.render import in_script
from bot.adapters.telegram.context import BotServices
from bot.adapters.telegram.html import escape
from bot.core.knowledge import Entry
from bot.core.text import shorten
from bot.services.answering import Answer
from bot.services.checking import CheckResult
from bot.services.image_check import ImageCheckResult

RISK_MARKERS = {"high": "🔴", "medium": "🟠", "low": "🟢"}
# The text read from a picture is shown up to this length (it is masked, and the user sent it).
SHOWN_TEXT_CHARS = 600
# Telegram cuts long button labels; these keep a title readable.
BUTTON_CHARS = 60


def source_html(svc: BotServices, entry: Entry, lang: str) -> str:
    """The entry's source as a line with its link."""
    source = entry.source
    return svc.texts.render(
        "source_link", lang, name=escape(source.name), date=escape(source.date), url=escape(source.url)
    )


def entry_html(svc: BotServices, entry: Entry, lang: str) -> str:
    """An entry shown on its own: title, answer, source."""
    title, body = escape(entry.title[lang]), escape(entry.answer[lang])
    return f"<b>{title}</b>\n\n{body}\n\n{source_html(svc, entry, lang)}"


def answer_html(svc: BotServices, answer: Answer) -> str:
    """An answer, its source (a generated one: each cited source by marker), the privacy warning."""
    parts = [escape(answer.answer)]
    if answer.case:
        case_line = svc.answers.replies.render("real_case", answer.lang, title=answer.case.title)
        case_line = in_script(answer, case_line)
        parts.append("📌 " + escape(case_line))
    if answer.region_note:
        parts.append(f"<i>{escape(answer.region_note)}</i>")
    # A curated answer has one source, or two for an asker abroad (the advice, then the local
    # channels); a generated one marks each cited source with its number.
    lines = []
    for number, ref in enumerate(answer.sources, start=1):
        entry = svc.kb.entries.get(ref.id)
        if entry:
            marker = f"[{number}] " if answer.generated else ""
            lines.append(marker + in_script(answer, source_html(svc, entry, answer.lang)))
    if lines:
        parts.append("\n".join(lines))
    if answer.privacy_warning:
        parts.append(f"<i>{escape(answer.privacy_warning)}</i>")
    return "\n\n".join(parts)


def related_markup(answer: Answer) -> InlineKeyboardMarkup | None:
    """Buttons for the "see also" entries, and 👍/👎 under an answer from the knowledge base."""
    shown = [answer.case, *answer.related] if answer.case else answer.related
    buttons = [[InlineKeyboardButton(r.title[:BUTTON_CHARS], callback_data=f"e:{r.id}")] for r in shown]
    if answer.in_scope and not answer.refused and answer.sources:
        # 👍/👎 counted per entry, so the maintainers see which entries help.
        entry_id = answer.sources[0].id
        buttons.append(
            [
                InlineKeyboardButton("👍", callback_data=f"f:up:{entry_id}"),
                InlineKeyboardButton("👎", callback_data=f"f:down:{entry_id}"),
            ]
        )
    return InlineKeyboardMarkup(buttons) if buttons else None


def topics_markup(svc: BotServices, lang: str, topics) -> InlineKeyboardMarkup:
    """Topic buttons, two per row."""
    buttons = [InlineKeyboardButton(svc.topic_name(t, lang), callback_data=f"t:{t}") for t in topics]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


def entries_markup(entries: list[Entry], lang: str) -> InlineKeyboardMarkup | None:
    """One button per entry."""
    buttons = [
        [InlineKeyboardButton(e.title[lang][:BUTTON_CHARS], callback_data=f"e:{e.id}")] for e in entries
    ]
    return InlineKeyboardMarkup(buttons) if buttons else None


def case_view(svc: BotServices, index: int, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    """One of the report's cases with previous/next buttons (the index wraps around)."""
    all_cases = svc.cases()
    index %= len(all_cases)
    entry = all_cases[index]
    counter = svc.texts.render("case_counter", lang, number=str(index + 1), total=str(len(all_cases)))
    previous = svc.texts.render("button_previous", lang)
    following = svc.texts.render("button_next", lang)
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(previous, callback_data=f"c:{index - 1}:{lang}"),
                InlineKeyboardButton(following, callback_data=f"c:{index + 1}:{lang}"),
            ]
        ]
    )
    return f"<i>{escape(counter)}</i>\n\n{entry_html(svc, entry, lang)}", markup


def check_html(svc: BotServices, result: CheckResult) -> str:
    """A check result: the risk, each warning sign with its evidence, the scheme it resembles, the advice."""
    lines = [
        _risk_line(svc, result.risk, result.lang),
        *_check_details(svc, result),
        "",
        escape(result.advice),
    ]
    return "\n".join(lines)


def image_check_html(svc: BotServices, result: ImageCheckResult) -> str:
    """A picture's check: the risk, the text read (masked), its signs, each QR code, the advice."""
    if result.risk is None:  # nothing read: no verdict
        return escape(result.advice)
    lang, images = result.lang, svc.images
    lines = [_risk_line(svc, result.risk, lang)]
    if result.rows:
        read = shorten("\n".join(result.rows), SHOWN_TEXT_CHARS)
        lines += [
            "",
            f"<i>{escape(images.text('read_heading', lang))}</i>",
            f"<blockquote>{escape(read)}</blockquote>",
        ]
    if result.check:
        lines += _check_details(svc, result.check)
    if result.qr:
        lines += ["", f"<b>{escape(images.text('qr_heading', lang))}</b>"]
        for code in result.qr:
            flag = f" ⚠️ {escape(images.text('qr_suspicious', lang))}" if code.suspicious else ""
            lines.append(f"• {escape(code.label)}{flag}: <code>{escape(code.data)}</code>")
            lines += [f"  – {escape(sign.label)}" for sign in code.signs]
            lines.append(f"  {escape(code.advice)}")
    lines += ["", escape(result.advice)]
    return "\n".join(lines)


def _risk_line(svc: BotServices, risk: str, lang: str) -> str:
    return f"{RISK_MARKERS[risk]} <b>{escape(svc.texts.render('risk_' + risk, lang))}</b>"


def _check_details(svc: BotServices, result: CheckResult) -> list[str]:
    """The signs with their evidence, the scheme and why, the entry the message resembles."""
    lang = result.lang
    lines = [f"• {escape(sign.label)}: “{escape(sign.evidence)}”" for sign in result.signs]
    if result.scheme_name:
        lines += ["", f"⚠️ <b>{escape(result.scheme_name)}</b>: {escape(result.scheme_why or '')}"]
    if result.match:
        entry = svc.kb.entries.get(str(result.match["id"]))
        if entry:
            lines.append("")
            lines.append(
                escape(svc.texts.render("check_resembles", lang)) + f" <b>{escape(entry.title[lang])}</b>"
            )
            lines.append(source_html(svc, entry, lang))
    return lines
