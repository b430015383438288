"""A throwaway PostgreSQL cluster for tests and benchmarks: Debian's server binaries, no service.

``Cluster.start()`` runs ``initdb`` and ``pg_ctl`` into a new directory (as the ``postgres``
user when run as root, since the server refuses root), listening on a Unix socket in that directory
(trust, for the test's own administration) and on 127.0.0.1 at a free port, where the role
``wgsdn`` logs in with a password (scram-sha-256), as a controller or AWX would. ``stop`` ends it.
Nothing is installed here: ``tools/host-packages.sh`` installs Debian's ``postgresql``.
"""

import contextlib
import glob
import os
import pathlib
import pwd
import shutil
import socket
import subprocess
import tempfile

PASSWORD = "wgsdn-test-password"
USER = "wgsdn"


def server_bin():
    """The directory of Debian's PostgreSQL server binaries (the newest), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(pathlib.Path(p).parts[-3]))
    return str(pathlib.Path(found[-1]).parent) if found else None


MISSING = "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run tools/host-packages.sh as root, or apt-get install postgresql"


def free_port():
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    def __init__(self, directory, port):
        self.directory = pathlib.Path(directory)
        self.data = self.directory / "data"
        self.port = port
        self.bin = server_bin()

    @property
    def dsn(self):
        """What a controller is given: TCP, password authentication."""
        return f"host=127.0.0.1 port={self.port} dbname=wgsdn user={USER} password={PASSWORD} connect_timeout=5"

    @property
    def env(self):
        """The same as the PG* environment variables an AWX credential injects."""
        return {"PGHOST": "127.0.0.1", "PGPORT": str(self.port), "PGDATABASE": "wgsdn", "PGUSER": USER, "PGPASSWORD": PASSWORD}

    @property
    def admin_dsn(self):
        return f"host={self.directory} port={self.port} dbname=wgsdn user=postgres"

    def _run(self, *argv):
        command = [str(a) for a in argv]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, text=True)

    @classmethod
    def start(cls):
        """A new cluster in a new directory under /tmp (the postgres user must reach it: not under pytest's 0700 tmp)."""
        cluster = cls(tempfile.mkdtemp(prefix="wgsdn-pg-"), free_port())
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(cluster.directory, account.pw_uid, account.pw_gid)
        cluster.directory.chmod(0o755)
        password_file = cluster.directory / "pwfile"
        password_file.write_text("postgres\n")
        if os.geteuid() == 0:
            shutil.chown(password_file, "postgres")
        cluster._run(
            f"{cluster.bin}/initdb",
            "-D",
            cluster.data,
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--pwfile",
            password_file,
            "-E",
            "UTF8",
            "--no-sync",
        )
        options = f"-c listen_addresses=127.0.0.1 -c port={cluster.port} -c unix_socket_directories={cluster.directory} -c fsync=off -c max_connections=60"
        cluster._run(f"{cluster.bin}/pg_ctl", "-D", cluster.data, "-o", options, "-l", cluster.directory / "log", "-w", "-t", "60", "start")
        cluster.psql(f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'", dbname="postgres")
        cluster.psql(f"CREATE DATABASE wgsdn OWNER {USER}", dbname="postgres")
        return cluster

    def psql(self, sql, dbname="wgsdn"):
        """Run ``sql`` as the superuser over the socket; its output (unaligned, tuples only)."""
        command = [
            f"{self.bin}/psql",
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            str(self.directory),
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            dbname,
            "-c",
            sql,
        ]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout

    def reset(self):
        """An empty database for the next test."""
        self.psql("DROP DATABASE IF EXISTS wgsdn WITH (FORCE)", dbname="postgres")
        self.psql(f"CREATE DATABASE wgsdn OWNER {USER}", dbname="postgres")

    def stop(self):
        self._run(f"{self.bin}/pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)
