"""The WebRTC transport of a call, on aiortc (docs/protocol.md §11): SDP offer → answer, Opus from the caller
decoded and resampled into the call's one session, the assistant's audio pulled from the session's output audio
buffer and sent as Opus RTP paced in real time, and the ``oai-events`` data channel carrying the same JSON events
as a WebSocket.

aiortc is optional (the ``calls`` extra): without it ``POST /v1/realtime/calls`` answers 501.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from mockrt.audio.formats import AudioFormat
from mockrt.audio.resample import StreamResampler
from mockrt.core import errors
from mockrt.server.calls import Call

if TYPE_CHECKING:
    from aiortc import RTCPeerConnection

logger = logging.getLogger("mockrt.calls")

RTP_RATE = 48_000  # Opus always runs on a 48 kHz clock
PTIME_S = 0.020  # 20 ms packets, as browsers send
EVENTS_LABEL = "oai-events"
HEARD = AudioFormat.PCM16
"""What a WebRTC call keeps of its played-out audio (``Call.heard``): pcm16 at 24 kHz, before Opus."""


def available() -> bool:
    try:
        import aiortc  # noqa: F401
    except ImportError:  # pragma: no cover - the calls extra is installed in the test environment
        return False
    return True


def check_offer(sdp: str) -> None:
    """The service's answer to an offer it cannot use: not SDP at all, or no audio to talk over (§11)."""
    lines = [line.strip() for line in sdp.replace("\r\n", "\n").split("\n") if line.strip()]
    if not lines or not lines[0].startswith("v=") or not any(line.startswith("m=") for line in lines):
        raise errors.invalid_sdp("expected a session description starting with 'v=' and with media sections.")
    if not any(line.startswith("m=audio ") for line in lines):
        raise errors.sdp_no_audio()


class PlayoutTrack:
    """Outbound audio: every 20 ms of wall time, pull 20 ms from the call's output buffer (silence when empty),
    upsample to 48 kHz; aiortc encodes it as Opus. Pacing follows the frames' own timestamps, like aiortc's tracks.
    """

    def __new__(cls, call: Call) -> Any:
        from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
        from av import AudioFrame

        class _Track(MediaStreamTrack):
            kind = "audio"

            def __init__(self) -> None:
                super().__init__()
                self._start: float | None = None
                self._pts = 0
                self._resampler: StreamResampler | None = None
                self._rate = 0
                self._to_heard: StreamResampler | None = None
                self.sent_ms = 0.0

            async def recv(self) -> AudioFrame:
                if self.readyState != "live":
                    raise MediaStreamError
                loop = asyncio.get_running_loop()
                samples = int(RTP_RATE * PTIME_S)
                if self._start is None:
                    self._start = loop.time()
                else:
                    self._pts += samples
                    wait = self._start + self._pts / RTP_RATE - loop.time()
                    if wait > 0:
                        await asyncio.sleep(wait)
                pcm = self._next(samples)
                frame = AudioFrame(format="s16", layout="mono", samples=samples)
                frame.planes[0].update(pcm.tobytes())
                frame.pts = self._pts
                frame.sample_rate = RTP_RATE
                frame.time_base = fractions.Fraction(1, RTP_RATE)
                return frame

            def _next(self, samples: int) -> np.ndarray[Any, np.dtype[np.int16]]:
                fmt = call.session.config.output_format if call.session is not None else AudioFormat.PCM16
                if self._resampler is None or self._rate != fmt.rate:
                    self._resampler, self._rate = StreamResampler(fmt.rate, RTP_RATE), fmt.rate
                data = call.pull_audio(int(fmt.bytes_per_ms * PTIME_S * 1000))
                self._keep(fmt, data)
                out = self._resampler.process(fmt.decode(data)) if data else np.zeros(0, np.int16)
                if len(out) < samples:
                    out = np.concatenate([out, np.zeros(samples - len(out), np.int16)])
                return out[:samples].astype(np.int16)

            def _keep(self, fmt: AudioFormat, data: bytes) -> None:
                """What this packet played, silence included, kept on the call at 24 kHz (``Call.heard``)."""
                pcm = fmt.decode(data) if data else np.zeros(0, np.int16)
                want = int(fmt.rate * PTIME_S)
                if len(pcm) < want:
                    pcm = np.concatenate([pcm, np.zeros(want - len(pcm), np.int16)])
                if fmt.rate != HEARD.rate:
                    if self._to_heard is None or self._to_heard.src_rate != fmt.rate:
                        self._to_heard = StreamResampler(fmt.rate, HEARD.rate)
                    pcm = self._to_heard.process(pcm)
                call.keep_heard(HEARD.encode(pcm))

        return _Track()


