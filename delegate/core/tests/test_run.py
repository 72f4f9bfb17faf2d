from __future__ import annotations

import io
import os
import signal
import sys
import threading

import pytest
from django.core.management import CommandError, call_command

from delegate.core.management.commands.run import PROCESSES, Supervisor, gunicorn, url_for


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


SLEEPER = python("import time; time.sleep(60)")


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_it_stops_the_others_and_fails_when_a_child_dies() -> None:
    out = io.StringIO()
    supervisor = Supervisor(
        {"sleeper": SLEEPER, "crasher": python("import sys, time; time.sleep(0.3); sys.exit(3)")},
        grace_seconds=5,
        out=out,
    )

    assert supervisor.run(handle_signals=False) == 3

    sleeper = supervisor.children[0].process
    assert sleeper is not None
    assert sleeper.returncode == -signal.SIGTERM
    assert "crasher exited with code 3" in out.getvalue()


def test_it_fails_even_when_a_child_exits_cleanly() -> None:
    supervisor = Supervisor({"sleeper": SLEEPER, "quitter": python("pass")}, out=io.StringIO())
    assert supervisor.run(handle_signals=False) == 1


def test_it_forwards_a_stop_signal_to_every_child() -> None:
    supervisor = Supervisor({"one": SLEEPER, "two": SLEEPER}, grace_seconds=5, out=io.StringIO())
    threading.Timer(0.5, supervisor.request_stop, args=(signal.SIGTERM,)).start()

    assert supervisor.run(handle_signals=False) == 0

    for child in supervisor.children:
        assert child.process is not None
        assert child.process.returncode == -signal.SIGTERM
        assert not is_alive(child.process.pid)


def test_it_kills_a_child_that_ignores_the_stop_signal() -> None:
    stubborn = python(
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', "
        "flush=True); time.sleep(60)"
    )
    supervisor = Supervisor({"stubborn": stubborn}, grace_seconds=0.5, out=io.StringIO())
    threading.Timer(0.5, supervisor.request_stop, args=(signal.SIGINT,)).start()

    assert supervisor.run(handle_signals=False) == 1
    process = supervisor.children[0].process
    assert process is not None
    assert process.returncode == -signal.SIGKILL


def test_it_builds_the_web_command_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIND", "0.0.0.0:9000")
    monkeypatch.setenv("WEB_WORKERS", "3")
    argv = gunicorn()
    assert argv[argv.index("--bind") + 1] == "0.0.0.0:9000"
    assert argv[argv.index("--workers") + 1] == "3"
    assert "delegate.wsgi:application" in argv
    assert url_for("0.0.0.0:9000") == "http://127.0.0.1:9000/"


def test_it_refuses_a_malformed_bind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIND", "8000")
    with pytest.raises(CommandError, match="BIND"):
        call_command("run", "--only", "web")


def test_it_refuses_an_unknown_process_name() -> None:
    with pytest.raises(CommandError, match="unknown process mailer"):
        call_command("run", "--only", "web,mailer")


def test_it_starts_web_worker_and_scheduler_by_default() -> None:
    assert list(PROCESSES)[:3] == ["web", "worker", "scheduler"]
