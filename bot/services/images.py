"""Reading a picture: the text in it (offline OCR) and the QR codes in it.

The OCR is RapidOCR (`rapidocr-onnxruntime` 1.4.4, PP-OCRv4's detection and
recognition models shipped inside the wheel, run by onnxruntime on the CPU);
the QR decoder is OpenCV's `QRCodeDetector`. Both load the first time a picture
is read, never at start-up, so the text path does not pay for them. The bytes
stay in memory: nothing is written to disk, and nothing read is logged.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import re
import threading
import time
from dataclasses import dataclass, field

import numpy as np

# Pictures larger than this many pixels are refused before decoding (a "decompression bomb").
MAX_PIXELS = 40_000_000
# The OCR sees at most this many pixels on the long side of one tile, and tall pictures (a
# scrolling screenshot) are read in tiles of at most TILE_RATIO times their width.
OCR_MAX_SIDE = 1400
OCR_MIN_WIDTH = 540
OCR_MAX_UPSCALED = 4000  # a narrow picture is never enlarged past this height
# A scrolling screenshot is read down to this many tiles (about 15,000 px at 1080 wide); no further.
MAX_TILES = 8
TILE_RATIO = 2.0
TILE_OVERLAP = 0.15
MIN_CONFIDENCE = 0.5
# QR codes are searched for in a copy of at most this many pixels on its long side.
QR_SEARCH_SIDE = 1200
QR_MIN_SIDE = 21
# Rows further apart than this many line heights are separate paragraphs (two chat bubbles).
PARAGRAPH_GAP = 0.9
# Phone status-bar scraps: a clock, a battery level, a network name.
_CHROME_RE = re.compile(r"^(?:\d{1,2}[:：]\d{2}|\d{1,3}\s*%|[45]G|LTE|HD|[\W_]{1,3})$", re.IGNORECASE)
_CJK = "\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_ENDS_CJK_RE = re.compile(f"[{_CJK}]$")
_STARTS_CJK_RE = re.compile(f"^[{_CJK}]")


# glibc's mallopt parameter: allocations of at least this many bytes are mapped, not heaped.
M_MMAP_THRESHOLD = -3
MMAP_FROM_BYTES = 1 << 20


class ImageError(ValueError):
    """The bytes are not a picture we can read (or too large); the message says which, in English."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason  # "not_image", "too_large" or "unavailable": picks the user-facing text


@dataclass(frozen=True)
class Reading:
    """What a picture holds: its text rows, top to bottom, and the content of each QR code found."""

    rows: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    # For each row, whether it starts a new paragraph (a gap above it, as between two bubbles).
    breaks: tuple[bool, ...] = ()
    width: int = 0
    height: int = 0
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The rows as one message: rows wrapped inside a Chinese sentence are joined directly."""
        out = ""
        for i, row in enumerate(self.rows):
            new_paragraph = i < len(self.breaks) and self.breaks[i]
            if out and (new_paragraph or not (_ENDS_CJK_RE.search(out) and _STARTS_CJK_RE.search(row))):
                out += " "
            out += row
        return out


def decode_image(data: bytes, max_bytes: int) -> np.ndarray:
    """An RGB array of the picture in `data`, upright (EXIF), transparency over white.

    Raises `ImageError` for anything that is not a picture Pillow can read, or too large.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if len(data) > max_bytes:
        raise ImageError("too_large", f"the picture is larger than {max_bytes // 1_000_000} MB")
    if not data:
        raise ImageError("not_image", "the file is empty")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise ImageError("too_large", f"the picture has more than {MAX_PIXELS:,} pixels")
            image.load()
            image = ImageOps.exif_transpose(image)
            if image.mode in ("RGBA", "LA", "P", "PA"):
                image = image.convert("RGBA")
                background = Image.new("RGBA", image.size, (255, 255, 255, 255))
                image = Image.alpha_composite(background, image)
            return np.asarray(image.convert("RGB"))
    except ImageError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageError("too_large", f"the picture has more than {MAX_PIXELS:,} pixels") from exc
    except UnidentifiedImageError as exc:
        raise ImageError("not_image", "not a picture (JPEG, PNG, WebP, GIF or BMP)") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError("not_image", "the picture is damaged or cut short") from exc


class ImageReader:
    """Reads text (OCR) and QR codes; the models load on first use, once, and reads are serialised."""

    def __init__(self, max_bytes: int = 10_000_000, threads: int = 2):
        self.max_bytes = max_bytes
        self.threads = threads
        self._ocr = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._ocr is not None

    def _engine(self):
        if self._ocr is None:
            try:
                from rapidocr_onnxruntime import RapidOCR
            except ImportError as exc:  # Python >= 3.13 (no wheel), or OpenCV's system libraries missing
                raise ImageError(
                    "unavailable",
                    f"reading pictures needs rapidocr-onnxruntime and OpenCV, which failed to load: {exc}",
                ) from None
            _large_buffers_back_to_the_system()
            self._ocr = RapidOCR(
                max_side_len=OCR_MAX_SIDE,
                intra_op_num_threads=self.threads,
                print_verbose=False,
            )
        return self._ocr

    def read(self, data: bytes, max_bytes: int | None = None) -> Reading:
        """The text rows and QR codes of the picture in `data` (`ImageError` if it is none)."""
        start = time.perf_counter()
        rgb = decode_image(data, max_bytes or self.max_bytes)
        decoded = time.perf_counter()
        with self._lock:
            engine = self._engine()
            bgr = np.ascontiguousarray(rgb[:, :, ::-1])
            codes, corners = read_qr_codes(bgr)
            qr_done = time.perf_counter()
            try:
                rows, breaks = _rows(_ocr_boxes(engine, _for_ocr(_without_codes(bgr, corners))))
            except Exception as exc:  # the models fail on a shape they cannot take: a reply, not a crash
                reason = f"the picture could not be read ({type(exc).__name__})"
                raise ImageError("not_image", reason) from None
        end = time.perf_counter()
        timings = {
            "decode": (decoded - start) * 1000,
            "qr": (qr_done - decoded) * 1000,
            "ocr": (end - qr_done) * 1000,
        }
        return Reading(tuple(rows), tuple(codes), tuple(breaks), rgb.shape[1], rgb.shape[0], timings)