async def _read_caller(call: Call, track: Any) -> None:
    """Inbound audio: decoded frames (Opus → 48 kHz) → mono → the session's input rate and format."""
    from aiortc.mediastreams import MediaStreamError

    resampler: StreamResampler | None = None
    while not call.ended.is_set():
        try:
            frame = await track.recv()
        except MediaStreamError:
            return
        if call.session is None:
            continue
        fmt = call.session.buffer.format
        if resampler is None or resampler.src_rate != frame.sample_rate or resampler.dst_rate != fmt.rate:
            resampler = StreamResampler(frame.sample_rate, fmt.rate)
        channels = len(frame.layout.channels)
        pcm = frame.to_ndarray().reshape(-1, channels)[:, 0].astype(np.int16)
        call.feed_audio(fmt.encode(resampler.process(pcm)))


class DataChannelSink:
    """The ``oai-events`` data channel as an event channel of the call."""

    def __init__(self, channel: Any) -> None:
        self.channel = channel

    def send_text(self, text: str) -> None:
        if self.channel.readyState == "open":
            self.channel.send(text)

    def close(self, code: int, reason: str) -> None:
        if self.channel.readyState == "open":
            self.channel.close()


async def answer(call: Call, offer_sdp: str) -> str:
    """Negotiate the peer connection for ``call``; the SDP answer. The call ends with the peer (hangup, ICE or
    DTLS failure, close)."""
    from aiortc import RTCPeerConnection, RTCSessionDescription

    check_offer(offer_sdp)
    call.heard_format = HEARD
    pc: RTCPeerConnection = RTCPeerConnection()
    tasks: set[asyncio.Task[None]] = set()

    async def release() -> None:
        for task in tasks:
            task.cancel()
        await pc.close()

    call.on_end.append(release)

    @pc.on("datachannel")
    def on_datachannel(channel: Any) -> None:
        if channel.label != EVENTS_LABEL:
            return
        sink = DataChannelSink(channel)

        def opened() -> None:
            call.attach(sink)

        @channel.on("message")  # type: ignore[untyped-decorator]
        def on_message(message: str | bytes) -> None:
            if isinstance(message, str):
                call.receive_text(message)
            else:
                call.receive_bytes(message)

        @channel.on("close")  # type: ignore[untyped-decorator]
        def on_close() -> None:
            call.detach(sink)

        if channel.readyState == "open":
            opened()
        else:
            channel.on("open", opened)

    @pc.on("track")
    def on_track(track: Any) -> None:
        if track.kind == "audio":
            task = asyncio.get_running_loop().create_task(_read_caller(call, track))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    @pc.on("connectionstatechange")
    async def on_state() -> None:
        if pc.connectionState in ("failed", "closed"):
            await call.end(f"peer connection {pc.connectionState}")

    try:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
    except Exception as exc:  # aiortc raises ValueError and friends on SDP it cannot use
        await call.end("bad offer")
        raise errors.invalid_sdp(str(exc)[:200]) from None
    pc.addTrack(PlayoutTrack(call))
    answer_ = await pc.createAnswer()
    await pc.setLocalDescription(answer_)
    return str(pc.localDescription.sdp)
