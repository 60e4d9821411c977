"""Seeded ids (docs/protocol.md §1.8): the sequence a seed gives is part of what users record and compare, so a
faster spelling must draw exactly the same bytes."""

from __future__ import annotations

import random
import string

from mockrt.core.ids import IdGenerator

_ALPHABET = string.ascii_letters + string.digits


def _reference_chars(rng: random.Random, n: int) -> str:
    """The generator as first written: ``randbytes(n + 4)``, bytes >= 248 rejected, the rest modulo 62."""
    out = [b for b in rng.randbytes(n + 4) if b < 248]
    while len(out) < n:
        out += [b for b in rng.randbytes(n + 4) if b < 248]
    return "".join(_ALPHABET[b % 62] for b in out[:n])


def test_ids_are_the_seeded_sequence_of_randbytes() -> None:
    for seed in (0, 1, "sess-7", 2**40):
        ids, rng = IdGenerator(seed), random.Random(seed)
        for i in range(3000):  # long enough to meet the rejection loop (5 or more of 25 bytes >= 248)
            if i % 3 == 0:
                assert ids.event() == "event_" + _reference_chars(rng, 21)
            elif i % 3 == 1:
                assert ids.call() == "call_" + _reference_chars(rng, 16)
            else:
                assert ids.obfuscation(i % 20) == _reference_chars(rng, max(4, 16 - min(i % 20, 12)))


def test_ids_are_well_formed() -> None:
    ids = IdGenerator(3)
    event, item = ids.event(), ids.item()
    assert event.startswith("event_") and len(event) == 27 and event[6:].isalnum()
    assert item.startswith("item_") and len(item) == 26