def _large_buffers_back_to_the_system() -> None:
    """Buffers of 1 MB or more are mapped, so they go back to the system when freed.

    The OCR allocates and frees tens of MB per picture; by default glibc raises its
    threshold and keeps such buffers in a heap that only grows. Measured with
    benchmarks/image_check.py: peak memory 686 MB without this, 559 MB with it, at the
    same speed. Elsewhere (macOS, musl) there is no mallopt, and nothing changes.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, MMAP_FROM_BYTES)


def read_qr_codes(bgr: np.ndarray) -> tuple[list[str], list[np.ndarray]]:
    """The decoded content of every QR code in the picture (each once), and each code's corners.

    A large picture is searched at a smaller size first (quicker, and a phone photo's code
    decodes better there); full size is tried only when a code was found but not decoded.
    """
    import cv2

    if min(bgr.shape[:2]) < QR_MIN_SIDE:  # too thin to hold a code (a QR code is 21 modules wide)
        return [], []
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    long_side = max(gray.shape)
    scale = QR_SEARCH_SIDE / long_side if long_side > QR_SEARCH_SIDE else 3.0 if long_side < 500 else 1.0
    attempts = [(gray, 1.0)]
    if scale != 1.0 and min(gray.shape) * scale >= QR_MIN_SIDE:
        method = cv2.INTER_AREA if scale < 1 else cv2.INTER_NEAREST
        attempts.insert(0, (cv2.resize(gray, None, fx=scale, fy=scale, interpolation=method), scale))
    detector = cv2.QRCodeDetector()
    found: list[str] = []
    corners: list[np.ndarray] = []
    for picture, factor in attempts:
        try:
            detected, values, points, _ = detector.detectAndDecodeMulti(picture)
        except cv2.error:
            detected, values, points = False, (), None
        if not detected:
            return found, corners
        for value, quad in zip(values, points if points is not None else (), strict=False):
            corners.append(np.asarray(quad, dtype=np.float32) / factor)
            if value and value not in found:
                found.append(value)
        if found:
            return found, corners
    return found, corners


def _without_codes(bgr: np.ndarray, corners: list[np.ndarray]) -> np.ndarray:
    """The picture with each QR code painted white: the OCR would read its squares as "口口"."""
    if not corners:
        return bgr
    import cv2

    out = bgr.copy()
    for quad in corners:
        cv2.fillConvexPoly(out, np.round(quad).astype(np.int32), (255, 255, 255))
    return out


def _for_ocr(bgr: np.ndarray) -> np.ndarray:
    """A narrow picture (a thumbnail, a cropped line) is enlarged, so small print stays legible."""
    import cv2

    height, width = bgr.shape[:2]
    scale = min(OCR_MIN_WIDTH / width, OCR_MAX_UPSCALED / height)
    if scale > 1:
        return cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    return bgr


def _ocr_boxes(engine, bgr: np.ndarray) -> list[tuple[float, float, float, str]]:
    """(top, left, height, text) of each text box; a tall picture is read tile by tile.

    Tiles overlap by more than a line, and a box belongs to the tile its top edge is in
    before the next tile starts, so a line cut by one tile is read whole in the other.
    """
    height, width = bgr.shape[:2]
    tile = int(width * TILE_RATIO)
    if height <= tile * 1.1:
        starts = [0]
    else:
        step = int(tile * (1 - TILE_OVERLAP))
        starts = list(range(0, height - int(tile * TILE_OVERLAP), step))[:MAX_TILES]
    boxes = []
    for i, top in enumerate(starts):
        own_end = starts[i + 1] if i + 1 < len(starts) else height
        result, _ = engine(bgr[top : top + tile])
        for box, text, score in result or []:
            ys = [point[1] for point in box]
            y0 = min(ys) + top
            if float(score) < MIN_CONFIDENCE or y0 >= own_end:
                continue
            boxes.append((y0, min(point[0] for point in box), max(ys) - min(ys), str(text).strip()))
    return boxes


def _rows(boxes: list[tuple[float, float, float, str]]) -> tuple[list[str], list[bool]]:
    """Boxes grouped into rows (tops within half a line), left to right; and for each row
    whether a gap of more than PARAGRAPH_GAP lines separates it from the row above."""
    rows: list[list[tuple[float, float, float, str]]] = []
    for box in sorted(b for b in boxes if b[3] and not _CHROME_RE.match(b[3])):
        if rows and abs(box[0] - rows[-1][0][0]) < 0.5 * max(box[2], rows[-1][0][2], 1):
            rows[-1].append(box)
        else:
            rows.append([box])
    texts, breaks = [], []
    previous_bottom = None
    for row in rows:
        top, line = min(b[0] for b in row), max(b[2] for b in row)
        texts.append(" ".join(b[3] for b in sorted(row, key=lambda b: b[1])))
        breaks.append(previous_bottom is not None and top - previous_bottom > PARAGRAPH_GAP * line)
        previous_bottom = max(b[0] + b[2] for b in row)
    return texts, breaks
