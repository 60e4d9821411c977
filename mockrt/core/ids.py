"""Seedable id generation (docs/protocol.md §1.8).

Server event ids are ``event_`` + 21 base-62 characters; sessions, conversations, items and responses use
``sess_``/``conv_``/``item_``/``resp_`` + 21 characters; function ``call_id`` is ``call_`` + 16 characters;
ephemeral keys are ``ek_`` + 32 hex digits. A seeded generator makes whole sessions reproducible.
"""

from __future__ import annotations

import random
import string

_ALPHABET = string.ascii_letters + string.digits
# Bytes 0..247 map uniformly onto the 62 characters (4 × 62 = 248); larger bytes are rejected.
_TABLE = bytes((_ALPHABET * 5)[:248], "ascii") + b"\x00" * 8
_REJECTED = bytes(range(248, 256))


class IdGenerator:
    """Deterministic ids for one session; two generators with the same seed yield the same sequence."""

    __slots__ = ("_bits", "_rng")

    def __init__(self, seed: int | str | None = None) -> None:
        self._rng = random.Random(seed)
        self._bits = self._rng.getrandbits

    def _chars(self, n: int) -> str:
        # One draw of random bytes per id instead of one random.choice per character (ids are on the hot path:
        # every server event has one). Rejection sampling keeps the characters uniform. The bytes are
        # ``Random.randbytes(n + 4)``, spelled out (the same draw, one Python call less).
        size = n + 4
        out = self._bits(size * 8).to_bytes(size, "little").translate(_TABLE, _REJECTED)  # drops bytes >= 248
        return out[:n].decode("ascii") if len(out) >= n else self._more(out, n)

    def _more(self, out: bytes, n: int) -> str:
        """``out`` (too short: too many bytes rejected) completed by further draws of ``n + 4`` bytes."""
        size = n + 4
        while len(out) < n:
            out += self._bits(size * 8).to_bytes(size, "little").translate(_TABLE, _REJECTED)
        return out[:n].decode("ascii")

    def event(self) -> str:
        # _chars(21) spelled out: the id of every server event, one Python call less (the same draw).
        out = self._bits(200).to_bytes(25, "little").translate(_TABLE, _REJECTED)
        return "event_" + (out[:21].decode("ascii") if len(out) >= 21 else self._more(out, 21))

    def session(self) -> str:
        return "sess_" + self._chars(21)

    def conversation(self) -> str:
        return "conv_" + self._chars(21)

    def item(self) -> str:
        return "item_" + self._chars(21)

    def response(self) -> str:
        return "resp_" + self._chars(21)

    def call(self) -> str:
        return "call_" + self._chars(16)

    def obfuscation(self, delta_len: int) -> str:
        """Padding string for GA text-like deltas (§3.1): 10–16 chars, shorter for longer deltas."""
        return self._chars(max(4, 16 - min(delta_len, 12)))

    def ephemeral_key(self) -> str:
        return "ek_" + "".join(self._rng.choice("0123456789abcdef") for _ in range(32))

    def fraction(self) -> float:
        return self._rng.random()
