"""G.711 codecs and AudioFormat (mockrt.audio.g711 / formats; docs/protocol.md §4.1, §7; docs/vad.md §5.1)."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from types import ModuleType

import numpy as np
import pytest

from mockrt.audio.formats import AudioFormat
from mockrt.audio.g711 import (
    ALAW_DECODE_TABLE,
    ULAW_DECODE_TABLE,
    alaw_decode,
    alaw_encode,
    ulaw_decode,
    ulaw_encode,
)

ALL_CODES = bytes(range(256))
ALL_INT16 = np.arange(-32768, 32768, dtype=np.int64)


def _import_audioop() -> ModuleType | None:
    """``audioop`` exists up to Python 3.12 (deprecated in 3.11, removed in 3.13)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return importlib.import_module("audioop")
        except ImportError:
            return None


audioop = _import_audioop()
needs_audioop = pytest.mark.skipif(audioop is None, reason="audioop not available on this Python")


# --- independent scalar references -----------------------------------------------------------------
# Transcriptions of ITU-T G.191 STL g711.c (ulaw_compress / alaw_compress) and of the classic Sun
# g711.c decoders (ulaw2linear / alaw2linear), one sample at a time, to check the vectorised tables.


def ref_ulaw_compress(x: int) -> int:
    absno = ((~x) >> 2) + 33 if x < 0 else (x >> 2) + 33
    absno = min(absno, 0x1FFF)
    i, segno = absno >> 6, 1
    while i:
        segno += 1
        i >>= 1
    code = ((0x8 - segno) << 4) | (0xF - ((absno >> segno) & 0xF))
    return code | 0x80 if x >= 0 else code


def ref_alaw_compress(x: int) -> int:
    ix = (~x) >> 4 if x < 0 else x >> 4
    if ix > 15:
        iexp = 1
        while ix > 16 + 15:
            ix >>= 1
            iexp += 1
        ix -= 16
        ix += iexp << 4
    if x >= 0:
        ix |= 0x80
    return ix ^ 0x55


def sun_ulaw2linear(u: int) -> int:
    u = ~u & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    return 0x84 - t if u & 0x80 else t - 0x84


def sun_alaw2linear(a: int) -> int:
    a ^= 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    if seg == 0:
        t += 8
    elif seg == 1:
        t += 0x108
    else:
        t = (t + 0x108) << (seg - 1)
    return t if a & 0x80 else -t


# --- decoding ---------------------------------------------------------------------------------------


def test_ulaw_decode_known_values() -> None:
    # full scale, both zeros, the smallest non-zero levels (±8) and the first level of segment 1 (132)
    codes = bytes([0x00, 0x7F, 0x80, 0xFF, 0xFE, 0x7E, 0xEF])
    assert ulaw_decode(codes).tolist() == [-32124, 0, 32124, 0, 8, -8, 132]


def test_decode_tables_match_independent_reference() -> None:
    assert ULAW_DECODE_TABLE.tolist() == [sun_ulaw2linear(c) for c in range(256)]
    assert ALAW_DECODE_TABLE.tolist() == [sun_alaw2linear(c) for c in range(256)]


def test_alaw_decode_known_values() -> None:
    assert alaw_decode(bytes([0x55, 0xD5, 0x2A, 0xAA])).tolist() == [-8, 8, -32256, 32256]


def test_decode_dtype_and_length() -> None:
    out = ulaw_decode(b"\xff" * 160)
    assert out.dtype == np.int16 and out.shape == (160,)
    assert alaw_decode(b"").shape == (0,)


# --- encoding ---------------------------------------------------------------------------------------


def test_encoders_bit_exact_with_g191_reference_for_every_int16() -> None:
    pcm = ALL_INT16.astype(np.int16)
    ulaw = np.frombuffer(ulaw_encode(pcm), dtype=np.uint8)
    alaw = np.frombuffer(alaw_encode(pcm), dtype=np.uint8)
    assert ulaw.tolist() == [ref_ulaw_compress(int(x)) for x in ALL_INT16]
    assert alaw.tolist() == [ref_alaw_compress(int(x)) for x in ALL_INT16]


def test_encode_known_values() -> None:
    pcm = np.array([0, -1, 32767, -32768, 8, -8], dtype=np.int16)
    assert ulaw_encode(pcm) == bytes([0xFF, 0x7F, 0x80, 0x00, 0xFE, 0x7E])
    assert alaw_encode(pcm) == bytes([0xD5, 0x55, 0xAA, 0x2A, 0xD5, 0x55])


def test_code_round_trip() -> None:
    ulaw = ulaw_encode(ulaw_decode(ALL_CODES))
    # 0x7F is µ-law's "negative zero": it decodes to 0, which encodes as 0xFF.
    assert [c for c in range(256) if ulaw[c] != c] == [0x7F]
    assert ulaw[0x7F] == 0xFF
    assert alaw_encode(alaw_decode(ALL_CODES)) == ALL_CODES


