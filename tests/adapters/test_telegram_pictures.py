"""Pictures in Telegram end to end: the real bot downloads them with getFile from the fake Bot API's
file URL, reads them with the real OCR and QR decoder, and replies with the verdict."""

from __future__ import annotations

import asyncio
import logging
import os

import pytest

from bot.settings import Settings, file_url_of
from tests.support.images import cjk_font_path, png, qr_poster, sms_screenshot
from tests.support.telegram import running_bot, texts

SCAM_LINES = ["【ETC服务】您的ETC卡已失效，", "请登录 etc-renzheng.top 认证，", "逾期停用。客服13812345678"]


@pytest.fixture(scope="module")
def scam_png() -> bytes:
    if cjk_font_path() is None:
        message = "no CJK font to draw test pictures with: apt-get install fonts-wqy-microhei"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    return png(sms_screenshot("106928301234", SCAM_LINES))


def _downloads(api) -> list:
    return [c for c in api.calls if c.method == "getFile" and c.status == 200]


async def test_a_photo_in_a_private_chat_is_downloaded_read_and_checked(app, tmp_path, scam_png, caplog):
    caplog.set_level(logging.INFO)
    async with running_bot(app, tmp_path) as (api, _):
        api.inject_picture(901, scam_png)
        [reply] = await api.wait_for(1, chat_id=901, timeout=60)
        assert "🔴" in reply["text"] and "etc-renzheng.top" in reply["text"]
        assert "13812345678" not in reply["text"] and "ETC" in reply["text"]
        assert len(_downloads(api)) == 1
        assert api.sent(901, "sendChatAction"), "typing… while the picture is read"
    assert "13812345678" not in caplog.text and "etc-renzheng" not in caplog.text


async def test_an_image_sent_as_a_file_is_checked_too(app, tmp_path):
    poster = png(qr_poster(["扫码领取退款"], "http://refund-taobao.top/claim"))
    async with running_bot(app, tmp_path) as (api, _):
        api.inject_picture(902, poster, as_document=True, file_name="退款.png")
        [reply] = await api.wait_for(1, chat_id=902, timeout=60)
        assert "二维码" in reply["text"] and "refund-taobao.top" in reply["text"]
        assert "🔴" in reply["text"] or "🟠" in reply["text"]


async def test_in_a_group_only_a_check_caption_or_a_check_reply_reads_a_picture(app, tmp_path, scam_png):
    group = -100777
    async with running_bot(app, tmp_path) as (api, _):
        api.inject_picture(group, scam_png, chat_type="supergroup")  # an ordinary photo: left alone
        await asyncio.sleep(1.5)
        assert api.sent(group) == [] and _downloads(api) == []
        api.inject_picture(group, scam_png, chat_type="supergroup", caption="/check")
        [first] = await api.wait_for(1, chat_id=group, timeout=60)
        api.inject_picture(group, scam_png, reply_text="/check", chat_type="supergroup")
        await api.wait_for(2, chat_id=group, timeout=60)
        assert all("🔴" in text for text in texts(api, group)) and len(_downloads(api)) == 2
        assert "etc-renzheng.top" in first["text"]


async def test_a_picture_over_the_size_limit_is_refused_without_downloading(app, tmp_path, scam_png):
    async with running_bot(app, tmp_path, image_max_mb=1) as (api, _):
        api.inject_picture(903, scam_png, as_document=True, file_size=5_000_000)
        [reply] = await api.wait_for(1, chat_id=903)
        assert "1 MB" in reply["text"] and _downloads(api) == []


async def test_a_broken_image_gets_a_clear_reply_and_a_pdf_the_text_only_hint(app, tmp_path):
    async with running_bot(app, tmp_path) as (api, _):
        api.inject_picture(904, b"\x89PNG\r\n\x1a\n broken bytes")
        [reply] = await api.wait_for(1, chat_id=904, timeout=30)
        assert "JPEG" in reply["text"] and "PNG" in reply["text"]
        api.inject_non_text(905, "document")
        [hint] = await api.wait_for(1, chat_id=905)
        assert "文字" in hint["text"]


def test_the_file_url_follows_the_bot_api_base_url_unless_set():
    assert file_url_of("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert file_url_of("http://127.0.0.1:8081/bot/") == "http://127.0.0.1:8081/file/bot"
    assert Settings(telegram_api_base_url="http://h:1/bot").telegram_file_url == "http://h:1/file/bot"
    own = Settings(telegram_api_base_url="http://h:1/bot", telegram_api_base_file_url="http://files/f/bot")
    assert own.telegram_file_url == "http://files/f/bot"
