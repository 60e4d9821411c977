"""The session inspector (issue 8): a page under ``/_mockrt/`` that shows what happened in a session.

``routes`` (Starlette routes) are added to the app beside the admin API; see :mod:`mockrt.inspector.endpoints` for
the endpoints and :mod:`mockrt.inspector.analysis` for how the journal becomes a timeline, the input audio with the
VAD's view (replayed deterministically), the responses' output audio and the conversation.
"""

from mockrt.inspector.analysis import SessionAnalysis
from mockrt.inspector.endpoints import routes

__all__ = ["SessionAnalysis", "routes"]
