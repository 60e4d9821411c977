"""Turn detection on audio time (mockrt.audio.turns; docs/vad.md §5.1-§5.4, §5.6; docs/protocol.md §5.5)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockrt.audio.detectors import Detector, EnergyDetector, WebrtcDetector, make_detector
from mockrt.audio.formats import AudioFormat
from mockrt.audio.resample import StreamResampler
from mockrt.audio.turns import (
    SpeechStarted,
    SpeechStopped,
    TurnDetector,
    TurnEvent,
    TurnSettings,
    semantic_wait_ms,
)
from tests import audio_fixtures as af

RATE = 24000
SERVER = TurnSettings("server_vad")


def tone(ms: int, level_dbfs: float = -20.0, rate: int = RATE) -> np.ndarray:
    n = rate * ms // 1000
    amp = af.dbfs_to_rms(level_dbfs) * np.sqrt(2)
    out: np.ndarray = np.rint(amp * np.sin(2 * np.pi * 440.0 * np.arange(n) / rate)).astype(np.int16)
    return out


def silence(ms: int, rate: int = RATE) -> np.ndarray:
    return np.zeros(rate * ms // 1000, dtype=np.int16)


def bursts(*spans: tuple[int, int], total_ms: int, rate: int = RATE) -> np.ndarray:
    """Tone bursts at ``(start_ms, end_ms)`` spans (10 ms aligned) over digital silence."""
    x = silence(total_ms, rate)
    for start, end in spans:
        x[start * rate // 1000 : end * rate // 1000] = tone(end - start, rate=rate)
    return x


def feed_all(td: TurnDetector, pcm: np.ndarray, chunk: int = 480) -> list[TurnEvent]:
    events: list[TurnEvent] = []
    for i in range(0, pcm.shape[0], chunk):
        events += td.feed(pcm[i : i + chunk])
    return events


def energy_td(settings: TurnSettings = SERVER, rate: int = RATE, **kw: object) -> TurnDetector:
    return TurnDetector(EnergyDetector(rate), rate, settings, **kw)  # type: ignore[arg-type]


def turns_of(events: list[TurnEvent]) -> list[tuple[SpeechStarted, SpeechStopped | None]]:
    out: list[tuple[SpeechStarted, SpeechStopped | None]] = []
    for ev in events:
        if isinstance(ev, SpeechStarted):
            out.append((ev, None))
        else:
            assert out and out[-1][1] is None, "speech_stopped without speech_started"
            out[-1] = (out[-1][0], ev)
    return out


# --- the basic cycle with deterministic tones ---------------------------------------------------------


def test_tone_turn_values() -> None:
    td = energy_td()
    events = feed_all(td, bursts((1000, 2000), total_ms=3000))
    assert events == [
        SpeechStarted(audio_start_ms=700, onset_ms=1000),
        SpeechStopped(audio_end_ms=2200, last_voiced_ms=2000),
    ]
    assert not td.in_speech
    assert td.position_ms == 3000.0
    assert td.buffer_start_ms == 2200  # the turn's audio is committed up to audio_end_ms


def test_end_excluding_silence_switch() -> None:
    td = energy_td(replace(SERVER, end_includes_silence=False))
    events = feed_all(td, bursts((1000, 2000), total_ms=3000))
    assert events[1] == SpeechStopped(audio_end_ms=2000, last_voiced_ms=2000)


def test_events_come_when_the_deciding_audio_arrives() -> None:
    td = energy_td()
    pcm = bursts((1000, 2000), total_ms=3000)
    assert td.feed(pcm[: 1060 * 24]) == []  # 60 ms of tone < min_speech 64 ms (7 frames)
    assert td.feed(pcm[1060 * 24 : 1070 * 24]) == [SpeechStarted(700, 1000)]
    assert td.in_speech
    assert td.feed(pcm[1070 * 24 : 2190 * 24]) == []
    assert td.feed(pcm[2190 * 24 : 2200 * 24]) == [SpeechStopped(2200, 2000)]


@pytest.mark.parametrize(("burst_ms", "started"), [(60, False), (70, True)])
def test_min_speech(burst_ms: int, started: bool) -> None:
    events = feed_all(energy_td(), bursts((500, 500 + burst_ms), total_ms=1500))
    assert (len(events) == 2) is started


def test_prefix_is_clamped_at_buffer_start() -> None:
    td = energy_td()
    assert feed_all(td, bursts((100, 400), total_ms=1000))[0] == SpeechStarted(0, 100)
    td.reset(1500)  # e.g. a clear at 1500 ms
    assert td.position_ms == 1000.0  # the timeline does not rewind
    events = feed_all(td, bursts((700, 1000), total_ms=1500))  # tone at 1700..2000 on the timeline
    assert events[0] == SpeechStarted(1500, 1700)
    td.reset(2700)
    events = feed_all(td, bursts((600, 900), total_ms=1000))  # tone at 3100..3400
    assert events[0] == SpeechStarted(2800, 3100)  # unclamped: 3100 - 300 > 2700


def test_next_turn_starts_after_previous_end() -> None:
    # gap of 250 ms: audio_end of turn 1 = 1000 + 200; onset of turn 2 = 1250, prefix would reach 950
    events = feed_all(energy_td(), bursts((500, 1000), (1250, 1600), total_ms=2500))
    (_, e1), (s2, _) = turns_of(events)
    assert e1 is not None and e1.audio_end_ms == 1200
    assert s2 == SpeechStarted(audio_start_ms=1200, onset_ms=1250)


@pytest.mark.parametrize("silence_ms", [200, 500, 330])
def test_silence_duration_edges(silence_ms: int) -> None:
    """gap = silence - 1 frame merges, + 1 frame splits (docs/vad.md §5.6); 10 ms frames."""
    frames = -(-silence_ms // 10)
    settings = replace(SERVER, silence_duration_ms=silence_ms)

    def count(gap_ms: int) -> int:
        pcm = bursts((500, 900), (900 + gap_ms, 1300 + gap_ms), total_ms=2500 + gap_ms)
        return len(turns_of(feed_all(energy_td(settings), pcm)))

    assert count(frames * 10 - 10) == 1
    assert count(frames * 10 + 10) == 2
    assert count(frames * 10) == 2  # a silence of exactly the window ends the turn


def test_reset_drops_turn_in_progress() -> None:
    td = energy_td()
    pcm = bursts((500, 2000), total_ms=2500)
    assert feed_all(td, pcm[: 1000 * 24]) == [SpeechStarted(200, 500)]
    td.reset(1000)
    assert not td.in_speech
    events = feed_all(td, pcm[1000 * 24 :])
    # the tone goes on after the commit: a new turn starts at the buffer start, then ends normally
    assert events == [SpeechStarted(1000, 1000), SpeechStopped(2200, 2000)]


def test_threshold_maps_to_loudness_for_energy() -> None:
    quiet = np.concatenate([silence(500), tone(800, -50.0), silence(1000)])  # score 0.4
    assert feed_all(energy_td(replace(SERVER, threshold=0.5)), quiet) == []
    assert len(feed_all(energy_td(replace(SERVER, threshold=0.3)), quiet)) == 2


def test_update_settings_keeps_timeline_and_turn() -> None:
    td = energy_td()
    pcm = bursts((500, 1000), total_ms=3000)
    assert feed_all(td, pcm[: 1100 * 24]) == [SpeechStarted(200, 500)]
    td.update_settings(replace(SERVER, silence_duration_ms=800))
    assert td.in_speech
    assert feed_all(td, pcm[1100 * 24 :]) == [SpeechStopped(1800, 1000)]


def test_on_frame_hook_and_history() -> None:
    seen: list[tuple[int, float]] = []
    td = energy_td(on_frame=lambda ms, s: seen.append((ms, s)), history=5)
    feed_all(td, bursts((100, 200), total_ms=305), chunk=7)
    assert [ms for ms, _ in seen] == list(range(0, 300, 10))
    assert all(s > 0.99 for _, s in seen[10:20]) and all(s == 0.0 for _, s in seen[:10])
    assert list(td.scores) == seen[-5:]
    assert td.decided_ms == 300


# --- detector latency is accounted for -------------------------------------------------------------------


class DelayedEnergy:
    """EnergyDetector whose scores come out ``latency_frames`` late, like a centred smoothing window."""

    name = "delayed"
    latency_frames = 3

    def __init__(self, rate: int) -> None:
        self._inner = EnergyDetector(rate)
        self.rate, self.frame_samples = rate, self._inner.frame_samples
        self._queue = [0.0] * self.latency_frames

    def score(self, frame: np.ndarray) -> float:
        return self.score_frames(frame.reshape(1, -1))[0]

    def score_frames(self, frames: np.ndarray) -> list[float]:
        self._queue += self._inner.score_frames(frames)
        out, self._queue = self._queue[: frames.shape[0]], self._queue[frames.shape[0] :]
        return out

    def on_off(self, threshold: float) -> tuple[float, float]:
        return self._inner.on_off(threshold)


def test_latency_does_not_shift_reported_times() -> None:
    pcm = bursts((300, 700), (1500, 2100), total_ms=3000)
    plain = feed_all(energy_td(), pcm, chunk=333)
    delayed_det: Detector = DelayedEnergy(RATE)
    delayed = feed_all(TurnDetector(delayed_det, RATE, SERVER), pcm, chunk=333)
    assert plain == delayed and len(plain) == 4


# --- chunk invariance ---------------------------------------------------------------------------------------


def _chunked(td: TurnDetector, pcm: np.ndarray, sizes: list[int]) -> list[TurnEvent]:
    events: list[TurnEvent] = []
    i = k = 0
    while i < pcm.shape[0]:
        n = sizes[k % len(sizes)]
        events += td.feed(pcm[i : i + n])
        i += n
        k += 1
    return events


SPEECH_STREAM = np.concatenate(
    [af.speech_in_noise(af.load_speech("two_utterances"), "white_20db"), af.load_speech("weather").pcm]
)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(sizes=st.lists(st.integers(1, 9000), min_size=1, max_size=8))
def test_events_independent_of_chunking_webrtc(sizes: list[int]) -> None:
    reference = feed_all(TurnDetector(WebrtcDetector(), RATE, SERVER), SPEECH_STREAM, chunk=480)
    assert len(reference) >= 4
    assert _chunked(TurnDetector(WebrtcDetector(), RATE, SERVER), SPEECH_STREAM, sizes) == reference


@settings(max_examples=25, deadline=None, derandomize=True)
@given(sizes=st.lists(st.integers(1, 3000), min_size=1, max_size=8), rate=st.sampled_from([24000, 8000]))
def test_events_independent_of_chunking_energy(sizes: list[int], rate: int) -> None:
    pcm = bursts((100, 450), (900, 1500), (1690, 2000), total_ms=2600, rate=rate)
    reference = feed_all(energy_td(rate=rate), pcm, chunk=rate // 50)
    assert len(reference) == 4
    assert _chunked(energy_td(rate=rate), pcm, sizes) == reference


@pytest.mark.parametrize("chunk_ms", [1, 20, 100, 1000])
def test_fixed_chunk_sizes_give_identical_events(chunk_ms: int) -> None:
    clip = af.load_speech("two_utterances")
    ref = feed_all(TurnDetector(WebrtcDetector(), RATE, SERVER), clip.pcm, chunk=480)
    got = feed_all(TurnDetector(WebrtcDetector(), RATE, SERVER), clip.pcm, chunk=24 * chunk_ms)
    assert got == ref


# --- real speech fixtures -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", af.SPEECH_CLIPS)
@pytest.mark.parametrize("silence_ms", [200, 500])
def test_speech_fixture_turns_near_labels(name: str, silence_ms: int) -> None:
    clip = af.load_speech(name)
    settings = replace(SERVER, silence_duration_ms=silence_ms)
    turns = turns_of(feed_all(TurnDetector(make_detector("webrtc", RATE), RATE, settings), clip.pcm))
    expected = clip.expected_turns(silence_ms)
    assert len(turns) == len(expected)
    buffer_start = 0
    for (started, stopped), (start, end) in zip(turns, expected, strict=True):
        assert stopped is not None
        assert abs(started.onset_ms - start) <= 40
        assert started.audio_start_ms == max(buffer_start, started.onset_ms - 300)
        assert abs(stopped.last_voiced_ms - end) <= 100
        assert stopped.audio_end_ms == stopped.last_voiced_ms + silence_ms
        buffer_start = stopped.audio_end_ms


@pytest.mark.parametrize("kind", af.NOISE_KINDS)
@pytest.mark.parametrize("level", af.NOISE_LEVELS_DBFS)
def test_no_turn_on_noise_default_detector(kind: str, level: int) -> None:
    td = TurnDetector(make_detector("webrtc", RATE), RATE, SERVER)
    assert feed_all(td, af.load_noise(kind, level)) == []


def test_no_turn_on_white_noise_minus_40_dbfs_long() -> None:
    noise = af.to_int16(af.white_noise(RATE * 20, -40.0, seed=99))
    td = TurnDetector(make_detector("webrtc", RATE), RATE, SERVER)
    assert feed_all(td, noise, chunk=2400) == []
    assert not td.in_speech


@pytest.mark.parametrize("fmt", [AudioFormat.G711_ULAW, AudioFormat.G711_ALAW])
def test_g711_time_base(fmt: AudioFormat) -> None:
    clip = af.load_speech("two_utterances")
    wire = clip.ulaw if fmt is AudioFormat.G711_ULAW else clip.alaw
    td = TurnDetector(make_detector("webrtc", fmt.rate), fmt.rate, SERVER)
    events: list[TurnEvent] = []
    for i in range(0, len(wire), 160):  # 20 ms of G.711 = 160 bytes
        events += td.feed(fmt.decode(wire[i : i + 160]))
    assert td.position_ms == fmt.bytes_to_ms(len(wire)) == clip.labels["duration_ms"]
    ref = feed_all(TurnDetector(make_detector("webrtc", RATE), RATE, SERVER), clip.pcm)
    assert len(events) == len(ref)
    for a, b in zip(events, ref, strict=True):
        assert type(a) is type(b)
        assert abs(np.subtract(*_times(a, b))) <= 30


def _times(a: TurnEvent, b: TurnEvent) -> tuple[int, int]:
    if isinstance(a, SpeechStarted) and isinstance(b, SpeechStarted):
        return a.onset_ms, b.onset_ms
    assert isinstance(a, SpeechStopped) and isinstance(b, SpeechStopped)
    return a.audio_end_ms, b.audio_end_ms


def test_declared_format_sets_the_clock() -> None:
    """µ-law bytes fed as if they were pcm16 (the client bug of docs/vad.md §1.5 [I5]): times scale by 1/6."""
    wire = af.load_speech("weather").ulaw
    td = TurnDetector(make_detector("webrtc", RATE), RATE, SERVER)
    td.feed(AudioFormat.PCM16.decode(wire[: len(wire) // 2 * 2]))
    assert td.position_ms == pytest.approx(len(wire) / 48, abs=0.05)


# --- semantic_vad ----------------------------------------------------------------------------------------------


def test_semantic_wait_table() -> None:
    assert [semantic_wait_ms(e, False) for e in ("low", "medium", "auto", "high")] == [8000, 4000, 4000, 2000]
    assert [semantic_wait_ms(e, None) for e in ("low", "medium", "auto", "high")] == [2000, 1000, 1000, 500]
    assert semantic_wait_ms("high", True) == 500


@pytest.mark.parametrize("eagerness", ["low", "medium", "auto", "high"])
@pytest.mark.parametrize("hint", [None, False, True])
def test_semantic_vad_waits_per_eagerness(eagerness: str, hint: bool | None) -> None:
    td = energy_td(TurnSettings("semantic_vad", eagerness=eagerness))
    td.set_turn_complete_hint(hint)
    events = feed_all(td, bursts((500, 1500), total_ms=10000), chunk=2400)
    assert events[0] == SpeechStarted(200, 500)
    assert events[1] == SpeechStopped(1500 + semantic_wait_ms(eagerness, hint), 1500)


def test_semantic_vad_pause_within_wait_continues_turn() -> None:
    pcm = bursts((500, 1500), (2300, 3000), total_ms=8000)  # 800 ms pause
    medium = turns_of(feed_all(energy_td(TurnSettings("semantic_vad", eagerness="medium")), pcm))
    high = turns_of(feed_all(energy_td(TurnSettings("semantic_vad", eagerness="high")), pcm))
    assert [(s.onset_ms, e.last_voiced_ms if e else None) for s, e in medium] == [(500, 3000)]
    assert [(s.onset_ms, e.last_voiced_ms if e else None) for s, e in high] == [(500, 1500), (2300, 3000)]


def test_semantic_hint_is_per_turn_and_can_change_mid_silence() -> None:
    td = energy_td(TurnSettings("semantic_vad", eagerness="high"))
    td.set_turn_complete_hint(False)
    pcm = bursts((500, 1000), (4000, 4500), total_ms=6000)
    events = feed_all(td, pcm[: 3900 * 24])
    assert events[1] == SpeechStopped(3000, 1000)  # incomplete: the 2 s maximum
    events = feed_all(td, pcm[3900 * 24 :])
    assert events[1] == SpeechStopped(5000, 4500)  # hint cleared with the previous turn: 500 ms
    td2 = energy_td(TurnSettings("semantic_vad", eagerness="high"))
    td2.set_turn_complete_hint(False)
    assert len(feed_all(td2, pcm[: 1800 * 24])) == 1  # 800 ms of silence: still waiting
    td2.set_turn_complete_hint(True)  # the cue arrives late: the turn ends at the next frame
    assert feed_all(td2, pcm[1800 * 24 : 1810 * 24]) == [SpeechStopped(1810, 1000)]


def test_semantic_hint_ignored_by_server_vad() -> None:
    td = energy_td()
    td.set_turn_complete_hint(False)
    events = feed_all(td, bursts((500, 1000), total_ms=2000))
    assert events[1] == SpeechStopped(1200, 1000)


def test_settings_validation() -> None:
    with pytest.raises(ValueError):
        TurnSettings("server_vad", threshold=1.5)
    with pytest.raises(ValueError):
        TurnSettings("semantic_vad", eagerness="eager")
    with pytest.raises(ValueError):
        TurnSettings("server_vad", silence_duration_ms=-1)
    with pytest.raises(ValueError):
        TurnSettings("push_to_talk")  # type: ignore[arg-type]


def test_rtf_smoke() -> None:
    """vad.md §5.5: decode + resample + VAD <= 0.01 CPU-s per audio-s (webrtc path; ~0.0015 measured)."""
    import time

    wire = AudioFormat.PCM16.encode(np.tile(SPEECH_STREAM, 2))
    audio_s = len(wire) / 48000
    td = TurnDetector(make_detector("webrtc", RATE), RATE, SERVER)
    t0 = time.process_time()
    for i in range(0, len(wire), 960):
        td.feed(AudioFormat.PCM16.decode(wire[i : i + 960]))
    assert (time.process_time() - t0) / audio_s < 0.01


# -- deferred work (issue 14): exactly the frame-by-frame events, from the same feed calls ---------------------------


def _script(seed: int, total: int) -> list[tuple[str, int]]:
    """Random chunk sizes (1 sample to 150 ms) with resets, settings changes, hints and reads in between."""
    rng = np.random.default_rng(seed)
    ops: list[tuple[str, int]] = []
    fed = 0
    while fed < total:
        n = int(rng.choice([1, 7, 80, 160, 479, 480, 960, 2400, 3600, int(rng.integers(1, 3600))]))
        ops.append(("feed", min(n, total - fed)))
        fed += n
        roll = rng.random()
        if roll < 0.02:
            ops.append(("reset", 0))
        elif roll < 0.04:
            ops.append(("settings", int(rng.integers(0, 4))))
        elif roll < 0.06:
            ops.append(("hint", int(rng.integers(0, 3))))
        elif roll < 0.08:
            ops.append(("decided", 0))
    return ops


_SETTINGS = [SERVER, TurnSettings("server_vad", threshold=0.3, silence_duration_ms=200, prefix_padding_ms=100),
             TurnSettings("semantic_vad", eagerness="high"), TurnSettings("server_vad", min_speech_ms=200)]


def _run_script(td: TurnDetector, pcm: np.ndarray, ops: list[tuple[str, int]], wire: bool = False) -> list[object]:
    """Run ``ops``; with ``wire`` the audio goes in as wire bytes (``feed_bytes``), every fifth chunk as samples."""
    out: list[object] = []
    pos = 0
    for k, (op, arg) in enumerate(ops):
        if op == "feed":
            chunk = pcm[pos:pos + arg]
            events = td.feed_bytes(chunk.astype("<i2").tobytes()) if wire and k % 5 else td.feed(chunk)
            out.append(("feed", events, td.in_speech, td.buffer_start_ms))
            pos += arg
        elif op == "reset":
            td.reset(int(td.position_ms))
        elif op == "settings":
            td.update_settings(_SETTINGS[arg])
        elif op == "hint":
            td.set_turn_complete_hint([None, True, False][arg])
        else:
            out.append(("decided", td.decided_ms))
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("detector", ["webrtc", "energy"])
def test_deferred_work_returns_the_same_events_from_the_same_calls(seed: int, detector: str) -> None:
    clip = af.load_speech(af.SPEECH_CLIPS[seed % len(af.SPEECH_CLIPS)])
    noisy = af.speech_in_noise(clip, "white_20db")
    pcm = np.concatenate([silence(700), noisy, silence(900), clip.pcm, silence(300), noisy])
    if seed % 3 == 2:  # 8 kHz input: the identity resampler (G.711)
        pcm, rate = StreamResampler(RATE, 8000).process(pcm), 8000
    else:
        rate = RATE
    ops = _script(seed, pcm.shape[0])
    settings = _SETTINGS[seed % len(_SETTINGS)]
    eager = TurnDetector(make_detector(detector, rate), rate, settings, defer=False)
    wire = AudioFormat.PCM16 if rate == RATE else AudioFormat.PCM16_8K
    lazy = TurnDetector(make_detector(detector, rate), rate, settings, wire=wire)
    # A frame hook makes the state machine visit every frame (no batch shortcut, no deferral).
    framewise = TurnDetector(make_detector(detector, rate), rate, settings, on_frame=lambda ms, score: None)
    expected = _run_script(framewise, pcm, ops)
    assert _run_script(eager, pcm, ops) == expected
    assert _run_script(lazy, pcm, ops, wire=True) == expected
    stops = [e for step in expected if isinstance(step, tuple) and step[0] == "feed" for e in step[1]
             if isinstance(e, SpeechStopped)]
    assert stops  # the script exercises whole turns


def test_wire_bytes_decode_per_batch_as_per_append() -> None:
    """G.711 appends held undecoded and decoded per batch give the events of decoding each append."""
    clip = af.load_speech("weather")
    pcm = StreamResampler(RATE, 8000).process(np.concatenate([silence(500), clip.pcm, silence(900)]))
    ulaw = AudioFormat.G711_ULAW
    appends = [ulaw.encode(pcm[i:i + 160]) for i in range(0, pcm.shape[0], 160)]
    eager = TurnDetector(make_detector("webrtc", 8000), 8000, SERVER, defer=False)
    lazy = TurnDetector(make_detector("webrtc", 8000), 8000, SERVER, wire=ulaw)
    expected = [eager.feed(ulaw.decode(data)) for data in appends]
    assert [lazy.feed_bytes(data) for data in appends] == expected
    assert any(isinstance(e, SpeechStopped) for events in expected for e in events)


def test_wire_format_must_match_the_input_rate() -> None:
    with pytest.raises(ValueError, match="8000 Hz"):
        TurnDetector(make_detector("webrtc", 24000), 24000, SERVER, wire=AudioFormat.G711_ULAW)
    with pytest.raises(TypeError, match="wire format"):
        TurnDetector(make_detector("webrtc", 24000), 24000, SERVER).feed_bytes(b"\0\0")


def test_a_mutable_wire_buffer_is_copied_when_held() -> None:
    """A caller that reuses its buffer after feed_bytes does not change what the detector decides."""
    pcm = np.concatenate([silence(300), af.load_speech("weather").pcm, silence(900)])
    appends = [pcm[i:i + 480].astype("<i2").tobytes() for i in range(0, pcm.shape[0], 480)]
    reference = TurnDetector(make_detector("webrtc", RATE), RATE, SERVER, wire=AudioFormat.PCM16)
    reused = TurnDetector(make_detector("webrtc", RATE), RATE, SERVER, wire=AudioFormat.PCM16)
    expected = [reference.feed_bytes(data) for data in appends]
    got = []
    for data in appends:
        buffer = bytearray(data)
        got.append(reused.feed_bytes(buffer))  # type: ignore[arg-type]  # what a careless caller might pass
        buffer[:] = bytes(len(buffer))
    assert got == expected and any(expected)
