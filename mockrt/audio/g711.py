"""Table-based ITU-T G.711 µ-law / A-law codecs in numpy (docs/protocol.md §7, docs/vad.md §5.1 step 1).

``audioop`` is deprecated in Python 3.11 and removed in 3.13, so the mock carries its own codec. The tables
are built once, at import, by running the ITU-T G.191 (STL) reference algorithms (``ulaw_compress`` /
``ulaw_expand`` / ``alaw_compress`` / ``alaw_expand`` of ``g711.c``) over every input value:

* decoding is a 256-entry lookup (code byte -> int16, the 14/13-bit reconstruction level left-justified);
* encoding is a 65536-entry lookup indexed by the int16 sample's 16-bit pattern.

The reference encoders treat a negative sample by its one's complement (``~x``), which is what makes them
bit-exact with the standard; note that ``audioop.lin2ulaw`` negates instead (two's complement) and therefore
differs from G.191 by one quantisation step for a few small negative inputs, while ``audioop.lin2alaw`` and
both ``audioop`` decoders agree with G.191 everywhere.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "ALAW_DECODE_TABLE",
    "ALAW_ENCODE_TABLE",
    "ULAW_DECODE_TABLE",
    "ULAW_ENCODE_TABLE",
    "alaw_decode",
    "alaw_encode",
    "ulaw_decode",
    "ulaw_encode",
]

Int16Array = npt.NDArray[np.int16]


def _all_int16() -> npt.NDArray[np.int64]:
    """Every int16 value, ordered by its unsigned 16-bit pattern (index ``i`` holds ``int16(i)``)."""
    return np.arange(65536, dtype=np.int64).astype(np.uint16).view(np.int16).astype(np.int64)


def _ulaw_compress(x: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
    """G.191 ``ulaw_compress``: 16-bit linear (14 MSBs used) -> µ-law code, vectorised."""
    absno = np.where(x < 0, (~x) >> 2, x >> 2) + 33
    absno = np.minimum(absno, 0x1FFF)
    # segno = 1 + number of significant bits of (absno >> 6)
    segno = np.ones_like(absno)
    i = absno >> 6
    while np.any(i):
        segno += i != 0
        i >>= 1
    high_nibble = 0x8 - segno
    low_nibble = 0xF - ((absno >> segno) & 0xF)
    code = (high_nibble << 4) | low_nibble
    code = np.where(x >= 0, code | 0x80, code)
    out: npt.NDArray[np.uint8] = code.astype(np.uint8)
    return out


def _ulaw_expand(code: npt.NDArray[np.int64]) -> npt.NDArray[np.int16]:
    """G.191 ``ulaw_expand``: µ-law code -> 16-bit linear (14-bit level, left-justified)."""
    sign = np.where(code < 0x80, -1, 1)
    mantissa = ~code
    exponent = (mantissa >> 4) & 0x7
    segment = exponent + 1
    mantissa = mantissa & 0xF
    step = 4 << segment
    lin = sign * ((0x80 << exponent) + step * mantissa + step // 2 - 4 * 33)
    out: npt.NDArray[np.int16] = lin.astype(np.int16)
    return out


def _alaw_compress(x: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
    """G.191 ``alaw_compress``: 16-bit linear (13 MSBs used) -> A-law code, vectorised."""
    ix = np.where(x < 0, (~x) >> 4, x >> 4)
    out = ix.copy()
    big = ix > 15
    # exponent = 1 + number of halvings needed to bring ix into 16..31
    iexp = np.ones_like(ix)
    v = ix.copy()
    while True:
        more = big & (v > 16 + 15)
        if not np.any(more):
            break
        v = np.where(more, v >> 1, v)
        iexp += more
    out = np.where(big, (v - 16) + (iexp << 4), ix)
    out = np.where(x >= 0, out | 0x80, out)
    return (out ^ 0x55).astype(np.uint8)


def _alaw_expand(code: npt.NDArray[np.int64]) -> npt.NDArray[np.int16]:
    """G.191 ``alaw_expand``: A-law code -> 16-bit linear (13-bit level, left-justified)."""
    ix = (code ^ 0x55) & 0x7F
    iexp = ix >> 4
    mant = ix & 0xF
    mant = np.where(iexp > 0, mant + 16, mant)
    mant = (mant << 4) + 0x8
    mant = np.where(iexp > 1, mant << np.maximum(iexp - 1, 0), mant)
    lin = np.where(code > 127, mant, -mant)
    return lin.astype(np.int16)


_CODES = np.arange(256, dtype=np.int64)

#: µ-law code byte -> int16 sample (G.191 ``ulaw_expand``).
ULAW_DECODE_TABLE: Int16Array = _ulaw_expand(_CODES)
#: A-law code byte -> int16 sample (G.191 ``alaw_expand``).
ALAW_DECODE_TABLE: Int16Array = _alaw_expand(_CODES)
#: uint16 view of an int16 sample -> µ-law code byte (G.191 ``ulaw_compress``).
ULAW_ENCODE_TABLE: npt.NDArray[np.uint8] = _ulaw_compress(_all_int16())
#: uint16 view of an int16 sample -> A-law code byte (G.191 ``alaw_compress``).
ALAW_ENCODE_TABLE: npt.NDArray[np.uint8] = _alaw_compress(_all_int16())

for _table in (ULAW_DECODE_TABLE, ALAW_DECODE_TABLE, ULAW_ENCODE_TABLE, ALAW_ENCODE_TABLE):
    _table.setflags(write=False)


def _codes(data: bytes | bytearray | memoryview) -> npt.NDArray[np.uint8]:
    return np.frombuffer(data, dtype=np.uint8)


def _as_uint16(pcm: npt.NDArray[np.integer]) -> npt.NDArray[np.uint16]:
    arr = np.asarray(pcm)
    if arr.dtype != np.int16:
        raise TypeError(f"G.711 encoding expects int16 samples, got {arr.dtype}")
    return arr.reshape(-1).view(np.uint16)


def ulaw_decode(data: bytes | bytearray | memoryview) -> Int16Array:
    """Decode µ-law bytes (one sample per byte, 8 kHz in the Realtime API) to int16 samples."""
    out: Int16Array = ULAW_DECODE_TABLE[_codes(data)]
    return out


def alaw_decode(data: bytes | bytearray | memoryview) -> Int16Array:
    """Decode A-law bytes (one sample per byte, 8 kHz in the Realtime API) to int16 samples."""
    out: Int16Array = ALAW_DECODE_TABLE[_codes(data)]
    return out


def ulaw_encode(pcm: npt.NDArray[np.integer]) -> bytes:
    """Encode int16 samples to µ-law bytes (G.191 rounding: truncation towards the lower level)."""
    return ULAW_ENCODE_TABLE[_as_uint16(pcm)].tobytes()


def alaw_encode(pcm: npt.NDArray[np.integer]) -> bytes:
    """Encode int16 samples to A-law bytes (G.191 rounding)."""
    return ALAW_ENCODE_TABLE[_as_uint16(pcm)].tobytes()
