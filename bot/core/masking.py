"""Finding and masking personal data in text: ID, phone and card numbers, e-mail, plates, addresses.

Everything the bot processes, echoes or sends on is masked first. Detection
works on a shadow copy of the text in which full-width digits, letters and
spaces are folded to ASCII one character for one character, so positions match
the original and "１３８ １２３４ ５６７８" is found as well as "138-1234-5678".
A mainland ID number is masked whenever it has the shape (17 digits and a
digit or X); its GB 11643 check digit only decides whether it is reported as a
real one. Bank cards likewise: every 16 to 19 digit run is masked, and the
Luhn check tells a card number from, say, an order number.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space, one for one.
_FOLD = {code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}
_FOLD[0x3000] = " "
# In a phone number one space or dash may stand between any two digits.
_GAP = r"[ \-]?"
_NOT_ALNUM_BEFORE = r"(?<![0-9A-Za-z])"
_NOT_ALNUM_AFTER = r"(?![0-9A-Za-z])"

# Typed whole, or grouped as region-birth date-sequence (6-8-4) or 6-4-4-4.
_ID_RE = re.compile(
    _NOT_ALNUM_BEFORE
    + r"(?:\d{17}|\d{6}[ \-]\d{8}[ \-]\d{3}|\d{6}[ \-]\d{4}[ \-]\d{4}[ \-]\d{3})[0-9Xx]"
    + _NOT_ALNUM_AFTER
)
# Cards are typed whole or in groups of four; a looser rule would glue two phone numbers together.
_CARD_RE = re.compile(
    _NOT_ALNUM_BEFORE + r"(?:\d{16,19}|\d{4}(?:[ \-]\d{4}){3}(?:[ \-]?\d{1,3})?)" + _NOT_ALNUM_AFTER
)
_PHONE_RE = re.compile(
    r"(?<![0-9A-Za-z+])(?:\(?(?:\+|00)"
    + _GAP
    + r"86\)?"
    + _GAP
    + r")?1"
    + _GAP
    + r"[3-9](?:"
    + _GAP
    + r"\d){9}"
    + _NOT_ALNUM_AFTER
)
_PHONE_PREFIX_RE = re.compile(r"\(?(?:\+|00)" + _GAP + r"86\)?" + _GAP)
_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼滬遼魯蘇贛閩貴陝寧瓊雲晉粵"
_PLATE_RE = re.compile(rf"[{_PROVINCES}][A-Za-z][ ·•.\-]?[A-Za-z0-9]{{5,6}}" + _NOT_ALNUM_AFTER)
_HAN = r"[\u4e00-\u9fff]"
_NUM = r"[0-9一二三四五六七八九十百零〇两]"
_UNIT = r"(?:号楼|號樓|栋|棟|幢|座|单元|單元|层|層|楼|樓|室|号|號|户|戶|期|弄)"
_ADDRESS_RES = (
    # 建国路88号3号楼2单元501室, 幸福里小区5栋2单元301
    re.compile(
        rf"{_HAN}{{1,12}}(?:路|街|大街|大道|巷|弄|胡同|小区|小區|花园|花園|公寓|大厦|大廈|家园|家園|新村|村)"
        rf"(?: ?{_NUM}{{1,5}}(?:-{_NUM}{{1,4}})? ?{_UNIT})+"
    ),
    # 12 Baker Street, No. 88 Jianguo Road
    re.compile(
        r"\b(?:No\.? ?)?\d{1,5},? (?:[A-Z][a-z]+ ){1,4}"
        r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|Lu|Jie)\b"
    ),
    # Room 501, Flat 3B, Building 2, Apt #12
    re.compile(
        r"\b(?:Room|Rm|Flat|Apt|Apartment|Unit|Suite|Building|Bldg|Block)\.? ?#? ?\d{1,5}[A-Za-z]?\b", re.I
    ),
)
_ADDRESS_NUMBER_RE = re.compile(_NUM)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# Kinds a person should not post in a chat: the sender is warned about these.
SENSITIVE_KINDS = ("id_number", "bank_card", "phone")


@dataclass(frozen=True)
class Finding:
    """One piece of personal data: its kind, where it is, and whether it passes its check."""

    kind: str  # id_number, bank_card, phone, email, plate, address
    start: int
    end: int
    valid: bool  # ID: GB 11643 check digit; card: Luhn; others: the shape alone


def id_check_digit_ok(number: str) -> bool:
    """Whether an 18-character mainland ID number carries the right GB 11643 check digit."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def luhn_ok(digits: str) -> bool:
    """Whether a digit string passes the Luhn check used by bank card numbers."""
    if not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _plain(raw: str) -> str:
    return re.sub(r"[^0-9Xx]", "", raw)


