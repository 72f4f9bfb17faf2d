"""``manage.py run``: the whole system in one command.

A small supervisor starts every process in ``PROCESSES`` as a child: the web server
(gunicorn), the background worker (django-tasks-db) and the scheduler. SIGINT/SIGTERM are
forwarded to the children; if any child dies, the others are stopped and the supervisor
exits non-zero, so systemd, Docker or a shell loop sees the failure and restarts it.

On a bigger installation run the parts separately, e.g. ``run --only web`` on web nodes
and ``run --only worker,scheduler`` on worker nodes (schedulers may run on several nodes).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from argparse import ArgumentParser
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Protocol

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from delegate.env import ConfigError, env_int, env_str


def manage(*args: str) -> list[str]:
    return [sys.executable, str(settings.BASE_DIR / "manage.py"), *args]


def bind_address() -> str:
    bind = env_str("BIND", "127.0.0.1:8000")
    if not bind.startswith("unix:"):
        host, _, port = bind.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"BIND must be host:port or unix:/path, got {bind!r}")
    return bind


def gunicorn() -> list[str]:
    return [
        sys.executable, "-m", "gunicorn", "delegate.wsgi:application",
        "--chdir", str(settings.BASE_DIR),
        "--bind", bind_address(),
        # Requests are CPU-bound Python: processes scale, threads mostly fight over the GIL
        # (bench/api measured ~1.5x more creates/s with 3x1 than with 2x4 on 2 cores).
        "--workers", str(env_int("WEB_WORKERS", (os.cpu_count() or 1) + 1, minimum=1)),
        "--threads", str(env_int("WEB_THREADS", 1, minimum=1)),
        "--timeout", str(env_int("WEB_TIMEOUT", 60, minimum=1)),
        "--graceful-timeout", "20",
        "--access-logfile", env_str("WEB_ACCESS_LOG", "-"),
        "--forwarded-allow-ips", env_str("FORWARDED_ALLOW_IPS", "127.0.0.1,::1"),
        # The control socket defaults to one path per user: two instances would collide.
        "--no-control-socket",
    ]  # fmt: skip


# The processes `run` starts, in this order. Adding one is one line, e.g.
#     "smtp": lambda: manage("smtp_intake"),
PROCESSES: dict[str, Callable[[], list[str]]] = {
    "web": gunicorn,
    "worker": lambda: manage("db_worker", "--no-reload", "--queue-name", "*"),
    "scheduler": lambda: manage("scheduler"),
    "smtp": lambda: manage("smtp_intake"),
    "imap": lambda: manage("imap_intake"),
}


def url_for(bind: str) -> str:
    if bind.startswith("unix:"):
        return bind
    host, _, port = bind.rpartition(":")
    host = {"0.0.0.0": "127.0.0.1", "[::]": "[::1]", "": "127.0.0.1"}.get(host, host)  # noqa: S104
    return f"http://{host}:{port}/"


def is_listening(bind: str) -> bool:
    if bind.startswith("unix:"):
        return os.path.exists(bind.removeprefix("unix:"))
    host, _, port = url_for(bind).removeprefix("http://").rstrip("/").rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=0.2):
            return True
    except OSError:
        return False


def die_with_parent_hook() -> Callable[[], None] | None:
    """A ``preexec_fn`` asking Linux to send the child SIGTERM when the supervisor dies,
    so a SIGKILLed supervisor leaves no orphans behind. The symbol is looked up here, in
    the parent: the hook itself must not load libraries between fork and exec."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def hook() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM)

    return hook


class Output(Protocol):
    def write(self, msg: str, /) -> Any: ...
    def flush(self) -> Any: ...


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()


