"""The sans-I/O protocol core: no sockets, no asyncio, no clock.

A :class:`~mockrt.core.session.RealtimeSession` takes parsed client events plus a timestamp and returns
:class:`~mockrt.core.outputs.Send` / :class:`~mockrt.core.outputs.Close` directives; scheduled output (paced
deltas, expiry) is released by :meth:`~mockrt.core.session.RealtimeSession.poll`.
"""

from mockrt.core.dialects import GA, Beta, Dialect, VoiceLive
from mockrt.core.outputs import Close, Output, Send
from mockrt.core.session import RealtimeSession, SessionOptions

__all__ = ["GA", "Beta", "Close", "Dialect", "Output", "RealtimeSession", "Send", "SessionOptions", "VoiceLive"]
