"""Sans-I/O audio and voice-activity layer: codecs, formats, resampling, detectors and turn detection.

Pure functions and classes (no asyncio, sockets or clocks), following docs/vad.md §5 (design) and
docs/protocol.md §5.5 / §7 (event semantics and audio facts):

* :mod:`mockrt.audio.g711` - table-based ITU-T G.711 µ-law/A-law codecs;
* :mod:`mockrt.audio.formats` - :class:`AudioFormat` (pcm16 24 kHz, G.711 8 kHz) and its time base;
* :mod:`mockrt.audio.resample` - chunk-invariant streaming resampler;
* :mod:`mockrt.audio.detectors` - frame speech scorers (webrtc default, energy, optional Silero);
* :mod:`mockrt.audio.turns` - the ``server_vad`` / ``semantic_vad`` turn state machine on audio time.
"""

from mockrt.audio.detectors import (
    DETECTOR_NAMES,
    Detector,
    DetectorUnavailable,
    EnergyDetector,
    SileroDetector,
    WebrtcDetector,
    make_detector,
)
from mockrt.audio.formats import AudioFormat
from mockrt.audio.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from mockrt.audio.resample import StreamResampler
from mockrt.audio.turns import (
    SEMANTIC_MAX_WAIT_MS,
    SpeechStarted,
    SpeechStopped,
    TurnDetector,
    TurnEvent,
    TurnSettings,
    semantic_wait_ms,
)

__all__ = [
    "DETECTOR_NAMES",
    "SEMANTIC_MAX_WAIT_MS",
    "AudioFormat",
    "Detector",
    "DetectorUnavailable",
    "EnergyDetector",
    "SileroDetector",
    "SpeechStarted",
    "SpeechStopped",
    "StreamResampler",
    "TurnDetector",
    "TurnEvent",
    "TurnSettings",
    "WebrtcDetector",
    "alaw_decode",
    "alaw_encode",
    "make_detector",
    "semantic_wait_ms",
    "ulaw_decode",
    "ulaw_encode",
]
