"""Base64 for audio payloads: every ``input_audio_buffer.append`` is decoded and every audio delta encoded here.

The standard library's codec walks the text one character at a time (about 3 us for a 20 ms pcm16 append);
``pybase64`` (SIMD) does the same work in a fraction of that (bench/README.md, fourth pass). Behaviour is the
standard library's, exactly:

* :func:`decode_strict` accepts what ``base64.b64decode(text, validate=True)`` accepts and returns the same
  bytes. ``pybase64`` in strict mode only *fast-paths* input: whatever it refuses (for instance excess padding,
  which the standard library tolerates) is decided by the standard library, so the accepted set and the errors
  are unchanged (tests/test_b64.py checks the equivalence property-based);
* :func:`encode` is ``base64.b64encode(data).decode("ascii")``.

Without ``pybase64`` (it is a dependency, but a platform without its wheel still works) both fall back to the
standard library.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

__all__ = ["decode_strict", "encode"]


def _std_decode(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _std_encode(data: bytes | bytearray) -> str:
    return base64.b64encode(data).decode("ascii")


_encode: Callable[[bytes | bytearray], str]
try:
    import pybase64
except ImportError:  # pragma: no cover - pybase64 is a dependency; kept working without it
    _fast_decode: Callable[..., bytes] | None = None
    _encode = _std_encode
else:
    _fast_decode, _encode = pybase64.b64decode, pybase64.b64encode_as_string


def encode(data: bytes | bytearray) -> str:
    """``base64.b64encode(data).decode("ascii")``, faster."""
    return _encode(data)


def decode_strict(text: str) -> bytes:
    """``base64.b64decode(text, validate=True)``, faster; raises :class:`binascii.Error` (a ``ValueError``) or
    ``ValueError`` (non-ASCII text) exactly when it does."""
    if _fast_decode is not None:
        try:
            return _fast_decode(text, validate=True)
        except (binascii.Error, ValueError, TypeError):
            pass
    return _std_decode(text)
