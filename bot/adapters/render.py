"""Plain-text rendering of answers and check results, shared by the CLI, the terminal chat and the demo.

The services return data (`Answer`, `CheckResult`); how it looks is decided
here, once, for every plain-text adapter. Telegram renders HTML in its own
package (`bot.adapters.telegram.views`).
"""

from __future__ import annotations

from collections.abc import Callable

from bot.core.text import to_traditional
from bot.services.answering import Answer, SourceRef
from bot.services.checking import CheckResult
from bot.services.image_check import ImageCheckResult
from bot.services.replies import Replies


def source_line(replies: Replies, ref: SourceRef, lang: str) -> str:
    """The "Source: name (date) link" line for one source."""
    return replies.render("source_line", lang, **ref.source)


def in_script(answer: Answer, text: str) -> str:
    """A label or line in the answer's script: traditional characters for a traditional-script asker."""
    return to_traditional(text, answer.script) if answer.script else text


def see_also_lines(replies: Replies, answer: Answer) -> list[str]:
    """The "see also" heading and one line per related entry; none for a refusal or without related."""
    if not answer.related or answer.refused:
        return []
    heading = in_script(answer, replies.render("see_also", answer.lang))
    return [heading] + [f"  · {r.title}" for r in answer.related]


def source_lines(replies: Replies, answer: Answer) -> list[str]:
    """The source line of a curated answer, or every cited source by its marker for a generated one."""
    lines = [in_script(answer, source_line(replies, ref, answer.lang)) for ref in answer.sources]
    if answer.generated:
        return [f"[{n}] {line}" for n, line in enumerate(lines, 1)]
    # A curated answer has one source, or two for an asker abroad (its advice, then the local channels).
    return lines


def notes(replies: Replies, answer: Answer) -> list[str]:
    """What goes under the answer's text: the real case behind its advice, the outside-mainland note."""
    lines = []
    if answer.case:
        lines.append(in_script(answer, replies.render("real_case", answer.lang, title=answer.case.title)))
    if answer.region_note:
        lines.append(answer.region_note)
    return lines


def plain_answer(answer: Answer, replies: Replies) -> str:
    """The answer as plain text: body, the case and region notes, "see also" titles, the source
    line(s), the privacy warning. A generated answer lists every cited source by its marker.
    """
    parts = [answer.answer, *notes(replies, answer)]
    related = see_also_lines(replies, answer)
    if related:
        parts.append("\n".join(related))
    sources = source_lines(replies, answer)
    if sources:
        parts.append("\n".join(sources))
    if answer.privacy_warning and not answer.generated:
        parts.append(answer.privacy_warning)
    return "\n\n".join(parts)


def plain_check(result: CheckResult, resembles: Callable[[str, str], str] | None = None) -> str:
    """A check result's warning signs, the scheme it resembles and the advice, one per line.

    `resembles(title, source_name)` words the "resembles" line (the demo has its
    own template); by default "resembles: title (source)".
    """
    return "\n".join([*_check_details(result, resembles), result.advice])


def _check_details(result: CheckResult, resembles: Callable[[str, str], str] | None) -> list[str]:
    """The signs with their evidence, the scheme and why, the entry the message resembles."""
    lines = [f"  ! {sign.label}: “{sign.evidence}”" for sign in result.signs]
    if result.scheme_name:
        lines.append(f"  ⚠ {result.scheme_name}: {result.scheme_why}")
    if result.match:
        title, source = str(result.match["title"]), str(result.match["source"]["name"])
        lines.append(resembles(title, source) if resembles else f"resembles: {title} ({source})")
    return lines


def plain_image_check(
    result: ImageCheckResult,
    text: Callable[[str, str], str],
    resembles: Callable[[str, str], str] | None = None,
) -> str:
    """A picture's check for the terminal: the text read (masked), the signs, each QR code, the advice.

    `text(name, lang)` gives the picture texts (prompts/check.yaml `image:`); `resembles` is
    as for `plain_check`.
    """
    if result.risk is None:
        return result.advice
    lang = result.lang
    parts = []
    if result.rows:
        parts.append(text("read_heading", lang) + "\n" + "\n".join(f"  | {row}" for row in result.rows))
    # The text's signs, scheme and match; its advice gives way to the picture's.
    lines = _check_details(result.check, resembles) if result.check else []
    if lines:
        parts.append("\n".join(lines))
    if result.qr:
        codes = [text("qr_heading", lang)]
        for code in result.qr:
            flag = f" [{text('qr_suspicious', lang)}]" if code.suspicious else ""
            codes.append(f"  ▣ {code.label}{flag}: {code.data}")
            codes += [f"    ! {sign.label}: “{sign.evidence}”" for sign in code.signs]
            codes.append(f"    {code.advice}")
        parts.append("\n".join(codes))
    parts.append(result.advice)
    return "\n\n".join(parts)