def _judge_id(raw: str) -> tuple[str, bool]:
    number = _plain(raw)
    return "id_number", id_check_digit_ok(number)


def _judge_card(raw: str) -> tuple[str, bool]:
    return "bank_card", luhn_ok(_plain(raw))


def _always(kind: str) -> Callable[[str], tuple[str, bool]]:
    return lambda raw: (kind, True)


def _keep_ends(raw: str, head: int, tail: int) -> str:
    """Star every digit of `raw` but the first `head` and the last `tail`; separators stay."""
    positions = [i for i, ch in enumerate(raw) if ch.isdigit() or ch in "Xx"]
    keep = set(positions[:head] + positions[len(positions) - tail :])
    return "".join("*" if (i in positions and i not in keep) else ch for i, ch in enumerate(raw))


def _mask_phone(raw: str) -> str:
    prefix = _PHONE_PREFIX_RE.match(raw)
    cut = prefix.end() if prefix else 0
    return raw[:cut] + _keep_ends(raw[cut:], 3, 2)


def _mask_email(raw: str) -> str:
    local, _, domain = raw.partition("@")
    shown = local[:1] if len(local) > 1 else ""
    return shown + "*" * (len(local) - len(shown)) + "@" + domain


def _mask_plate(raw: str) -> str:
    return raw[:2] + "".join("*" if ch.isalnum() else ch for ch in raw[2:-1]) + raw[-1]


def _mask_address(raw: str) -> str:
    return _ADDRESS_NUMBER_RE.sub("*", raw)


# Order matters: an ID number before the card rule (both are long digit runs),
# cards before phones, so a phone is never cut out of a longer number.
_RULES: tuple[tuple[re.Pattern, Callable[[str], tuple[str, bool]], Callable[[str], str]], ...] = (
    (_ID_RE, _judge_id, lambda raw: _keep_ends(raw, 3, 2)),
    (_CARD_RE, _judge_card, lambda raw: _keep_ends(raw, 4, 2)),
    (_PHONE_RE, _always("phone"), _mask_phone),
    (_EMAIL_RE, _always("email"), _mask_email),
    (_PLATE_RE, _always("plate"), _mask_plate),
    *((pattern, _always("address"), _mask_address) for pattern in _ADDRESS_RES),
)


def _scan(text: str) -> tuple[str, list[Finding]]:
    """One pass of every rule; returns the masked text and what was found."""
    chars = list(text)
    shadow = text.translate(_FOLD)
    found: list[Finding] = []
    for pattern, judge, masker in _RULES:
        for match in pattern.finditer(shadow):
            kind, valid = judge(match.group())
            found.append(Finding(kind, match.start(), match.end(), valid))
            masked = masker(match.group())
            for offset, ch in enumerate(masked):
                if ch != match.group()[offset]:
                    chars[match.start() + offset] = ch
        shadow = "".join(chars).translate(_FOLD)
    return "".join(chars), sorted(found, key=lambda f: f.start)


def detect(text: str) -> list[Finding]:
    """The personal data in `text`, in order of position (never raises)."""
    if not isinstance(text, str) or not text:
        return []
    return _scan(text)[1]


def mask(text: str) -> str:
    """`text` with every piece of personal data masked; idempotent, same length, never raises."""
    if not isinstance(text, str) or not text:
        return text if isinstance(text, str) else ""
    # Masking only turns characters into '*'; a second pass finds what the
    # first one uncovered (rarely anything), until nothing changes.
    for _ in range(4):
        masked, _found = _scan(text)
        if masked == text:
            break
        text = masked
    return text


def labelled(text: str, names: dict[str, str], findings: list[Finding] | None = None) -> str:
    """`text` with each piece of personal data replaced by the name of its kind ("银行卡号").

    For searching: a run of stars and leftover digits misleads the embedding
    and BM25, the word for what was there does not. Nothing of the data is left.
    `findings` are `detect(text)`, when the caller has them already.
    """
    if not isinstance(text, str) or not text:
        return ""
    parts, last = [], 0
    for finding in detect(text) if findings is None else findings:
        if finding.start < last:  # overlaps a span already replaced
            continue
        before, name = text[last : finding.start], names.get(finding.kind, "")
        # "身份证号1101…" already says what the number is: the search reads the words once.
        named = bool(name) and before.rstrip().endswith(name)
        parts += [before, " " if named else f" {name} "]
        last = finding.end
    parts.append(text[last:])
    return mask("".join(parts))


def sensitive_kinds(findings: list[Finding]) -> list[str]:
    """The kinds worth warning the sender about: real-looking ID, card and phone numbers."""
    kinds = {f.kind for f in findings if f.kind in SENSITIVE_KINDS and (f.valid or f.kind == "id_number")}
    return [k for k in SENSITIVE_KINDS if k in kinds]
