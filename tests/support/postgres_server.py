"""A throwaway PostgreSQL cluster for tests, from the distribution's packages (initdb, pg_ctl).

PostgreSQL refuses to run as root, so under root the cluster belongs to the
`postgres` user the Debian package creates, and every command runs through
`runuser`. The cluster listens on 127.0.0.1 at a free port with trust
authentication (nothing else can reach it) and is deleted when stopped.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support.chroma_server import free_port

USER = "bot"
DATABASE = "bot"


class PostgresUnavailable(RuntimeError):
    """The binaries, or a user to run them as, are missing: the caller skips with this reason."""


def find_bin_dir() -> Path:
    """The directory holding initdb and pg_ctl (Debian: /usr/lib/postgresql/<version>/bin)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version, reverse=True)
    if not candidates and shutil.which("initdb"):
        candidates = [shutil.which("initdb")]
    for initdb in candidates:
        bin_dir = Path(initdb).parent
        if (bin_dir / "pg_ctl").exists():
            return bin_dir
    raise PostgresUnavailable(
        "PostgreSQL's initdb and pg_ctl were not found (install them: apt-get install -y postgresql)"
    )


def _version(path: str) -> int:
    try:
        return int(Path(path).parent.parent.name)
    except ValueError:
        return 0


class PostgresServer:
    """One cluster in a temporary directory; `url` is the SQLAlchemy URL (psycopg 3)."""

    def __init__(self) -> None:
        self.bin_dir = find_bin_dir()
        self.port = free_port()
        self._run_as: list[str] = []
        self._owner: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                self._owner = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable(
                    "running as root and there is no 'postgres' user to run the server as"
                ) from None
            if not shutil.which("runuser"):
                raise PostgresUnavailable("running as root and runuser (util-linux) is missing")
            self._run_as = ["runuser", "-u", "postgres", "--"]
        # Not pytest's tmp_path: its parents are private to root, and the server
        # runs as another user.
        self.root = Path(tempfile.mkdtemp(prefix="pg-test-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"

    @property
    def url(self) -> str:
        """postgresql+psycopg://bot@127.0.0.1:PORT/bot"""
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, *args: str) -> None:
        result = subprocess.run([*self._run_as, *args], capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise PostgresUnavailable(
                f"{Path(args[0]).name} failed ({result.returncode}): {result.stderr.strip()[-1000:]} "
                f"{self._log_tail()}"
            )

    def _log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-1000:]
        except OSError:
            return ""

    def start(self) -> PostgresServer:
        """initdb, start on 127.0.0.1:port, and create the test database."""
        if self._owner is not None:
            os.chown(self.root, self._owner.pw_uid, self._owner.pw_gid)
        self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            USER,
            "--auth=trust",
            "--encoding=UTF8",
        )
        # -k: the socket in our directory, not /var/run/postgresql (absent or root's).
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off"
        pg_ctl = str(self.bin_dir / "pg_ctl")
        self._run(pg_ctl, "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        self._run(
            str(self.bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, DATABASE
        )
        return self

    def stop(self) -> None:
        """Stop the cluster and delete its files."""
        if (self.data / "postmaster.pid").exists():
            pg_ctl = str(self.bin_dir / "pg_ctl")
            subprocess.run(
                [*self._run_as, pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop"],
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(self.root, ignore_errors=True)
