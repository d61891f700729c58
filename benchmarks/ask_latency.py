"""Speed and memory of the answer path on this machine (a benchmark, not a test).

    python benchmarks/ask_latency.py            # everything below
    python benchmarks/ask_latency.py --quick    # skip the full index build

Prints: full index build and a no-change build (seconds, in a fresh data
directory), cold `python -m bot ask` (wall seconds and peak RSS), and warm
`ask` latency p50/p95/max over the development questions, and over the real
questions of up to 300 characters (issue 15's target: p95 ≤ 100 ms).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed_process(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB, and stdout of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=env, check=True)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reuse .data instead of building a fresh index")
    parser.add_argument("--runs", type=int, default=3, help="cold runs to time")
    args = parser.parse_args()

    import os

    env = dict(os.environ)
    if not args.quick:
        env["BOT_DATA_DIR"] = tempfile.mkdtemp(prefix="bench-data-")
        wall, peak, out = timed_process([sys.executable, "-m", "bot", "index"], env)
        print(f"index build, whole knowledge base: {wall:.1f} s wall, peak {peak:.0f} MB  ({out.strip()})")
        wall, _, out = timed_process([sys.executable, "-m", "bot", "index"], env)
        print(f"index build, nothing changed:      {wall:.1f} s wall  ({out.strip()})")

    colds = []
    for _ in range(args.runs):
        wall, peak, _ = timed_process(
            [sys.executable, "-m", "bot", "ask", "--json", "收到短信说能提额是真的吗"], env
        )
        colds.append(wall)
    print(
        f"cold `python -m bot ask`: median {statistics.median(colds):.2f} s, "
        f"max {max(colds):.2f} s; peak RSS {peak:.0f} MB"
    )

    from benchmarks.timing import milliseconds, summary
    from bot.app import build_app
    from bot.settings import Settings

    app = build_app(Settings.from_env(env))
    questions = [
        json.loads(line)["q"] for line in (ROOT / "tests/data/dev_questions.jsonl").open(encoding="utf-8")
    ]
    app.answers.ask(questions[0])
    latencies = milliseconds(app.answers.ask, questions)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"warm ask over {len(latencies)} questions: {summary(latencies)};",
        f"peak RSS of this process {rss:.0f} MB",
    )
    real = [
        q
        for line in (ROOT / "tests/data/real_questions.jsonl").open(encoding="utf-8")
        if len(q := json.loads(line)["q"]) <= 300
    ]
    timed = summary(milliseconds(app.answers.ask, real))
    print(f"warm ask over {len(real)} real questions of up to 300 characters: {timed}")


if __name__ == "__main__":
    main()
