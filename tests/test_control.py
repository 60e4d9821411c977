"""The Python control API's hand-off to the server loop (mockrt/control.py)."""

from __future__ import annotations

import threading

import pytest

from mockrt.thread import ServerThread


def test_actions_run_on_the_server_loop_and_its_errors_reach_the_caller(mock: ServerThread) -> None:
    ran_on: list[str] = []
    mock.control._call(lambda: ran_on.append(threading.current_thread().name))
    assert ran_on == ["mockrt-server"]

    def fail() -> None:
        raise ValueError("raised on the loop")

    with pytest.raises(ValueError, match="raised on the loop"):
        mock.control._call(fail)
    mock.control.reset()  # the loop goes on
    assert mock.control.session_ids() == []
