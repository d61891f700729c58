"""A real Chroma server for tests: `chroma run` from the chromadb package, on 127.0.0.1 at a free port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

# The chroma CLI installed beside this interpreter (the venv's bin/).
CHROMA_CLI = Path(sys.executable).parent / "chroma"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ChromaServer:
    """`chroma run --path DIR --host 127.0.0.1 --port N` as a child process."""

    def __init__(self, path: Path, port: int | None = None) -> None:
        self.path = path
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self._process: subprocess.Popen | None = None
        self._log = path.parent / f"chroma-{self.port}.log"

    @property
    def env(self) -> dict[str, str]:
        """The bot's settings that point at this server."""
        return {"CHROMA_HOST": self.host, "CHROMA_PORT": str(self.port)}

    def start(self, timeout: float = 60.0) -> ChromaServer:
        """Start the server and wait until its heartbeat answers."""
        if not CHROMA_CLI.exists():
            raise RuntimeError(f"the chroma CLI is missing: {CHROMA_CLI} (pip install chromadb)")
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(
                [CHROMA_CLI, "run", "--path", self.path, "--host", self.host, "--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"chroma run exited with {self._process.returncode}: {self.log_tail()}")
            if self.is_alive():
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"chroma run did not answer its heartbeat in {timeout:.0f}s: {self.log_tail()}")

    def is_alive(self) -> bool:
        """True when the heartbeat endpoint answers."""
        url = f"http://{self.host}:{self.port}/api/v2/heartbeat"
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s)."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def log_tail(self, chars: int = 2000) -> str:
        """The end of the server's output, for failure messages."""
        try:
            return self._log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def __enter__(self) -> ChromaServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
