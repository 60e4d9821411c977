"""The I/O layer: a Starlette app on uvicorn around the sans-I/O core. Embedding a server on a thread of this
process (tests, the pytest plugin) is :class:`mockrt.thread.ServerThread`, a face above this layer."""

from mockrt.server.app import create_app
from mockrt.server.runner import serve

__all__ = ["create_app", "serve"]
