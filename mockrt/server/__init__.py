"""The I/O layer: a Starlette app on uvicorn around the sans-I/O core."""

from mockrt.server.app import create_app
from mockrt.server.runner import ServerThread, serve

__all__ = ["ServerThread", "create_app", "serve"]