class Supervisor:
    def __init__(
        self,
        commands: dict[str, list[str]],
        *,
        grace_seconds: float = 30,
        out: Output = sys.stdout,
        on_started: Callable[[], bool] | None = None,
    ) -> None:
        self.children = [Child(name, argv) for name, argv in commands.items()]
        self.grace_seconds = grace_seconds
        self.out = out
        # Polled until it returns True, e.g. to announce the URL once the port is open.
        self.on_started = on_started
        self.stop_signal: int | None = None

    def request_stop(self, signum: int, frame: FrameType | None = None) -> None:
        self.stop_signal = signum

    def say(self, message: str) -> None:
        self.out.write(f"[run] {message}\n")
        self.out.flush()

    def run(self, *, handle_signals: bool = True) -> int:
        """Start the children and watch them; return the exit code for the supervisor."""
        previous = {}
        if handle_signals:
            for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                previous[signum] = signal.signal(signum, self.request_stop)
        try:
            self.start()
            return self.watch()
        finally:
            self.stop()
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def start(self) -> None:
        for child in self.children:
            if self.stop_signal is not None:
                return
            # A process group of its own: Ctrl-C in the terminal reaches only the
            # supervisor, which then stops every child once and in order.
            child.process = subprocess.Popen(  # noqa: S603
                child.argv, process_group=0, preexec_fn=die_with_parent_hook()
            )
            self.say(f"started {child.name} (pid {child.process.pid})")

    def watch(self) -> int:
        announced = self.on_started is None
        while True:
            if self.stop_signal is not None:
                self.say(f"received {signal.Signals(self.stop_signal).name}, stopping")
                return 0 if self.stop() else 1
            for child in self.children:
                code = child.returncode
                if code is not None:
                    self.say(f"{child.name} exited with code {code}; stopping the others")
                    self.stop()
                    return code if code > 0 else 1
            if not announced and self.on_started is not None:
                announced = self.on_started()
            time.sleep(0.2)

    def stop(self) -> bool:
        """Stop all children: SIGTERM, then SIGKILL after the grace period. Return whether
        every child had exited or stopped cleanly."""
        running = [c for c in self.children if c.process and c.returncode is None]
        for child in running:
            assert child.process is not None
            with contextlib.suppress(ProcessLookupError):
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace_seconds
        clean = True
        for child in running:
            assert child.process is not None
            try:
                child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(f"{child.name} did not stop in {self.grace_seconds}s, killing it")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait()
                clean = False
            else:
                self.say(f"stopped {child.name}")
            if child.process.returncode not in (0, -signal.SIGTERM, -signal.SIGINT):
                clean = False
        return clean


class Command(BaseCommand):
    help = "Run Delegate: web server (gunicorn), background worker, scheduler and SMTP intake."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--only",
            default=",".join(PROCESSES),
            help=f"Comma-separated processes to run, from {', '.join(PROCESSES)} (default: all).",
        )
        parser.add_argument(
            "--grace",
            type=float,
            default=30,
            help="Seconds children get to stop before they are killed (default: 30).",
        )

    def handle(self, *args: Any, only: str, grace: float, **options: Any) -> None:
        names = [name.strip() for name in only.split(",") if name.strip()]
        unknown = sorted(set(names) - set(PROCESSES))
        if unknown or not names:
            raise CommandError(
                f"--only: unknown process {', '.join(unknown) or '(none given)'}; "
                f"choose from {', '.join(PROCESSES)}"
            )
        try:
            commands = {name: PROCESSES[name]() for name in PROCESSES if name in names}
        except ConfigError as exc:
            raise CommandError(str(exc)) from exc

        supervisor = Supervisor(
            commands,
            grace_seconds=grace,
            out=self.stdout,
            on_started=self.announce_url if "web" in commands else None,
        )
        code = supervisor.run()
        if code:
            sys.exit(code)

    def announce_url(self) -> bool:
        bind = bind_address()
        if not is_listening(bind):
            return False
        self.stdout.write(self.style.SUCCESS(f"Delegate is running at {url_for(bind)}"))
        self.stdout.write("Press Ctrl+C to stop.")
        self.stdout.flush()
        return True
