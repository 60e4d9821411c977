"""The ``mockrt`` command line, run as a user runs it (subprocesses, real ports)."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from openai import OpenAI
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from mockrt import __version__
from mockrt.server.workers import listening_sockets

SCENARIOS = Path(__file__).resolve().parent.parent / "fixtures" / "scenarios"


@contextmanager
def serving(*args: str, env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = subprocess.Popen([sys.executable, "-m", "mockrt", "serve", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the server prints its address once it is listening
        match = re.search(r"https?://127\.0\.0\.1:(\d+)", line)
        assert match, f"unexpected first line {line!r}; stderr: {proc.stderr.read() if proc.stderr else ''}"
        yield proc, f"127.0.0.1:{match.group(1)}"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=15)  # also closes the pipes


def test_version() -> None:
    out = subprocess.run([sys.executable, "-m", "mockrt", "version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == __version__


def test_serve_port_zero_from_env_with_a_scenario() -> None:
    env = {"MOCKRT_PORT": "0", "MOCKRT_SCENARIO": str(SCENARIOS / "greeting.yaml")}
    with serving(env=env) as (_, addr):
        assert httpx.get(f"http://{addr}/healthz").text == "ok"
        client = OpenAI(base_url=f"http://{addr}/v1", api_key="sk-x")
        with client.realtime.connect(model="gpt-realtime") as conn:
            conn.response.create(response={"output_modalities": ["text"]})
            done = next(e for e in conn if e.type == "response.done")
        assert done.response.output[0].content[0].text.startswith("Hi!")  # type: ignore[union-attr,index]


def test_api_keys_and_admin_token_flags() -> None:
    with serving("--port", "0", "--api-key", "sk-one-key-1234567890", "--admin-token", "adm") as (_, addr):
        with connect(f"ws://{addr}/v1/realtime?model=gpt-realtime") as ws:
            assert json.loads(ws.recv(timeout=5))["error"]["message"].startswith("Missing bearer")
        assert httpx.get(f"http://{addr}/_mockrt/sessions").status_code == 401
        assert httpx.get(f"http://{addr}/_mockrt/sessions", headers={"Authorization": "Bearer adm"}).status_code == 200


def test_json_logs_carry_the_session_id_and_elide_audio() -> None:
    with serving("--port", "0", "--log-format", "json", "--log-level", "debug") as (proc, addr):
        with connect(f"ws://{addr}/v1/realtime?model=gpt-realtime") as ws:
            session_id = json.loads(ws.recv(timeout=5))["session"]["id"]
            ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": "AAAA" * 4000}))
            ws.send(json.dumps({"type": "input_audio_buffer.clear"}))
            assert json.loads(ws.recv(timeout=5))["type"] == "input_audio_buffer.cleared"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    mine = [r for r in records if r["session_id"] == session_id]
    assert any("session started" in r["message"] for r in mine)
    assert any("input_audio_buffer.cleared" in r["message"] for r in mine)
    assert "AAAAAAAA" not in err  # audio payloads are elided


def test_sigterm_closes_sessions_with_1001_and_exits() -> None:
    with serving("--port", "0") as (proc, addr), connect(f"ws://{addr}/v1/realtime?model=gpt-realtime") as ws:
        ws.recv(timeout=5)
        proc.send_signal(signal.SIGTERM)
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=10)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1001
        # uvicorn re-raises the captured SIGTERM after its graceful shutdown, the conventional exit status.
        assert proc.wait(timeout=10) in (0, -signal.SIGTERM)


def test_workers_each_listen_on_their_own_socket_of_the_banner_port_and_share_the_sessions() -> None:
    with serving("--port", "0", "--workers", "2") as (proc, addr):
        port = int(addr.rsplit(":", 1)[1])
        workers = _workers(proc.pid, port, 2)
        sockets = {pid: _listening(pid, port) for pid in workers}
        assert all(len(inodes) == 1 for inodes in sockets.values())
        assert len(set.union(*sockets.values())) == 2  # not one socket shared: one each (SO_REUSEPORT)
        assert _listening(proc.pid, port) == set.union(*sockets.values())  # the parent keeps them for replacements
        with ExitStack() as stack:
            for _ in range(40):
                ws = stack.enter_context(connect(f"ws://{addr}/v1/realtime?model=gpt-realtime", open_timeout=60))
                assert json.loads(ws.recv(timeout=10))["type"] == "session.created"
            served = {pid: _established(pid, port) for pid in workers}
        # Linux spreads connections over the group by a hash of their ports: fewer than 6 of 40 on one worker
        # has a probability near 1e-6 (one socket shared by both gave one worker almost all of them under load).
        assert sum(served.values()) == 40 and min(served.values()) >= 6, served


def test_a_killed_worker_is_replaced_on_its_socket_which_keeps_its_connections_meanwhile() -> None:
    with serving("--port", "0", "--workers", "2") as (proc, addr):
        port = int(addr.rsplit(":", 1)[1])
        victim, survivor = _workers(proc.pid, port, 2)
        (inode,) = _listening(victim, port)
        os.kill(victim, signal.SIGKILL)
        with ExitStack() as stack:
            for _ in range(20):  # those the kernel hashes to the dead worker's socket wait for its replacement
                ws = stack.enter_context(connect(f"ws://{addr}/v1/realtime?model=gpt-realtime", open_timeout=60))
                assert json.loads(ws.recv(timeout=10))["type"] == "session.created"
            (replacement,) = set(_workers(proc.pid, port, 2)) - {survivor}
            assert replacement != victim and _listening(replacement, port) == {inode}
            # 20 connections all hashed to the survivor's socket: a probability near 1e-6
            assert _established(replacement, port) >= 1 and _established(survivor, port) >= 1
        os.kill(proc.pid, signal.SIGTTIN)  # one more worker, on a new socket of the same port
        third = set(_workers(proc.pid, port, 3)) - {survivor, replacement}
        assert len(set.union(*(_listening(pid, port) for pid in [survivor, replacement, *third]))) == 3
        os.kill(proc.pid, signal.SIGTTOU)  # and one fewer: the parent lets go of its socket
        _workers(proc.pid, port, 2)
        assert _until(lambda: len(_listening(proc.pid, port)) == 2)


def test_a_second_server_on_the_port_of_workers_is_refused() -> None:
    with serving("--port", "0", "--workers", "2") as (_, addr):
        port = addr.rsplit(":", 1)[1]
        second = subprocess.run([sys.executable, "-m", "mockrt", "serve", "--port", port, "--workers", "2"],
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 3 and "mockrt listening" not in second.stdout  # uvicorn's startup failure
        assert "Address already in use" in second.stderr


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_worker_sockets_are_one_reuseport_group_on_one_port(host: str) -> None:
    slots = listening_sockets(uvicorn.Config(app=None, host=host, port=0), 3)
    try:
        ports = {slot[0].getsockname()[1] for slot in slots}
        assert len(ports) == 1 and len({id(slot[0]) for slot in slots}) == 3
        assert all(slot[0].getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) for slot in slots)
        with socket.create_connection((host, ports.pop()), timeout=10):
            pass  # the kernel completes the handshake on one of them
    finally:
        for slot in slots:
            slot[0].close()


def test_worker_sockets_without_reuseport_are_one_shared_socket(monkeypatch: pytest.MonkeyPatch,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delattr(socket, "SO_REUSEPORT")
    with caplog.at_level(logging.INFO, "mockrt.server"):
        slots = listening_sockets(uvicorn.Config(app=None, host="127.0.0.1", port=0), 2)
    try:
        assert slots[0] == slots[1] and len(slots[0]) == 1
        assert "the 2 workers share one listening socket" in caplog.text
    finally:
        slots[0][0].close()


def test_workers_that_fail_to_start_stop_the_supervisor_before_any_banner() -> None:
    script = ("import uvicorn; from mockrt.server.workers import Supervisor, listening_sockets; "
              "uv = uvicorn.Config('mockrt.no_such_module:app', port=0, workers=2, timeout_worker_healthcheck=60); "
              "Supervisor(uv, listening_sockets(uv, 2), on_ready=lambda: print('ready', flush=True)).run()")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout == "", done.stderr  # uvicorn's supervisor returns when it stops
    assert "failed to start, stopping the parent process" in done.stderr


def _until(condition: Callable[[], bool], timeout: float = 60) -> bool:
    """Poll ``condition`` (a process tree in /proc changes with no event to await) until true or ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _workers(parent: int, port: int, count: int) -> list[int]:
    """The pids of ``parent``'s children that listen on ``port``, once there are ``count`` of them."""
    found: list[int] = []

    def ready() -> bool:
        found[:] = [pid for pid in _children(parent) if _listening(pid, port)]
        return len(found) == count

    assert _until(ready), f"workers listening on {port}: {found}, expected {count}"
    return found


def _children(parent: int) -> list[int]:
    children = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                children.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
    return children


def _tcp(pid: int, port: int, state: str) -> set[int]:
    """The inodes of ``pid``'s TCP sockets on local ``port`` in ``state`` (/proc/net/tcp: 0A listen, 01 established)."""
    held = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return set()  # gone meanwhile
    for fd in fds:
        try:
            held.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue  # closed between listing and reading it
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state and f"socket:[{fields[9]}]" in held:
                inodes.add(int(fields[9]))
    return inodes


def _listening(pid: int, port: int) -> set[int]:
    return _tcp(pid, port, "0A")


def _established(pid: int, port: int) -> int:
    return len(_tcp(pid, port, "01"))
