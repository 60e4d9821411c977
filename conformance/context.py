"""What a case function receives: the target, the dialect, and a way to open recorded sessions."""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any

from conformance import audio
from conformance.client import HandshakeRefused, Session, Transcript
from conformance.targets import DEFAULT_MODEL, Target
from conformance.wire import canonical

if TYPE_CHECKING:
    from conformance.catalogue import Case

Json = dict[str, Any]

WAIT_CAP_S = 5.0
"""Longest single wait for an event on the mock (scaled by the target and the run's timeout scale)."""


class CaseSkipped(Exception):
    """The case cannot run here (fixtures missing, the target cannot express what it needs)."""


class Ctx:
    """The per-run context of one case on one target in one dialect."""

    def __init__(self, case: Case, target: Target, dialect: str, *, timeout_scale: float = 1.0) -> None:
        self.case = case
        self.target = target
        self.dialect = dialect
        scale = self.scale = target.timeout_scale * timeout_scale
        self.started = time.monotonic()
        self.deadline = self.started + case.timeout * scale
        self.wait_cap = WAIT_CAP_S * scale
        self.sessions: list[Session] = []
        self.transcripts: list[Transcript] = []

    @property
    def ga(self) -> bool:
        return self.dialect == "ga"

    @property
    def flavour(self) -> str:
        return self.target.flavour

    def skip(self, reason: str) -> None:
        raise CaseSkipped(reason)

    def clip(self, name: str) -> audio.Clip:
        """A speech fixture, or a skip saying where the fixtures were looked for."""
        try:
            return audio.speech(name)
        except audio.FixturesMissing as exc:
            raise CaseSkipped(str(exc)) from None

    def connect(self, *, auth: str = "key", model: Any = DEFAULT_MODEL, intent: str | None = None,
                paced: bool = False, expect_created: bool = True) -> Session:
        """Open a session; by default wait for (and keep) its first event, ``session.created``.

        ``paced=True`` asks for live-like timing: the case needs a response to still be in progress when its next
        event arrives (the mock target serves it from a paced server; live services are paced anyway).
        Raises :class:`~conformance.client.HandshakeRefused` when the upgrade is refused with an HTTP status.
        """
        unavailable = self.target.unavailable(self.dialect)
        if unavailable is not None:
            raise CaseSkipped(unavailable)
        endpoint = self.target.endpoint(self.dialect, model=model, intent=intent, auth=auth, paced=paced)
        transcript = Transcript(self.target.name, self.dialect, endpoint.url, self.case.id)
        self.transcripts.append(transcript)
        try:
            session = Session.open(endpoint.url, headers=endpoint.headers, subprotocols=endpoint.subprotocols,
                                   dialect=self.dialect, transcript=transcript, deadline=self.deadline,
                                   wait_cap=self.wait_cap, local=endpoint.local, scale=self.scale, tls=endpoint.tls)
        except HandshakeRefused:
            raise
        self.sessions.append(session)
        if expect_created:
            first = session.next()
            if canonical(str(first.get("type"))) not in ("session.created", "transcription_session.created"):
                from conformance.checks import CaseFailure

                raise CaseFailure(f"the first server event must be session.created (§3.3, §5.1), got {first!r:.300}")
            session.created = first
        return session

    def close(self) -> None:
        for session in self.sessions:
            with contextlib.suppress(Exception):  # closing is best effort; the case's own outcome stands
                session.close()

    # -- what the run observed (reports, coverage) ---------------------------------------------------------

    def tokens(self) -> dict[str, int]:
        total = inp = out = responses = 0
        for s in self.sessions:
            t, i, o, r = s.usage_tokens()
            total, inp, out, responses = total + t, inp + i, out + o, responses + r
        return {"total": total, "input": inp, "output": out, "responses": responses}

    def observed(self) -> dict[str, list[str]]:
        """Server event types received, client event types sent, client types rejected as unknown (§2)."""
        server: set[str] = set()
        sent: set[str] = set()
        rejected: set[str] = set()
        for s in self.sessions:
            sent.update(s.sent_types)
            for event in s.history:
                server.add(str(event.get("type")))
                error = event.get("error") if event.get("type") == "error" else None
                if isinstance(error, dict) and error.get("param") == "type" and error.get("code") == "invalid_value":
                    message = str(error.get("message", ""))
                    if message.startswith("Invalid value: '"):
                        rejected.add(message[len("Invalid value: '"):].split("'", 1)[0])
        return {"server": sorted(server), "client_sent": sorted(sent), "client_rejected": sorted(rejected)}

    def transcript_files(self) -> list[tuple[str, str]]:
        """``(suffix, jsonl)`` per session: ``""`` for the first, ``".s2"`` … for further sessions."""
        return [("" if i == 0 else f".s{i + 1}", t.dumps()) for i, t in enumerate(self.transcripts)]
