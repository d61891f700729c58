"""Pictures the tests and the benchmark draw themselves: SMS and chat screenshots, QR posters, photos.

Drawn with Pillow and a CJK font from the system (`.ci/run` installs Debian's
fonts-wqy-microhei); QR codes come from OpenCV's encoder. Nothing here reads
them: the bot's real OCR and QR decoder do that in the tests.
"""

from __future__ import annotations

import io
from pathlib import Path

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
)
PHONE = (1080, 2340)


def cjk_font_path() -> Path | None:
    """A font with Chinese characters on this machine, or None."""
    return next((Path(p) for p in FONT_CANDIDATES if Path(p).exists()), None)


def _font(size: int):
    from PIL import ImageFont

    path = cjk_font_path()
    if path is None:
        raise RuntimeError("no CJK font: install fonts-wqy-microhei (Debian) or fonts-noto-cjk")
    return ImageFont.truetype(str(path), size)


def png(image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def jpeg(image, quality: int = 70) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()


def sms_screenshot(sender: str, lines: list[str], size: tuple[int, int] = PHONE, font_px: int = 44):
    """A phone's messages app: status bar, the sender's number, one grey bubble with `lines`."""
    from PIL import Image, ImageDraw

    width = size[0]
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    small, big = _font(30), _font(font_px)
    draw.text((40, 24), "10:24", font=small, fill="black")
    draw.text((width - 160, 24), "85%", font=small, fill="black")
    draw.text((width // 2 - 220, 120), sender, font=_font(40), fill="black")
    draw.line((0, 200, width, 200), fill=(220, 220, 220), width=2)
    top = 300
    bottom = top + 60 + len(lines) * int(font_px * 1.8)
    draw.rounded_rectangle((40, top, width - 140, bottom), 36, fill=(233, 233, 235))
    y = top + 30
    for line in lines:
        draw.text((75, y), line, font=big, fill="black")
        y += int(font_px * 1.8)
    return image


def chat_screenshot(bubbles: list[tuple[str, list[str]]], size: tuple[int, int] = PHONE):
    """A chat app: bubbles from "them" (left, white) and "me" (right, green), top to bottom."""
    from PIL import Image, ImageDraw

    width = size[0]
    image = Image.new("RGB", size, (237, 237, 237))
    draw = ImageDraw.Draw(image)
    font = _font(42)
    y = 220
    for who, lines in bubbles:
        box_height = 40 + len(lines) * 70
        left, fill = (40, "white") if who == "them" else (width - 860, (149, 236, 105))
        draw.rounded_rectangle((left, y, left + 820, y + box_height), 20, fill=fill)
        for i, line in enumerate(lines):
            draw.text((left + 30, y + 20 + i * 70), line, font=font, fill="black")
        y += box_height + 50
    return image


def qr_code(data: str, module_px: int = 10):
    """A QR code for `data` as a Pillow image, with its quiet zone."""
    import cv2
    from PIL import Image

    matrix = cv2.QRCodeEncoder.create().encode(data)
    scaled = cv2.resize(matrix, None, fx=module_px, fy=module_px, interpolation=cv2.INTER_NEAREST)
    return Image.fromarray(scaled).convert("RGB")


def qr_poster(lines: list[str], data: str, size: tuple[int, int] = (900, 1400)):
    """A poster or a "refund" message: a few lines of text above a QR code."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = _font(52)
    for i, line in enumerate(lines):
        draw.text((60, 60 + i * 90), line, font=font, fill="black")
    code = qr_code(data, module_px=12)
    image.paste(code, ((size[0] - code.width) // 2, 120 + len(lines) * 90))
    return image


def photographed(image, angle: float = 6.0, blur: float = 1.2):
    """`image` as a hand-held photo of a screen: slightly turned, blurred, on a darker surround."""
    from PIL import Image, ImageFilter

    turned = image.convert("RGB").rotate(angle, expand=True, fillcolor=(90, 90, 90))
    canvas = Image.new("RGB", (turned.width + 120, turned.height + 120), (90, 90, 90))
    canvas.paste(turned, (60, 60))
    return canvas.filter(ImageFilter.GaussianBlur(blur))


def blank_photo(size: tuple[int, int] = (1200, 900)):
    """A photo of nothing: a smooth grey gradient with a little noise."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(7)
    gradient = np.linspace(120, 180, size[0], dtype=np.float32)[None, :].repeat(size[1], axis=0)
    noisy = gradient + rng.normal(0, 3, gradient.shape)
    return Image.fromarray(noisy.clip(0, 255).astype("uint8")).convert("RGB")
