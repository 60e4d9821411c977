"""Streaming, chunk-invariant polyphase resampler in pure numpy (docs/vad.md §0.4, §5.1 step 2).

The detectors run at 8 kHz (webrtc) or 16 kHz (Silero) while ``pcm16`` input is 24 kHz, so every
``input_audio_buffer.append`` goes through :class:`StreamResampler`. Two properties matter more than
audio quality here:

* **Chunk invariance (hard requirement, docs/vad.md §5.1 step 3).** The concatenated output is bit-for-bit the
  same whatever the sizes of the ``process`` calls. Floating-point sums are not associative, so instead of
  hoping that numpy/BLAS add in the same order for every chunk size, the filter taps are quantised to
  integers (16 fractional bits) and inputs are int16: every product and every partial sum is then an
  integer multiple of 2**-16 well below 2**53 in magnitude, i.e. *exactly* representable in float64, and a
  matrix product gives the exact result in any summation order. Rounding to int16 happens once, per
  sample, on that exact value.
* **An anti-alias filter.** Naive decimation (``x[::3]``) folds 4-12 kHz noise into the 0-4 kHz band that
  webrtcvad analyses and measurably hurts it in noise (docs/vad.md §0.4, Table 5). The prototype low-pass is a
  Kaiser-windowed sinc designed at the up-sampled rate with its transition band centred on the lower
  Nyquist frequency (defaults: 50 dB stop-band attenuation, transition = 40 % of the lower Nyquist, i.e.
  3.2-4.8 kHz for 24 kHz -> 8 kHz: 45 taps).

The filter is linear-phase and its delay is compensated: output sample ``n`` is the band-limited input at
time ``n / dst_rate`` s, so output sample indices map onto the session timeline without an offset
(frames cut from the output are anchored at input sample 0). The price is a look-ahead: an output sample
is released once the input ``lookahead`` samples past its time has arrived, plus up to one block of
``block`` outputs (evaluated together as one small matrix product for speed); both amount to about
1-2 ms.
Input before sample 0 is taken as digital silence.

Output dtype: **int16** (rounded half-to-even, saturated), because webrtcvad consumes 16-bit PCM and the
identity path (G.711 at 8 kHz into an 8 kHz detector) then costs nothing.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["StreamResampler", "design_lowpass"]

Int16Array = npt.NDArray[np.int16]
Float64Array = npt.NDArray[np.float64]

_FRAC_BITS = 16
_LO = np.array(-32768.0)
_HI = np.array(32767.0)
_EMPTY: Int16Array = np.zeros(0, dtype=np.int16)
_EMPTY.setflags(write=False)


def _kaiser_beta(atten_db: float) -> float:
    if atten_db > 50:
        return 0.1102 * (atten_db - 8.7)
    if atten_db > 21:
        return float(0.5842 * (atten_db - 21) ** 0.4 + 0.07886 * (atten_db - 21))
    return 0.0


def design_lowpass(
    src_rate: int, dst_rate: int, atten_db: float = 50.0, transition: float = 0.4
) -> tuple[int, int, npt.NDArray[np.int64]]:
    """Design the integer polyphase prototype for ``src_rate -> dst_rate``.

    Returns ``(up, down, taps)``: the reduced ratio ``dst/src = up/down`` and the odd-length, symmetric
    prototype low-pass at ``src_rate * up`` Hz, scaled by ``up`` (interpolation gain) and quantised to
    integers with 16 fractional bits. Each of the ``up`` polyphase branches sums to exactly ``2**16``, so
    DC passes with unit gain and a constant input gives the same constant output.
    """
    if src_rate <= 0 or dst_rate <= 0:
        raise ValueError("sample rates must be positive")
    g = math.gcd(src_rate, dst_rate)
    up, down = dst_rate // g, src_rate // g
    fu = src_rate * up  # rate of the (virtual) up-sampled signal
    nyq_low = 0.5 * min(src_rate, dst_rate)
    width_hz = transition * nyq_low
    d_omega = 2 * math.pi * width_hz / fu
    ntaps = max(3, math.ceil((atten_db - 7.95) / (2.285 * d_omega)) + 1)
    ntaps += (ntaps + 1) % 2  # odd: integer group delay (N-1)/2, exactly compensated
    centre = (ntaps - 1) / 2
    fc = nyq_low / fu  # cutoff as a fraction of fu (cycles/sample)
    k = np.arange(ntaps) - centre
    proto = 2 * fc * np.sinc(2 * fc * k) * np.kaiser(ntaps, _kaiser_beta(atten_db)) * up
    taps = np.rint(proto * (1 << _FRAC_BITS)).astype(np.int64)
    # Exact unit DC gain per polyphase branch: put the rounding residue on the branch's largest tap.
    for r in range(up):
        branch = np.arange(r, ntaps, up)
        residue = (1 << _FRAC_BITS) - int(taps[branch].sum())
        taps[branch[int(np.argmax(taps[branch]))]] += residue
    return up, down, taps


@dataclass(frozen=True)
class _Plan:
    up: int
    down: int
    taps: npt.NDArray[np.int64]
    block: int
    step_in: int
    win: int
    mat_t: Float64Array
    lookahead: int
    base0: int


@functools.lru_cache(maxsize=32)
def _plan(src_rate: int, dst_rate: int, atten_db: float, transition: float, block: int) -> _Plan:
    """The block-matrix form of the polyphase filter for one design (see :class:`StreamResampler`)."""
    up, down, taps = design_lowpass(src_rate, dst_rate, atten_db, transition)
    taps.setflags(write=False)
    ntaps = len(taps)
    delay = (ntaps - 1) // 2  # group delay at the up-sampled rate
    # Blocks of B outputs, B a multiple of `up`, so that the polyphase pattern repeats per block.
    b_out = max(up, (block // up) * up)
    # Output n uses inputs b(n)-j, j = 0..J-1, with b(n) = (n*down + delay) // up.
    j_max = -(-ntaps // up)
    b_first = [(m * down + delay) // up for m in range(b_out)]
    win = b_first[-1] - b_first[0] + j_max
    mat = np.zeros((b_out, win), dtype=np.float64)
    base0 = b_first[0] - (j_max - 1)
    for m in range(b_out):
        t = m * down + delay
        r, b = t % up, t // up
        for j, tap in enumerate(taps[r::up]):
            mat[m, b - j - base0] += float(tap)
    # Dyadic scaling keeps every product/partial sum exact in float64 (module docstring).
    mat_t = np.ascontiguousarray((mat * 2.0**-_FRAC_BITS).T)
    mat_t.setflags(write=False)
    lookahead = -(-(delay + (b_out - 1) * down) // up)
    return _Plan(up, down, taps, b_out, b_out * down // up, win, mat_t, lookahead, base0)


class StreamResampler:
    """Stateful rational-ratio resampler, int16 in and int16 out, chunk-invariant (see module docstring).

    ``process(x)`` accepts any number of int16 samples at ``src_rate`` (a 1-D array) and returns the
    output samples at ``dst_rate`` that became computable; the concatenation of all returned arrays
    depends only on the concatenation of the inputs. When ``src_rate == dst_rate`` the resampler is the
    identity and returns its input unchanged (the same array object, no copy).
    """

    def __init__(
        self,
        src_rate: int,
        dst_rate: int,
        *,
        atten_db: float = 50.0,
        transition: float = 0.4,
        block: int = 8,
    ) -> None:
        self.src_rate = src_rate
        self.dst_rate = dst_rate
        self.samples_in = 0
        self.samples_out = 0
        self.identity = src_rate == dst_rate
        if self.identity:
            self.up = self.down = 1
            self.taps = np.ones(1, dtype=np.int64)
            self.lookahead = 0
            self.block = 1
            return
        plan = _plan(src_rate, dst_rate, atten_db, transition, block)
        self.up, self.down, self.taps = plan.up, plan.down, plan.taps
        self.block = plan.block
        self._step_in = plan.step_in  # window advance (input samples) per block
        self._win = plan.win  # window length (input samples) per block
        # One read-only matrix per design, shared by every stream (one copy in the cache for many sessions).
        self._mat_t: Float64Array = plan.mat_t
        #: input samples needed past an output sample's own time before it can be computed
        self.lookahead = plan.lookahead
        base0 = plan.base0
        # Ring-less linear buffer: buf[i] holds absolute input sample (self._origin + i).
        self._origin = base0  # block 0 starts at absolute input index base0 (may be negative)
        self._next_block = 0
        self._origin_block = 0
        self._cap = 0
        self._buf: Float64Array = np.zeros(0, dtype=np.float64)
        self._fill = 0  # valid samples in buf
        self._alloc(max(1024, 4 * self._win))
        # Prefill the samples before t=0 with silence.
        self._fill = -base0 if base0 < 0 else 0
        if base0 > 0:
            raise AssertionError("filter design yields no history")  # pragma: no cover

    def _alloc(self, cap: int) -> None:
        new = np.zeros(cap, dtype=np.float64)
        if self._fill:
            new[: self._fill] = self._buf[: self._fill]
        self._buf = new
        self._cap = cap
        rows = (cap - self._win) // self._step_in + 1
        self._rows = np.lib.stride_tricks.as_strided(
            self._buf, shape=(rows, self._win), strides=(self._step_in * 8, 8), writeable=False
        )

    def _make_room(self, n: int) -> None:
        """Drop consumed history (keeping block alignment) and grow the buffer if ``n`` more won't fit."""
        drop_blocks = self._next_block - self._origin_block
        if drop_blocks > 0:
            drop = drop_blocks * self._step_in
            keep = self._fill - drop
            self._buf[:keep] = self._buf[drop : self._fill]
            self._fill = keep
            self._origin += drop
            self._origin_block = self._next_block
        if self._fill + n > self._cap:
            self._alloc(max(2 * self._cap, self._fill + n + 4 * self._win))

    def process(self, x: npt.NDArray[np.int16]) -> Int16Array:
        """Feed int16 samples at ``src_rate``; return the int16 samples at ``dst_rate`` now computable."""
        if x.dtype != np.int16:
            raise TypeError(f"expected int16 samples, got {x.dtype}")
        n = x.shape[0]
        self.samples_in += n
        if self.identity:
            self.samples_out += n
            return x
        fill = self._fill
        if fill + n > self._cap:
            self._make_room(n)
            fill = self._fill
        self._buf[fill : fill + n] = x
        fill += n
        self._fill = fill
        # Blocks whose whole window is inside the buffer are ready.
        first = self._next_block - self._origin_block
        count = (fill - self._win) // self._step_in + 1 - first
        if count <= 0:
            return _EMPTY
        self._next_block += count
        y = np.dot(self._rows[first : first + count], self._mat_t).reshape(-1)
        np.rint(y, out=y)
        np.maximum(y, _LO, out=y)
        np.minimum(y, _HI, out=y)
        self.samples_out += y.shape[0]
        out: Int16Array = y.astype(np.int16)
        return out