@pytest.mark.parametrize(("encode", "decode"), [(ulaw_encode, ulaw_decode), (alaw_encode, alaw_decode)])
def test_quantisation_is_monotonic_and_bounded(
    encode: Callable[[np.ndarray], bytes], decode: Callable[[bytes], np.ndarray]
) -> None:
    pcm = ALL_INT16.astype(np.int16)
    q = decode(encode(pcm)).astype(np.int64)
    assert np.all(np.diff(q) >= 0)
    err = np.abs(q - ALL_INT16)
    # Largest step is 1024 (µ-law segment 7) / 1024 (A-law segment 7); half-step rounding + clipping.
    assert err[np.abs(ALL_INT16) < 30000].max() <= 512
    assert np.all(err <= np.maximum(8, np.abs(ALL_INT16) // 16 + 16))


def test_encode_rejects_non_int16() -> None:
    with pytest.raises(TypeError):
        ulaw_encode(np.zeros(4, dtype=np.int32))
    with pytest.raises(TypeError):
        alaw_encode(np.zeros(4, dtype=np.float32))


@needs_audioop
def test_against_audioop() -> None:
    assert audioop is not None
    pcm = ALL_INT16.astype(np.int16)
    raw = pcm.astype("<i2").tobytes()
    assert np.array_equal(ulaw_decode(ALL_CODES), np.frombuffer(audioop.ulaw2lin(ALL_CODES, 2), "<i2"))
    assert np.array_equal(alaw_decode(ALL_CODES), np.frombuffer(audioop.alaw2lin(ALL_CODES, 2), "<i2"))
    assert alaw_encode(pcm) == audioop.lin2alaw(raw, 2)
    ours = np.frombuffer(ulaw_encode(pcm), dtype=np.uint8)
    theirs = np.frombuffer(audioop.lin2ulaw(raw, 2), dtype=np.uint8)
    # audioop negates negative samples (two's complement) where G.191 takes the one's complement: they
    # agree on every non-negative sample and differ by at most one code on a few negative ones.
    assert np.array_equal(ours[ALL_INT16 >= 0], theirs[ALL_INT16 >= 0])
    diff = np.nonzero(ours != theirs)[0]
    assert np.all(ALL_INT16[diff] < 0)
    assert np.all(np.abs(ours[diff].astype(int) - theirs[diff].astype(int)) == 1)


# --- AudioFormat ------------------------------------------------------------------------------------


def test_format_properties() -> None:
    assert (AudioFormat.PCM16.rate, AudioFormat.PCM16.sample_width, AudioFormat.PCM16.bytes_per_ms) == (
        24000,
        2,
        48,
    )
    for fmt in (AudioFormat.G711_ULAW, AudioFormat.G711_ALAW):
        assert (fmt.rate, fmt.sample_width, fmt.bytes_per_ms) == (8000, 1, 8)
    for fmt, rate in ((AudioFormat.PCM16_16K, 16000), (AudioFormat.PCM16_8K, 8000)):  # Voice Live's PCM rates
        assert (fmt.rate, fmt.sample_width, fmt.bytes_per_ms) == (rate, 2, rate * 2 // 1000)
    assert len(set(AudioFormat)) == 5


def test_pcm16_decode_is_little_endian() -> None:
    out = AudioFormat.PCM16.decode(b"\x01\x00\xff\xff\x00\x80")
    assert out.dtype == np.int16 and out.tolist() == [1, -1, -32768]


def test_pcm16_odd_length_raises() -> None:
    with pytest.raises(ValueError, match="even"):
        AudioFormat.PCM16.decode(b"\x00\x00\x01")


@pytest.mark.parametrize("fmt", list(AudioFormat))
def test_format_round_trip_and_time_base(fmt: AudioFormat) -> None:
    pcm = ulaw_decode(ALL_CODES) if fmt is AudioFormat.G711_ULAW else alaw_decode(ALL_CODES)
    wire = fmt.encode(pcm)
    assert len(wire) == pcm.shape[0] * fmt.sample_width
    assert np.array_equal(fmt.decode(wire), pcm)
    # docs/protocol.md §7: 20 ms = 960 B pcm16 / 160 B G.711; 100 ms = 4800 / 800 B
    assert fmt.bytes_to_ms(fmt.bytes_per_ms * 100) == 100.0
    assert fmt.samples_to_ms(fmt.rate // 50) == 20.0
    twenty_ms = {AudioFormat.PCM16: 960, AudioFormat.PCM16_16K: 640, AudioFormat.PCM16_8K: 320}.get(fmt, 160)
    assert fmt.bytes_to_ms(twenty_ms) == 20.0


def test_format_encode_rejects_non_int16() -> None:
    with pytest.raises(TypeError):
        AudioFormat.PCM16.encode(np.zeros(3, dtype=np.float64))
