"""Session settings with effect: reasoning defaults, truncation (docs/protocol.md §4.3, §4.15, §5.14)."""

from __future__ import annotations

from typing import Any

from conformance import Ctx, case
from conformance.checks import expect, expect_equal
from conformance.client import Session

from ._common import manual, user_text

Json = dict[str, Any]

REASONING_MODEL = "gpt-realtime-2"
WORDS = " ".join(["apple"] * 40)


def _input_tokens(s: Session) -> tuple[int, Json]:
    turn = s.respond()
    expect_equal(turn.status, "completed", "response.done status")
    usage = turn.response.get("usage") or {}
    return int(usage.get("input_tokens", 0)), turn.response


@case(id="session/reasoning/defaults", section="§4.3, §4.15",
      description="a reasoning model's session shows reasoning.effort and parallel_tool_calls; updates echo them",
      requirement="gpt-realtime-2 sessions carry reasoning {effort} (default low [R]) and parallel_tool_calls "
                  "(default true [I]); a session.update with other values is echoed in session.updated [D].",
      level="should", dialects=("ga",))
def test_reasoning_defaults(ctx: Ctx) -> None:
    s = ctx.connect(model=REASONING_MODEL)
    session = s.created["session"]
    expect_equal(session.get("reasoning"), {"effort": "low"}, "session.created reasoning")
    expect_equal(session.get("parallel_tool_calls"), True, "session.created parallel_tool_calls")
    updated = s.update(extra={"reasoning": {"effort": "high"}, "parallel_tool_calls": False})
    expect_equal(updated.get("reasoning"), {"effort": "high"}, "session.updated reasoning")
    expect_equal(updated.get("parallel_tool_calls"), False, "session.updated parallel_tool_calls")


@case(id="session/truncation/retention-ratio", section="§5.14, §4.3",
      description="retention_ratio truncation drops the oldest items from a response's input once over its limit",
      requirement="truncation {type: retention_ratio, retention_ratio, token_limits.post_instructions}: once the "
                  "conversation exceeds post_instructions, the oldest messages leave the model's context until the "
                  "ratio of the limit is used; input usage counts only what is retained [D].",
      level="should", dialects=("ga",), timeout=30.0)
def test_retention_ratio(ctx: Ctx) -> None:
    s = manual(ctx, extra={"truncation": {"type": "retention_ratio", "retention_ratio": 0.5,
                                          "token_limits": {"post_instructions": 200}}})
    user_text(s, WORDS)
    small, _ = _input_tokens(s)
    for _ in range(8):
        user_text(s, WORDS)
    truncated, _ = _input_tokens(s)
    untruncated = 9 * (small - 10)  # nine items of WORDS, at least, without truncation
    expect(truncated < untruncated // 2,
           f"input usage counts only the retained part: {truncated} tokens for ~{untruncated} in the conversation")
    expect(truncated > 0, "a response still sees something")


@case(id="session/truncation/disabled", section="§5.14",
      description="with truncation disabled, a response whose input exceeds the model's limit fails",
      requirement="truncation \"disabled\": the server never truncates and returns an error once the conversation "
                  "exceeds the model's input token limit [D]; mockrt: a failed response [I].",
      level="should", dialects=("ga",), timeout=30.0, targets=("mock", "url"))
def test_truncation_disabled(ctx: Ctx) -> None:
    s = manual(ctx, extra={"truncation": "disabled"})
    user_text(s, " ".join(["apple"] * 30_000))
    user_text(s, "What now?")
    turn = s.respond()
    expect_equal(turn.status, "failed", "response.done status with the context exceeded")
    error = (turn.response.get("status_details") or {}).get("error") or {}
    expect_equal(error.get("code"), "context_length_exceeded", "status_details.error.code")
    s.update(extra={"truncation": "auto"})
    ok, _ = _input_tokens(s)
    expect(ok <= 28_224, f"auto truncation fits the 28,224-token limit: {ok}")
