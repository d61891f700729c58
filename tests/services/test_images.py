"""Checking pictures with the real OCR and QR decoder, on screenshots and photos the tests draw."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from bot.services.images import ImageError, ImageReader, decode_image
from bot.settings import REPO_ROOT
from tests.support.images import (
    blank_photo,
    chat_screenshot,
    cjk_font_path,
    jpeg,
    photographed,
    png,
    qr_code,
    qr_poster,
    sms_screenshot,
)

ETC_SMS = [
    "【ETC服务】尊敬的用户，您的ETC卡",
    "已失效，请于今日内登录",
    "etc-renzheng.top 完成认证，",
    "逾期将停止使用。",
]


@pytest.fixture(scope="module")
def images(app):
    """The session app's picture checker; CI must have the CJK font (.ci/run installs it)."""
    if cjk_font_path() is None:
        message = "no CJK font to draw test pictures with: apt-get install fonts-wqy-microhei"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    return app.image_checker


def test_sms_screenshot_of_a_scam_is_high_and_the_numbers_read_are_masked(images):
    result = images.check(png(sms_screenshot("106928301234", [*ETC_SMS, "客服电话13812345678"])))
    data = result.to_dict()
    assert data["risk"] == "high" and data["scheme"]["id"] == "etc"
    assert "ETC" in data["text"] and "etc-renzheng.top" in data["text"]
    assert "13812345678" not in data["text"] and "138" in data["text"]
    assert "13812345678" not in "\n".join(result.rows)
    assert {"suspicious_link", "urgency"} <= {s["id"] for s in data["signs"]}
    assert data["qr"] == [] and data["lang"] == "zh"


def test_english_chat_screenshot_of_a_new_number_scam_is_caught(images):
    picture = chat_screenshot(
        [
            ("them", ["Hi mum, it's me. I dropped my", "phone, this is my new number."]),
            ("me", ["Oh no! Are you ok?"]),
            ("them", ["Can you send me 300 pounds", "today? I'll pay you back"]),
        ]
    )
    result = images.check(png(picture))
    assert result.lang == "en" and "send me 300 pounds" in result.text
    assert result.risk in ("medium", "high")


def test_ordinary_family_chat_is_low_and_its_bubbles_stay_apart(images):
    result = images.check(
        png(chat_screenshot([("them", ["妈，我今晚回家吃饭"]), ("me", ["好的，给你留汤"])]))
    )
    assert result.risk == "low"
    assert "吃饭 好的" in result.text  # two bubbles, not one run-on sentence


def test_qr_poster_with_a_lookalike_refund_link_is_high(images):
    result = images.check(
        png(qr_poster(["扫码领取退款", "淘宝客服理赔中心"], "http://refund-taobao.top/claim"))
    )
    [code] = result.qr
    assert code.kind == "link" and code.suspicious and code.data == "http://refund-taobao.top/claim"
    assert "suspicious_link" in {s.id for s in code.signs}
    assert result.risk == "high" and "退款" in result.text
    assert result.to_dict()["qr"][0]["kind"] == "link"


def test_a_payment_code_alone_is_named_with_its_advice_not_judged_a_scam(images):
    result = images.check(png(qr_code("wxp://f2f0DZfDxx8mBuRwlyCsd_abc")))
    [code] = result.qr
    assert code.kind == "payment" and not code.suspicious and "收款码" in code.label
    assert result.risk == "low" and result.text == ""  # the code's squares are not read as text


def test_a_group_invite_under_a_task_scam_text_is_high(images):
    result = images.check(
        png(qr_poster(["加入刷单群 日赚300元", "佣金当天结算"], "https://weixin.qq.com/g/AwYAABC123"))
    )
    [code] = result.qr
    assert code.kind == "group_invite" and code.suspicious
    assert result.risk == "high" and result.check.scheme == "task_rebate"


def test_a_turned_blurred_photo_of_a_screen_is_still_read(images):
    sms = sms_screenshot(
        "95588", ["【工商银行】您的账户存在异常，", "请点击 icbc-95588.com 核实，", "否则将冻结。"]
    )
    result = images.check(jpeg(photographed(sms, angle=6, blur=1.2), quality=60))
    assert "icbc-95588.com" in result.text.replace(" ", "")
    assert result.risk in ("medium", "high")


def test_a_blank_photo_gets_a_clear_reply_and_no_verdict(images):
    result = images.check(jpeg(blank_photo()))
    data = result.to_dict()
    assert data["risk"] is None and data["text"] == "" and data["qr"] == [] and data["signs"] == []
    assert data["advice"] == images.text("nothing_read", "zh") and "截图" in data["advice"]


def test_a_tall_scrolling_screenshot_is_read_in_tiles_each_line_once(images):
    bubbles = [("them" if i % 2 else "me", [f"第{i}条消息内容"]) for i in range(36)]
    result = images.check(png(chat_screenshot(bubbles, size=(1080, 7400))))
    assert all(result.text.count(f"第{i}条") == 1 for i in range(36)), result.text


