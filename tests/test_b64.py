"""mockrt/audio/b64.py: the fast codec decides exactly like the standard library (issue 14)."""

from __future__ import annotations

import base64
import binascii

from hypothesis import given
from hypothesis import strategies as st

from mockrt.audio import b64

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_NEAR_BASE64 = st.text(alphabet=_ALPHABET + "=-_ \n\t.\x00é", max_size=40)


def _std(text: str) -> bytes | str:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        return type(exc).__name__


def _fast(text: str) -> bytes | str:
    try:
        return b64.decode_strict(text)
    except (binascii.Error, ValueError) as exc:
        return type(exc).__name__


@given(st.binary(max_size=300))
def test_round_trip_matches_the_standard_library(data: bytes) -> None:
    text = b64.encode(data)
    assert text == base64.b64encode(data).decode("ascii")
    assert b64.decode_strict(text) == data


@given(_NEAR_BASE64)
def test_decode_accepts_and_refuses_what_the_standard_library_does(text: str) -> None:
    assert _fast(text) == _std(text)


def test_excess_padding_is_decided_by_the_standard_library() -> None:
    # pybase64's strict mode refuses it, the standard library accepts it: the accepted set is the library's.
    assert _fast("AAAA====") == _std("AAAA====") == b"\x00\x00\x00"
    assert _fast("AAA") == _std("AAA") == "Error"
