"""Streaming resampler (mockrt.audio.resample; docs/vad.md §0.4, §5.1 steps 2-3)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockrt.audio.resample import StreamResampler, design_lowpass

RATIOS = [(24000, 8000), (24000, 16000), (8000, 16000), (16000, 24000)]


def signal(n: int, seed: int, kind: str = "noise") -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "square":  # full scale: exercises saturation
        return np.where((np.arange(n) // 37) % 2 == 0, 32767, -32768).astype(np.int16)
    return np.clip(rng.normal(0, 6000, n), -32768, 32767).astype(np.int16)


def run_chunked(src: int, dst: int, x: np.ndarray, sizes: list[int]) -> np.ndarray:
    r = StreamResampler(src, dst)
    out, i, k = [], 0, 0
    while i < x.shape[0]:
        n = sizes[k % len(sizes)] if sizes else x.shape[0]
        out.append(r.process(x[i : i + n]))
        i += n
        k += 1
    return np.concatenate(out) if out else np.zeros(0, np.int16)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    ratio=st.sampled_from(RATIOS),
    seed=st.integers(0, 2**16),
    kind=st.sampled_from(["noise", "square"]),
    sizes=st.lists(st.integers(0, 2000), min_size=1, max_size=12).filter(any),
)
def test_chunk_invariance_is_bit_exact(ratio: tuple[int, int], seed: int, kind: str, sizes: list[int]) -> None:
    src, dst = ratio
    x = signal(6007, seed, kind)
    whole = StreamResampler(src, dst).process(x)
    chunked = run_chunked(src, dst, x, sizes)
    assert chunked.dtype == np.int16
    assert np.array_equal(whole, chunked)


@pytest.mark.parametrize(("src", "dst"), RATIOS)
def test_one_sample_at_a_time_equals_whole(src: int, dst: int) -> None:
    x = signal(1500, 7)
    assert np.array_equal(run_chunked(src, dst, x, [1]), StreamResampler(src, dst).process(x))


@pytest.mark.parametrize(("src", "dst"), RATIOS)
def test_output_count_tracks_input(src: int, dst: int) -> None:
    r = StreamResampler(src, dst)
    total = sum(r.process(signal(999, s)).shape[0] for s in range(20))
    expected = 20 * 999 * dst / src
    assert total == r.samples_out
    assert expected - (r.lookahead * dst / src + r.block + 1) <= total <= expected


def test_identity_returns_input() -> None:
    r = StreamResampler(8000, 8000)
    x = signal(100, 1)
    assert r.process(x) is x
    assert r.lookahead == 0


@pytest.mark.parametrize(("src", "dst"), RATIOS)
def test_dc_gain_is_exactly_one(src: int, dst: int) -> None:
    up, _, taps = design_lowpass(src, dst)
    assert all(int(taps[r::up].sum()) == 1 << 16 for r in range(up))
    y = StreamResampler(src, dst).process(np.full(src, -1234, dtype=np.int16))
    assert set(y[100:].tolist()) == {-1234}


@pytest.mark.parametrize(("src", "dst"), RATIOS)
def test_passband_sine_is_time_aligned(src: int, dst: int) -> None:
    """Delay is compensated: output n is the input at time n/dst (so frames stay on the input grid)."""
    f, amp = 1000.0, 10000.0
    t_in = np.arange(src) / src
    y = StreamResampler(src, dst).process(np.rint(amp * np.sin(2 * np.pi * f * t_in)).astype(np.int16))
    ideal = amp * np.sin(2 * np.pi * f * np.arange(y.shape[0]) / dst)
    mid = slice(200, y.shape[0] - 200)
    assert np.max(np.abs(y[mid] - ideal[mid])) < 0.01 * amp  # < -40 dB: gain and phase right


@pytest.mark.parametrize("freq", [5000.0, 6000.0, 9000.0, 11000.0])
def test_anti_alias_filter_24k_to_8k(freq: float) -> None:
    """Naive decimation would fold these into 0-4 kHz at full level (docs/vad.md §0.4)."""
    amp = 10000.0
    t_in = np.arange(24000) / 24000
    y = StreamResampler(24000, 8000).process(np.rint(amp * np.sin(2 * np.pi * freq * t_in)).astype(np.int16))
    rms = np.sqrt(np.mean(y[200:-200].astype(np.float64) ** 2))
    assert 20 * np.log10(rms / (amp / np.sqrt(2))) < -40


def test_full_scale_saturates_instead_of_wrapping() -> None:
    x = signal(24000, 0, "square")
    y = StreamResampler(24000, 16000).process(x)
    # the filter rings past full scale at the edges; the output must clip, never flip sign
    assert y.max() == 32767 and y.min() == -32768
    t_out = (np.arange(y.shape[0]) * 24000) // 16000
    plateau = (t_out % 37 > 8) & (t_out % 37 < 28)
    assert np.all(np.sign(y[plateau]) == np.sign(x[t_out[plateau]]))


def test_rejects_non_int16() -> None:
    with pytest.raises(TypeError):
        StreamResampler(24000, 8000).process(np.zeros(10, dtype=np.float32))
    with pytest.raises(ValueError):
        design_lowpass(0, 8000)
