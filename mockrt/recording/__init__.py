"""Record and replay (WireMock's record/playback, VCR.py's cassettes).

- :mod:`~mockrt.recording.transcript`: the JSONL transcript format, redaction, reading/writing, and
  :func:`from_journal` (a mock session as a transcript);
- :mod:`~mockrt.recording.proxy`: :class:`RecordingProxy`, the recording WebSocket proxy behind ``mockrt record``;
- :mod:`~mockrt.recording.replay`: :func:`load_recording`, a transcript as a replay :class:`~mockrt.scenarios.Scenario`
  (:func:`mockrt.scenarios.load_scenario` loads recordings and scenario files alike);
- :mod:`~mockrt.recording.diff`: :func:`normalize` and :func:`diff` behind ``mockrt diff``.
"""

from mockrt.recording.diff import diff, normalize
from mockrt.recording.proxy import ProxyThread, RecordingProxy
from mockrt.recording.replay import is_replayable, load_recording, scenario_from_transcript
from mockrt.recording.transcript import (
    TranscriptError,
    TranscriptWriter,
    dumps_transcript,
    from_journal,
    from_journal_entries,
    parse_transcript,
    read_transcript,
    redact,
    write_transcript,
)

__all__ = [
    "ProxyThread",
    "RecordingProxy",
    "TranscriptError",
    "TranscriptWriter",
    "diff",
    "dumps_transcript",
    "from_journal",
    "from_journal_entries",
    "is_replayable",
    "load_recording",
    "normalize",
    "parse_transcript",
    "read_transcript",
    "redact",
    "scenario_from_transcript",
    "write_transcript",
]
