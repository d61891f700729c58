"""How long other users wait for an answer while one user floods the bot with 1,000 updates.

Runs the real bot (python-telegram-bot polling the fake Bot API server in tests/,
the real index) twice: ten other users ask one question each, once on a quiet
bot and once right after one user has sent 1,000 messages. Prints each
latency's median and maximum, and how many replies the flooder got.

    python benchmarks/flood.py [--flood 1000] [--others 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import build_app
from bot.settings import Settings
from tests.support.telegram import running_bot

QUESTIONS = ["验证码能告诉别人吗", "快递单怎么处理", "my ID number leaked, what now?", "96110是什么电话"]


async def _latencies(app, flood: int, others: int) -> tuple[list[float], int]:
    with tempfile.TemporaryDirectory() as tmp:
        async with running_bot(app, Path(tmp)) as (api, _):
            flooder = 900_000
            for number in range(flood):
                api.inject_message(flooder, f"快递单怎么处理 {number}", user_id=flooder)
            waits = []
            for n in range(others):
                chat = 910_000 + n
                start = time.perf_counter()
                api.inject_message(chat, QUESTIONS[n % len(QUESTIONS)], user_id=chat)
                await api.wait_for(1, chat_id=chat, timeout=120)
                waits.append(time.perf_counter() - start)
            return waits, len(api.sent(flooder))


async def _main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as data:
        app = build_app(Settings(data_dir=Path(data)))
        for label, flood in (("quiet bot", 0), (f"after a flood of {args.flood}", args.flood)):
            waits, flooded = await _latencies(app, flood, args.others)
            print(
                f"{label:<26} others' latency median {statistics.median(waits) * 1000:.0f} ms, "
                f"max {max(waits) * 1000:.0f} ms; replies to the flooder: {flooded}"
            )


def main() -> None:
    """Parse the arguments and run both measurements."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flood", type=int, default=1000)
    parser.add_argument("--others", type=int, default=10)
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
