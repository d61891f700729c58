"""Warm latency of the scam checker per real message on this machine (a benchmark, not a test).

    python benchmarks/check_latency.py

Checks every message of tests/data/real_messages.jsonl twice (the first pass warms
up), and prints p50, p95 and max of the second pass, and the classifiers' training time.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from benchmarks.timing import milliseconds, summary
    from bot.app import build_app
    from bot.settings import Settings

    app = build_app(Settings())
    lines = (ROOT / "tests" / "data" / "real_messages.jsonl").read_text(encoding="utf-8").splitlines()
    texts = [json.loads(line)["text"] for line in lines if line.strip()]
    milliseconds(app.checker.check, texts)  # warm-up
    print(f"messages {len(texts)}: {summary(milliseconds(app.checker.check, texts))}")
    start = time.perf_counter()
    from bot.app import train_checker

    train_checker(app.index, app.checker)
    print(f"training the scam classifier: {(time.perf_counter() - start) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
