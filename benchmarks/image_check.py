"""Warm latency per phone screenshot, and peak memory with the OCR loaded (a benchmark, not a test).

    python benchmarks/image_check.py [--rounds 3]

Draws 12 phone screenshots (1080 x 2340: SMS and chat, Chinese and English, one with a
QR code, one photographed at an angle) with tests/support/images.py, checks each once
to warm up, then `rounds` more times through the whole picture path the CLI and
Telegram use (decode, QR, OCR, the checker), and prints p50, p95 and max, the share of
OCR in it, the time of the first picture (the model loading), and the process's peak
memory (VmHWM) with the index, the embedding model and the OCR all loaded.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def screenshots() -> list[bytes]:
    from tests.support import images as draw

    sms = [
        (
            "106928301234",
            ["【ETC服务】尊敬的用户，您的ETC卡", "已失效，请于今日内登录", "etc-renzheng.top 完成认证。"],
        ),
        ("95511", ["【平安银行】您的信用卡可提额至", "50000元，登录 pa-tie.cn 申请，", "回T退订"]),
        ("1065502", ["您的医保卡因信息缺失已暂停使用，", "请点击 ybk-gov.top 补录资料。"]),
        ("12123", ["【交管12123】您有一条未处理的", "交通违法记录，请及时处理。"]),
        ("95588", ["【工商银行】您尾号1234的账户", "12月1日支出人民币58.00元，", "余额3,210.55元。"]),
        (
            "+44 7700 900123",
            ["Royal Mail: your parcel is on hold", "due to an unpaid fee. Pay at", "royalmail-fee.com/track"],
        ),
    ]
    chats = [
        [
            ("them", ["妈，我换新号码了，旧号不用了"]),
            ("me", ["怎么了？"]),
            ("them", ["你先转5000到这个账户，", "别跟爸说"]),
        ],
        [
            ("them", ["Hi mum, it's me. I dropped my", "phone, this is my new number."]),
            ("them", ["Can you send me 300 pounds?"]),
        ],
        [("them", ["今晚回家吃饭吗？"]), ("me", ["回，七点到"]), ("them", ["好，给你留汤"])],
        [("them", ["王老师：请各位家长扫码缴纳", "本学期资料费，每人260元"]), ("me", ["收到"])],
    ]
    pictures = [draw.png(draw.sms_screenshot(sender, lines)) for sender, lines in sms]
    pictures += [draw.png(draw.chat_screenshot(bubbles)) for bubbles in chats]
    poster = draw.qr_poster(
        ["扫码领取退款", "淘宝客服理赔中心"], "http://refund-taobao.top/claim", size=(1080, 2340)
    )
    pictures.append(draw.png(poster))
    pictures.append(draw.jpeg(draw.photographed(draw.sms_screenshot(*sms[0]), angle=5)))
    return pictures


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from benchmarks.timing import summary
    from bot.app import build_app
    from bot.settings import Settings

    pictures = screenshots()
    app = build_app(Settings())
    app.checker.check("预热")  # the text path warm, so the first picture times only the OCR's loading
    print(f"peak memory before any picture: {peak_mb():.0f} MB")
    images = app.image_checker
    start = time.perf_counter()
    images.check(pictures[0])
    print(f"first picture (loads the OCR model): {(time.perf_counter() - start) * 1000:.0f} ms")
    for picture in pictures[1:]:
        images.check(picture)
    times, ocr = [], []
    for _ in range(args.rounds):
        for picture in pictures:
            result = images.check(picture)
            times.append(result.latency_ms)
            ocr.append(result.timings_ms.get("ocr", 0.0))
    share = 100 * sum(ocr) / sum(times)
    print(f"screenshots {len(times)} (1080x2340): {summary(times)}; OCR {share:.0f}% of it")
    print(f"peak memory with the OCR loaded: {peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
