"""The one admin authorisation check, for the admin API and the inspector alike (SECURITY.md).

When ``admin_token`` is set, everything under ``/_mockrt/`` but the inspector's static assets and its login needs
the token, either as ``Authorization: Bearer <token>`` (scripts, the Python control API's HTTP twin) or as the
HttpOnly, ``SameSite=Strict`` cookie that ``POST /_mockrt/login`` sets from a form (browsers: the token never
appears in a URL). Every comparison is constant-time (:func:`hmac.compare_digest`).

:class:`AdminAuth` is a pure ASGI middleware mounted on the ``/_mockrt`` routes; unauthenticated page requests
(``Accept: text/html``) get the login form, everything else the JSON 401 of :mod:`mockrt.server.rest_errors`.
"""

from __future__ import annotations

import hmac
import html
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mockrt.server.policy import ADMIN_PREFIX
from mockrt.server.rest_errors import error_response

COOKIE = "mockrt_admin"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
       "connect-src 'self'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def same_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a presented secret with the expected one (``None`` never matches)."""
    return given is not None and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def presented_token(headers: dict[str, str]) -> list[str]:
    """Every admin token the request presents: the bearer header and the inspector's cookie."""
    found = []
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        found.append(value.strip())
    if "cookie" in headers:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(headers["cookie"])
        except Exception:  # a malformed cookie header authorises nothing
            return found
        if COOKIE in jar:
            found.append(jar[COOKIE].value)
    return found


def authorised(headers: dict[str, str], token: str | None) -> bool:
    """``True`` when no token is configured or the request presents it."""
    if not token:
        return True
    return any(same_secret(value, token) for value in presented_token(headers))


def unauthorised() -> Response:
    return error_response(401, "Admin token required.", "admin_unauthorized")


def login_page(next_path: str = f"{ADMIN_PREFIX}/", status: int = 401) -> HTMLResponse:
    """The token form; it posts to ``/_mockrt/login`` (same origin), which sets the cookie."""
    body = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>mockrt inspector: token</title>
<link rel="stylesheet" href="{ADMIN_PREFIX}/static/inspector.css"></head><body class="login">
<h1>mockrt inspector</h1><p>This server has an admin token. Enter it to open the inspector
(it is kept in an HttpOnly cookie for <code>{ADMIN_PREFIX}/</code>).</p>
<form method="post" action="{ADMIN_PREFIX}/login">
<input type="hidden" name="next" value="{html.escape(next_path, quote=True)}">
<input type="password" name="token" autocomplete="current-password" autofocus>
<button type="submit">Open</button></form></body></html>"""
    return HTMLResponse(body, status_code=status,
                        headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store"})


def _safe_next(value: str) -> str:
    """Only paths of this server's admin area (no open redirect)."""
    if value.startswith(ADMIN_PREFIX + "/") and not value.startswith("//") and "\\" not in value:
        return value
    return f"{ADMIN_PREFIX}/"


async def login(request: Request) -> Response:
    """``POST /_mockrt/login`` (form: ``token``, ``next``): set the cookie and go to ``next``; a wrong token gets
    the form again with 401."""
    token: str | None = request.app.state.mock.config.admin_token
    body = (await request.body()).decode("utf-8", "replace")
    form = dict(parse_qsl(body, keep_blank_values=True))
    next_path = _safe_next(form.get("next", f"{ADMIN_PREFIX}/"))
    if not token:
        return RedirectResponse(next_path, status_code=303)
    given = form.get("token", "")
    if not same_secret(given, token):
        return login_page(next_path)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(COOKIE, given, path=ADMIN_PREFIX, httponly=True, samesite="strict")
    return response


class AdminAuth:
    """ASGI middleware: the admin token check for every route it wraps."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token: str | None = scope["app"].state.mock.config.admin_token
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if authorised(headers, token):
            await self.app(scope, receive, send)
            return
        page = scope.get("method") == "GET" and "text/html" in headers.get("accept", "")
        response = login_page(_safe_next(scope.get("path", ""))) if page else unauthorised()
        await response(scope, receive, send)
