"""The shared Chroma server against the embedded index on this machine (a benchmark, not a test).

    python benchmarks/scale_out.py

Starts `chroma run` (from the chromadb package) on 127.0.0.1, then prints: the full index build
into the server (`python -m bot index` with CHROMA_HOST, wall seconds), the same build into a
fresh embedded directory, warm `ask` latency p50/p95/max over the development questions against
each (one process, the same model), whether both give the same answers, and how long a webhook
replica (`python -m bot telegram`, BOT_MODE=webhook, against the server) takes from start to
/readyz 200.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.timing import summary  # noqa: E402
from bot.app import build_app  # noqa: E402
from bot.retrieval.backends.bundled import BundledE5Embeddings  # noqa: E402
from bot.settings import Settings  # noqa: E402
from tests.support.chroma_server import ChromaServer, free_port  # noqa: E402


def timed(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Wall seconds and stdout of one process."""
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=env, check=True)
    return time.perf_counter() - start, done.stdout.strip()


def warm_latencies(settings: Settings, embeddings, questions: list[str]) -> tuple[list[float], list]:
    """Milliseconds per question (sorted) and the answers' first source ids, in question order."""
    app = build_app(settings, embeddings=embeddings)
    app.answers.ask(questions[0])
    latencies, firsts = [], []
    for q in questions:
        start = time.perf_counter()
        answer = app.answers.ask(q)
        latencies.append((time.perf_counter() - start) * 1000)
        firsts.append((answer.in_scope, answer.refused, answer.sources[0].id if answer.sources else None))
    return sorted(latencies), firsts


def _status(url: str) -> int:
    with urllib.request.urlopen(url, timeout=1) as response:
        return response.status


def replica_ready_seconds(env: dict[str, str]) -> float:
    """Start one webhook replica against the server; seconds until /readyz answers 200."""
    import asyncio

    from tests.support.fake_bot_api import FakeBotAPI  # a Bot API stand-in, so setWebhook succeeds

    async def run() -> float:
        async with FakeBotAPI() as api:
            port = free_port()
            child = {
                **env,
                "BOT_MODE": "webhook",
                "TELEGRAM_BOT_TOKEN": "123456:TEST-token_abcdefghijklmnopqrstuvwxyz",
                "TELEGRAM_API_BASE_URL": api.base_url,
                "WEBHOOK_URL": "https://bot.example.org/tg",
                "WEBHOOK_SECRET": "benchmark-secret-0123456789",
                "PORT": str(port),
            }
            start = time.perf_counter()
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "telegram"], cwd=tempfile.mkdtemp(), env=child,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            try:
                while True:
                    try:
                        if await asyncio.to_thread(_status, f"http://127.0.0.1:{port}/readyz") == 200:
                            return time.perf_counter() - start
                    except OSError:
                        pass
                    if process.poll() is not None:
                        raise RuntimeError("the replica exited")
                    await asyncio.sleep(0.1)
            finally:
                process.terminate()
                process.wait(timeout=30)

    return asyncio.run(run())


def main() -> None:
    questions = [
        json.loads(line)["q"] for line in (ROOT / "tests/data/dev_questions.jsonl").open(encoding="utf-8")
    ]
    base = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "CHROMA_", "TELEGRAM_"))}
    base["PYTHONPATH"] = str(ROOT)
    with ChromaServer(Path(tempfile.mkdtemp(prefix="bench-chroma-")) / "db") as chroma:
        served = {**base, **chroma.env, "BOT_DATA_DIR": tempfile.mkdtemp(prefix="bench-reader-")}
        wall, out = timed([sys.executable, "-m", "bot", "index"], served)
        print(f"index build into the Chroma server: {wall:.1f} s wall  ({out})")
        embedded = {**base, "BOT_DATA_DIR": tempfile.mkdtemp(prefix="bench-embedded-")}
        wall, out = timed([sys.executable, "-m", "bot", "index"], embedded)
        print(f"index build, embedded:              {wall:.1f} s wall  ({out})")

        model = BundledE5Embeddings()
        server_ms, server_answers = warm_latencies(Settings.from_env(served), model, questions)
        local_ms, local_answers = warm_latencies(Settings.from_env(embedded), model, questions)
        print(f"warm ask over {len(questions)} questions, Chroma server: {summary(server_ms)}")
        print(f"warm ask over {len(questions)} questions, embedded:      {summary(local_ms)}")
        same = sum(a == b for a, b in zip(server_answers, local_answers, strict=True))
        print(f"same decision and first source: {same}/{len(questions)}")
        print(f"webhook replica start to /readyz 200: {replica_ready_seconds(served):.1f} s")


if __name__ == "__main__":
    main()
