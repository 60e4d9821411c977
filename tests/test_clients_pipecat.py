"""Pipecat's ``OpenAIRealtimeLLMService`` against a running mockrt.

The service runs in a real Pipecat pipeline (``PipelineWorker`` + ``WorkerRunner``) between two taps that
record the frames it pushes up and down; the test feeds it the frames a transport and a context aggregator
would (``LLMContextFrame``, ``InputAudioRawFrame``). The service waits for ``session.created`` before its
``session.update`` and for ``session.updated`` before ``response.create``, validates the GA events it knows
with pydantic, and treats any ``error`` event but two as fatal (it pushes an ``ErrorFrame`` upstream and stops
receiving): the taps must see no ``ErrorFrame``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

pytest.importorskip("pipecat.services.openai.realtime.llm")

from pipecat.frames.frames import (
    EndFrame,
    ErrorFrame,
    Frame,
    InputAudioRawFrame,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMTextFrame,
    ProposedUserStartedSpeakingFrame,
    ProposedUserStoppedSpeakingFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSTextFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineWorker
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.services.openai.realtime import events
from pipecat.services.openai.realtime.llm import OpenAIRealtimeLLMService
from pipecat.workers.runner import WorkerRunner

from mockrt.thread import ServerThread
from tests.clients_support import WAIT_S, Recorder, chunks, speech_turn


@dataclass
class Seen:
    direction: FrameDirection
    frame: Frame


class Tap(FrameProcessor):
    """Records every frame travelling in ``direction`` and passes everything on."""

    def __init__(self, direction: FrameDirection, recorder: Recorder[Seen]) -> None:
        super().__init__()
        self._direction = direction
        self._recorder = recorder

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if direction == self._direction:
            await self._recorder.add(Seen(direction, frame))
        await self.push_frame(frame, direction)


@dataclass
class Bot:
    llm: OpenAIRealtimeLLMService
    worker: PipelineWorker
    frames: Recorder[Seen]

    def down(self, kind: type[Frame]) -> list[Any]:
        return [s.frame for s in self.frames.items if s.direction == FrameDirection.DOWNSTREAM
                and isinstance(s.frame, kind)]

    def up(self, kind: type[Frame]) -> list[Any]:
        return [s.frame for s in self.frames.items if s.direction == FrameDirection.UPSTREAM
                and isinstance(s.frame, kind)]

    async def wait(self, predicate: Callable[[Bot], bool]) -> None:
        await self.frames.wait_for(lambda _: predicate(self), WAIT_S)
        assert not self.up(ErrorFrame) and not self.down(ErrorFrame), self.up(ErrorFrame) + self.down(ErrorFrame)

    async def responses_done(self, n: int) -> None:
        await self.wait(lambda bot: len(bot.down(LLMFullResponseEndFrame)) >= n)


@asynccontextmanager
async def pipeline(server: ServerThread, session: events.SessionProperties) -> AsyncIterator[Bot]:
    llm = OpenAIRealtimeLLMService(
        api_key="sk-anything",
        base_url=f"{server.ws_url}/v1/realtime",  # the service appends ?model=<settings.model>
        settings=OpenAIRealtimeLLMService.Settings(model="gpt-realtime", session_properties=session),
    )
    recorder: Recorder[Seen] = Recorder()
    worker = PipelineWorker(
        Pipeline([Tap(FrameDirection.UPSTREAM, recorder), llm, Tap(FrameDirection.DOWNSTREAM, recorder)]),
        cancel_on_idle_timeout=False,
        enable_rtvi=False,
    )
    started = asyncio.Event()

    @worker.event_handler("on_pipeline_started")  # type: ignore[untyped-decorator]
    async def _started(worker: PipelineWorker, frame: Frame) -> None:
        started.set()

    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(worker)
    run = asyncio.create_task(runner.run())
    try:
        await asyncio.wait_for(started.wait(), WAIT_S)
        yield Bot(llm, worker, recorder)
        assert llm._receive_task is not None and not llm._receive_task.done(), "the receive loop ended"
        await worker.queue_frame(EndFrame())
        await asyncio.wait_for(run, WAIT_S)
    finally:
        if not run.done():
            run.cancel()


def user_says(text: str) -> LLMContextFrame:
    return LLMContextFrame(LLMContext(messages=[{"role": "user", "content": text}]))


def test_text_turn(server: ServerThread) -> None:
    async def main() -> None:
        async with pipeline(server, events.SessionProperties(output_modalities=["text"])) as bot:
            await bot.worker.queue_frame(user_says("Hello pipecat"))
            await bot.responses_done(1)
            text = "".join(f.text for f in bot.down(LLMTextFrame))
            assert text == 'You said "Hello pipecat". This is the mockrt default reply.'
            assert not bot.down(TTSAudioRawFrame)

    asyncio.run(main())


def test_spoken_reply_then_vad_turn_on_speech(server: ServerThread) -> None:
    """A text message answered with speech, then a spoken turn ended by the server's VAD (server_vad, the GA
    default) with input transcription; the reply to it is created by the server, not by the service."""
    session = events.SessionProperties(
        instructions="Be brief.",
        audio=events.AudioConfiguration(input=events.AudioInput(
            transcription=events.InputAudioTranscription(model="gpt-4o-transcribe"))),
    )

    async def main() -> None:
        async with pipeline(server, session) as bot:
            await bot.worker.queue_frame(user_says("Hello"))
            await bot.responses_done(1)  # also means the session is configured (session.updated came)
            first_audio = len(bot.down(TTSAudioRawFrame))
            assert first_audio > 0 and all(f.sample_rate == 24000 for f in bot.down(TTSAudioRawFrame))
            spoken = "".join(f.text for f in bot.down(TTSTextFrame))
            assert spoken == 'You said "Hello". This is the mockrt default reply.'

            for chunk in chunks(speech_turn()):
                await bot.worker.queue_frame(InputAudioRawFrame(audio=chunk, sample_rate=24000, num_channels=1))
            await bot.responses_done(2)
            await bot.wait(lambda bot: bool(bot.up(TranscriptionFrame)))
            assert bot.down(ProposedUserStartedSpeakingFrame) and bot.down(ProposedUserStoppedSpeakingFrame)
            assert len(bot.down(TTSAudioRawFrame)) > first_audio
            transcript = bot.up(TranscriptionFrame)[0].text
            assert transcript  # the mock's transcript of the committed turn (docs/protocol.md §5.11)
            assert "".join(f.text for f in bot.down(TTSTextFrame)).endswith(
                f'You said "{transcript}". This is the mockrt default reply.')

    asyncio.run(main())
