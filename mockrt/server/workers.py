"""``mockrt serve --workers N``: one listening socket per worker, all on the same port (``SO_REUSEPORT``).

With one socket shared by every worker, each worker's event loop races the others to ``accept()`` it, and the
busiest one tends to win: under load one worker served almost every session while the other idled (issue 14).
Linux instead spreads new connections over the sockets of a ``SO_REUSEPORT`` group by a hash of the connection's
addresses and ports, so each worker here listens on its own socket of one group. The parent creates and binds them
all (``--port 0`` then yields one port, the one the banner prints) and keeps them open, so the connections queued
on a dead worker's socket wait there until its replacement accepts them.

Where ``SO_REUSEPORT`` is missing (or refused), the workers share one socket as before, and a log line says so.
"""

from __future__ import annotations

import logging
import socket
import sys
import time
from collections.abc import Callable

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Multiprocess, Process

logger = logging.getLogger("mockrt.server")


def listening_sockets(config: Config, workers: int) -> list[list[socket.socket]]:
    """The listening sockets of ``workers`` workers on ``config``'s host and port, one list per worker: a socket
    each in one ``SO_REUSEPORT`` group, or the same shared socket in every list where that option is unavailable.

    A port something already listens on is refused, as without ``SO_REUSEPORT`` (a second ``mockrt serve`` on the
    port of a first must not quietly join its group): a plain probe socket takes the port first (or picks the free
    one for ``--port 0``), and the group binds beside it before it closes (Linux lets ``SO_REUSEADDR`` sockets share
    a port while none of them listens). A bind that fails is logged and exits with uvicorn's startup-failure status,
    as uvicorn's own bind does."""
    group: list[socket.socket] = []
    try:
        with _socket(config) as probe:
            try:
                probe.bind((config.host, config.port))
            except OSError as exc:
                logger.error(exc)
                sys.exit(STARTUP_FAILURE)
            port = probe.getsockname()[1]  # the port --port 0 was given: every worker listens on this one
            for _ in range(workers):
                group.append(_member(config, port))
    except _NoReusePort as exc:
        for sock in group:
            sock.close()
        logger.info("SO_REUSEPORT is not available (%s): the %d workers share one listening socket, and each "
                    "connection goes to whichever worker accepts it first", exc, workers)
        shared = config.bind_socket()
        shared.listen(config.backlog)
        return [[shared]] * workers
    except BaseException:
        for sock in group:
            sock.close()
        raise
    return [[sock] for sock in group]


class _NoReusePort(Exception):
    """The platform or the kernel has no ``SO_REUSEPORT``."""


def _socket(config: Config) -> socket.socket:
    """A TCP socket with ``SO_REUSEADDR``, of the address family uvicorn's rule gives (a host with a colon is IPv6)."""
    family = socket.AF_INET6 if config.host and ":" in config.host else socket.AF_INET
    sock = socket.socket(family=family, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return sock


def _member(config: Config, port: int) -> socket.socket:
    """A new listening socket of the ``SO_REUSEPORT`` group on ``port``, inheritable by a worker."""
    sock = _socket(config)
    try:
        option = getattr(socket, "SO_REUSEPORT", None)
        if option is None:
            raise _NoReusePort("the platform has no such option")
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, 1)
        except OSError as exc:
            raise _NoReusePort(str(exc)) from exc
        sock.bind((config.host, port))
        sock.listen(config.backlog)  # connections queue up until the worker accepts them
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class Supervisor(Multiprocess):
    """uvicorn's worker supervisor (health checks, restart of a dead or hung worker, stop when a worker fails to
    start, SIGHUP restarts, SIGTTIN/SIGTTOU, SIGINT/SIGTERM shutdown), with worker ``i`` always given the sockets
    ``slots[i]`` (from :func:`listening_sockets`) instead of one list for all.

    uvicorn hands every worker it starts the same ``self.sockets``. Rather than copy its loops to change that one
    argument, the overrides run uvicorn's own method on a one-worker view (``self.processes`` holding that worker,
    ``self.sockets`` its slot) and store the worker it left back in the slot. The overridden methods are exactly
    the ones that start a worker.
    """

    def __init__(self, config: Config, slots: list[list[socket.socket]],
                 on_ready: Callable[[], None] = lambda: None) -> None:
        super().__init__(config, sockets=[])
        self.slots = slots
        self.shared = len(slots) > 1 and all(slot == slots[0] for slot in slots)
        self.on_ready = on_ready

    def init_processes(self) -> None:
        """Start the workers, then call ``on_ready`` once they all serve (as ``mockrt serve`` with one worker prints
        its banner once it serves), or once the health-check timeout has passed (connections wait on the sockets
        meanwhile), but not when a worker failed to start: the supervisor's loop then stops."""
        for sockets in self.slots:
            process = Process(self.config, sockets)
            process.start()
            self.processes.append(process)
        deadline = time.monotonic() + self.config.timeout_worker_healthcheck
        for process in self.processes:
            if not process.wait_until_ready(deadline - time.monotonic(), self.should_exit):
                break
        if all(process.exitcode != STARTUP_FAILURE for process in self.processes):
            self.on_ready()

    def keep_subprocess_alive(self) -> None:
        self._per_slot(super().keep_subprocess_alive, stop_when_kept=False)

    def restart_all(self) -> None:
        # uvicorn keeps the old worker and abandons the restart when a replacement is not ready in time.
        self._per_slot(super().restart_all, stop_when_kept=True)

    def _per_slot(self, method: Callable[[], None], stop_when_kept: bool) -> None:
        processes = self.processes
        try:
            for index, process in enumerate(processes):
                if self.should_exit.is_set():
                    return
                self.processes, self.sockets = [process], self.slots[index]
                method()
                processes[index] = self.processes[0]
                if stop_when_kept and processes[index] is process:
                    return
        finally:
            self.processes, self.sockets = processes, []

    def handle_ttin(self) -> None:
        """One more worker, on a new socket of the group (or the shared one)."""
        slot = self.slots[0]
        if not self.shared:
            try:
                slot = [_member(self.config, self.slots[0][0].getsockname()[1])]
            except (OSError, _NoReusePort) as exc:
                logger.error("no socket for another worker: %s", exc)
                return
        self.sockets = slot
        try:
            super().handle_ttin()
        finally:
            self.sockets = []
        self.slots.append(slot)

    def handle_ttou(self) -> None:
        """One worker fewer; its socket leaves the group, so the connections still queued on it are reset."""
        before = len(self.processes)
        super().handle_ttou()
        if len(self.processes) < before:
            slot = self.slots.pop()
            if not self.shared:
                for sock in slot:
                    sock.close()
