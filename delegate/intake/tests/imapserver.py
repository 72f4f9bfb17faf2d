"""A real Dovecot IMAP server for tests: its own config, users and maildirs in a temp
folder, on a free port, stopped at the end (never the system service)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

DOVECOT = "/usr/sbin/dovecot"


@dataclass
class ImapServer:
    host: str
    port: int
    users: dict[str, str]


def _free_port() -> int:
    # Dovecot cannot be told "port 0": ask the kernel for a free port and hand it over.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(root: Path, port: int, user: str) -> str:
    return f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {user}
default_login_user = {user}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={user} gid={user} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


@contextmanager
def dovecot(root: Path, users: dict[str, str]) -> Iterator[ImapServer]:
    if not Path(DOVECOT).exists():
        pytest.fail(f"{DOVECOT} is missing: `./bin/delegate test` installs dovecot-imapd")
    # Run as root, Dovecot drops to its own user; otherwise it runs as whoever we are.
    user = "dovecot" if os.getuid() == 0 else pwd.getpwuid(os.getuid()).pw_name
    for folder in ("run", "state", "mail"):
        (root / folder).mkdir(parents=True)
    (root / "users").write_text("".join(f"{u}:{{PLAIN}}{p}\n" for u, p in users.items()))
    if os.getuid() == 0:
        shutil.chown(root / "mail", user, user)
    port = _free_port()
    (root / "dovecot.conf").write_text(_config(root, port, user))
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                pytest.fail(f"dovecot did not start: {process.stderr.read()!r} {log}")  # type: ignore[union-attr]
            time.sleep(0.05)
        yield ImapServer("127.0.0.1", port, users)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
