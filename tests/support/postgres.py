"""A private PostgreSQL server for the tests: Debian's ``postgresql`` binaries
(``initdb``, ``pg_ctl``), a fresh cluster in a temporary folder, listening on a
free loopback port; run as the ``postgres`` user when the tests run as root
(PostgreSQL refuses to run as root). ``ASSISTANT_TEST_POSTGRES`` (a
``postgresql://`` URL) uses a server already running instead."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path


def postgres_bin() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl`` (newest Debian version), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """A running cluster; ``url(db)`` names one of its databases, ``create_database()`` makes a new one."""

    def __init__(self):
        self.external = os.environ.get("ASSISTANT_TEST_POSTGRES")
        self.folder: Path | None = None
        if self.external:
            self.base = self.external.rstrip("/")
            return
        binaries = postgres_bin()
        if binaries is None:
            raise RuntimeError("PostgreSQL is not installed (Debian package postgresql; .ci/run installs it)")
        self.folder = Path(tempfile.mkdtemp(prefix="assistant-pg-"))
        self.folder.chmod(0o755)
        data, sockets = self.folder / "data", self.folder / "sockets"
        sockets.mkdir()
        as_user: list[str] = []
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", "postgres:postgres", str(self.folder)], check=True)
            as_user = ["runuser", "-u", "postgres", "--"]
        self._pg_ctl = [*as_user, str(binaries / "pg_ctl"), "-D", str(data)]
        subprocess.run([*as_user, str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                        "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True)
        self.port = _free_port()
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {sockets} -c fsync=on "
                   "-c max_connections=200 -c shared_buffers=128MB")
        subprocess.run([*self._pg_ctl, "-o", options, "-l", str(self.folder / "server.log"), "-w", "-t", "60",
                        "start"], check=True, capture_output=True)
        self.base = f"postgresql://postgres@127.0.0.1:{self.port}"

    def url(self, database: str = "postgres") -> str:
        return f"{self.base.rsplit('/', 1)[0] if self.external else self.base}/{database}"

    def create_database(self, template: str | None = None) -> str:
        """A new database, empty or a copy of the one at URL ``template``
        (which nobody may be connected to); its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        copy = f' TEMPLATE "{template.rsplit("/", 1)[1]}"' if template else ""
        with psycopg.connect(self.url("postgres"), autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"{copy}')
        return self.url(name)

    def stop(self) -> None:
        if self.folder is None:
            return
        subprocess.run([*self._pg_ctl, "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)