def test_numbers_in_a_qr_code_are_masked_and_a_contact_is_named(images):
    result = images.check(png(qr_code("BEGIN:VCARD\nFN:Wang\nTEL:13812345678\nEND:VCARD")))
    [code] = result.qr
    assert code.kind == "contact" and "13812345678" not in code.data


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        ("wxp://f2f0abc", "payment"),
        ("https://qr.alipay.com/fkx12345", "payment"),
        ("00020101021126370016A000000677010111011300660000000005802TH", "payment"),
        ("https://weixin.qq.com/g/AbCd", "group_invite"),
        ("https://t.me/+AbCdEf", "group_invite"),
        ("https://t.me/some_support", "contact"),
        ("https://wa.me/447700900123", "contact"),
        ("WIFI:S:Cafe;T:WPA;P:secret;;", "wifi"),
        ("http://download.example.top/app/yunfu.apk", "app_download"),
        ("https://www.gov.cn/", "link"),
        ("icbc-95588.com/login", "link"),
        ("恭喜您中奖了，请联系客服领取", "text"),
    ],
)
def test_qr_contents_are_sorted_into_kinds(app, content, kind):
    assert app.image_checker.rules.kind_of(content).id == kind


@pytest.mark.parametrize(
    ("content", "suspicious"),
    [
        ("http://192.168.3.7:8080/pay", True),
        ("https://icbc-95588.com/verify", True),
        ("http://t.cn/A6xYz", True),
        ("https://u.10010.cn/qAbc", False),
        ("https://www.gov.cn/", False),
    ],
)
def test_a_code_s_link_is_judged_by_the_link_rules(app, content, suspicious):
    finding = app.image_checker.judge_code(content, "zh")
    assert finding.kind == "link" and finding.suspicious is suspicious


def test_an_app_download_code_is_high_on_its_own(app):
    from bot.services.images import Reading

    result = app.image_checker.judge(Reading(codes=("http://x.example.top/yunfu.apk",)), "en")
    assert result.risk == "high" and result.qr[0].kind == "app_download" and result.lang == "en"


def _bomb() -> bytes:
    """A small PNG whose header claims 100,000 x 100,000 pixels."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not_image"),
        (b"just some text, not a picture", "not_image"),
        (b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "not_image"),
        (png(blank_photo((300, 200)))[:400], "not_image"),  # cut short
        (_bomb(), "too_large"),
        (b"\x89PNG" + b"\0" * 2_000_000, "too_large"),  # over the byte limit given below
    ],
    ids=["empty", "text", "pdf", "cut-short", "pixel-bomb", "too-many-bytes"],
)
def test_what_is_not_a_readable_picture_is_refused_with_the_reason(data, reason):
    with pytest.raises(ImageError) as caught:
        decode_image(data, max_bytes=1_000_000)
    assert caught.value.reason == reason and str(caught.value)


def test_transparency_is_read_over_white_and_exif_turns_the_picture_upright():
    from PIL import Image

    transparent = Image.new("RGBA", (40, 20), (0, 0, 0, 0))
    assert decode_image(png(transparent), 10**6)[0, 0].tolist() == [255, 255, 255]
    sideways = Image.new("RGB", (40, 20), "white")
    exif = sideways.getexif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view"
    out = io.BytesIO()
    sideways.save(out, format="JPEG", exif=exif)
    assert decode_image(out.getvalue(), 10**6).shape[:2] == (40, 20)


def test_the_ocr_model_loads_on_the_first_picture_not_before():
    reader = ImageReader()
    assert not reader.loaded
    reader.read(png(blank_photo((200, 120))))
    assert reader.loaded


def test_checking_text_never_loads_the_ocr(env):
    """A process that only checks a text never imports the OCR package."""
    code = (
        "import io, sys\n"
        "from bot.adapters.cli import main\n"
        "main(['check', '您的快递已到驿站，取件码 3-2-1'], stdout=io.StringIO())\n"
        "print('rapidocr_onnxruntime' in sys.modules)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env={**os.environ, **env}, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().splitlines()[-1] == "False"


def _saved(mode: str, size: tuple[int, int], fmt: str = "PNG", **options) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new(mode, size).save(out, format=fmt, **options)
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        _saved("RGB", (1, 1)),
        _saved("RGB", (1, 5000)),
        _saved("RGB", (5000, 1)),
        _saved("L", (300, 300)),
        _saved("I;16", (300, 300)),
        _saved("CMYK", (300, 300), "JPEG"),
        _saved("P", (300, 300), "GIF"),
        _saved("P", (300, 300), "PNG", transparency=0),
        _saved("RGB", (300, 300), "WEBP"),
        _saved("RGB", (300, 300), "BMP"),
    ],
    ids=["1x1", "1x5000", "5000x1", "grey", "16-bit", "cmyk-jpeg", "gif", "palette-alpha", "webp", "bmp"],
)
def test_odd_shapes_and_modes_give_a_reading_or_a_clear_refusal_never_a_crash(app, data):
    try:
        reading = app.image_checker.reader.read(data)
    except ImageError as exc:
        assert exc.reason == "not_image" and str(exc)
    else:
        assert reading.rows == () and reading.codes == ()
