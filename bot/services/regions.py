"""Askers outside mainland China: signs of where the asker lives, and mainland-only numbers and services.

The knowledge base is written for mainland China: 110, 96110, 12321, the Credit Reference
Center and 一证通查 do not help in London or Toronto. When the question shows that the asker
lives elsewhere (a Social Security number, pounds or dollars, "I live in Canada", "我在澳洲读书"),
or is written in English or traditional characters with no sign of the mainland, and the
answer sends the reader to such a number or service, the advice stays and the entry of local
channels (`OUTSIDE_MAINLAND_ENTRY`) follows it in full, as the answer's second source: the
asker needs both what to do and where to call. (Putting the local channels first, with the
advice as "see also", hid the advice: a US reader asking how to stop telemarketing calls got
only the list of reporting channels.) An answer that names nothing mainland-only, such as how
to destroy shipping labels, stays as it is.
"""

from __future__ import annotations

import re

MAINLAND_NUMBER_RE = re.compile(r"(?<!\d)(110|96110|12321|12315|12377|12378|12381|12300|12345|12123)(?!\d)")
# Services that exist only in mainland China, as the answers name them.
MAINLAND_SERVICE_RE = re.compile(
    r"credit reference cent(er|re)|people's bank of china|national anti-fraud cent(er|re)"
    r"|cyberspace administration|一证通查|一證通查|征信中心|徵信中心|国家反诈中心|國家反詐中心"
    r"|人民银行|人民銀行|网信办|網信辦",
    re.IGNORECASE,
)
OUTSIDE_MAINLAND_ENTRY = "outside-mainland-where-to-report-fraud"

_PLACES_ZH = (
    r"(香港|台灣|台湾|澳門|澳门|新加坡|美國|美国|英國|英国|加拿大|澳洲|澳大利亚|新西蘭|新西兰|紐西蘭"
    r"|日本|韩国|韓國|德国|德國|法国|法國|国外|國外|海外|境外)"
)
# Institutions, money and places of another country, or a Chinese "I live / study in …".
# A place named alone is not enough in Chinese: "香港的公司打电话说我涉嫌洗钱" comes from the mainland.
_ABROAD_RE = re.compile(
    r"\b(social security|ssn|ftc|irs|medicare|medicaid|equifax|experian|transunion|annualcreditreport"
    r"|credit bureaus?|hmrc|action fraud|royal mail|usps|nhs|dvla|pounds?|dollars?|quid|zip code"
    r"|state police|sheriff|united states|america|american|uk|britain|british|england|scotland|wales"
    r"|canada|canadian|australia|australian|new zealand|singapore|hong kong|taiwan|macao|macau|ireland)\b"
    r"|[£$€]"
    rf"|(我|人|住|身)在{_PLACES_ZH}|在{_PLACES_ZH}(读书|讀書|留学|留學|工作|生活|定居)",
    re.IGNORECASE,
)
# Signs that an asker writing English or traditional characters is in mainland China.
_IN_MAINLAND_RE = re.compile(
    r"\b(in|from|to|back in) (mainland )?china\b"
    r"|\b(beijing|shanghai|shenzhen|guangzhou|hangzhou|chengdu|wuhan|nanjing|tianjin|chongqing|suzhou)\b"
    r"|\b(wechat pay|alipay|taobao|rmb|renminbi|yuan)\b"
    r"|人民幣|支付寶|淘寶|微信支付|(我|人|住)在(大陸|內地|北京|上海|深圳|廣州|杭州|成都)",
    re.IGNORECASE,
)
# "US" in capitals only: "us" is a pronoun.
_US_RE = re.compile(r"\b(U\.S\.(A\.)?|USA|US)(?!\w)")


def mainland_numbers(text: str) -> list[str]:
    """The mainland-only numbers a text names, each once, in order."""
    return list(dict.fromkeys(MAINLAND_NUMBER_RE.findall(text)))


def names_mainland_services(answer: str) -> bool:
    """Whether an answer sends the reader to a mainland-only number or service."""
    return bool(MAINLAND_NUMBER_RE.search(answer) or MAINLAND_SERVICE_RE.search(answer))


def asks_from_abroad(question: str) -> bool:
    """Whether the question shows that the asker lives outside mainland China."""
    return bool(_ABROAD_RE.search(question) or _US_RE.search(question))


def likely_abroad(question: str, lang: str, traditional: bool) -> bool:
    """Whether the asker probably lives outside mainland China: a sign of it, or a question in
    English or traditional characters with no sign of living in the mainland (the mainland
    writes simplified Chinese; Hong Kong, Macao, Taiwan and most English writers are elsewhere)."""
    if asks_from_abroad(question):
        return True
    return (lang == "en" or traditional) and not _IN_MAINLAND_RE.search(question)
