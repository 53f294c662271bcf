"""A real PostgreSQL primary and its streaming replica, in temporary directories.

The machine's own cluster does not accept replication connections (its pg_hba.conf has no
``replication`` line, and that file cannot be changed with ALTER SYSTEM), so the pair is built
from the same binaries: initdb, pg_basebackup -R (a standby that streams from the primary),
each postmaster on a free loopback port. PostgreSQL refuses to run as root, so when the tests
run as root the clusters belong to the ``postgres`` user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_basebackup"))
    if found:
        return Path(found[-1]).parent
    which = shutil.which("pg_basebackup")
    return Path(which).parent if which else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    data: Path
    port: int

    def url(self, db: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"


class ReplicaPair:
    def __init__(self) -> None:
        binaries = pg_bin()
        if binaries is None:
            raise RuntimeError("PostgreSQL server binaries not found")
        self.bin = binaries
        self.as_postgres = os.geteuid() == 0
        self.root = Path(tempfile.mkdtemp(prefix="crm-replica-"))
        os.chmod(self.root, 0o755)
        if self.as_postgres:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        self.primary = Cluster(self.root / "primary", _free_port())
        self.standby = Cluster(self.root / "standby", _free_port())
        self.started: list[Cluster] = []

    def _run(self, *args: str) -> None:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def _start(self, cluster: Cluster) -> None:
        opts = (
            f"-p {cluster.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
            "-c shared_buffers=16MB -c max_connections=30 -c fsync=off -c full_page_writes=off"
        )
        log = str(self.root / f"{cluster.data.name}.log")
        self._run("pg_ctl", "-D", str(cluster.data), "-l", log, "-o", opts, "-w", "start")
        self.started.append(cluster)

    def start(self) -> None:
        # initdb's trust pg_hba.conf allows replication from 127.0.0.1; wal_level is replica.
        self._run("initdb", "-D", str(self.primary.data), "-U", "postgres", "-A", "trust")
        self._start(self.primary)
        self._run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary.port), "-U", "postgres",
            "-D", str(self.standby.data), "-R", "-X", "stream", "-c", "fast",
        )  # fmt: skip
        self._start(self.standby)
        self._wait_streaming()

    def _wait_streaming(self) -> None:
        import psycopg

        deadline = time.monotonic() + 60
        with psycopg.connect(self.primary.url("postgres"), autocommit=True) as conn:
            while time.monotonic() < deadline:
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
                ).fetchone()
                if row and row[0]:
                    return
                time.sleep(0.2)
        raise RuntimeError("the standby never started streaming")

    def stop(self) -> None:
        for cluster in reversed(self.started):
            try:
                self._run("pg_ctl", "-D", str(cluster.data), "-m", "immediate", "-w", "stop")
            except subprocess.CalledProcessError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)
