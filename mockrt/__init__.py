"""mockrt — a local, offline, faithful mock of the OpenAI / Azure OpenAI Realtime API.

The protocol lives in :mod:`mockrt.core` (sans-I/O: client events and a timestamp in, server events and
transport directives out); :mod:`mockrt.server` is the thin Starlette/uvicorn layer around it.
"""

from mockrt.config import ServerConfig

__version__ = "0.1.0"

__all__ = ["ServerConfig", "__version__"]
