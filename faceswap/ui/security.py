"""Who may talk to the server: the Host header (against DNS rebinding), a token when it listens
beyond this machine, and a custom header on every change (a form on another site cannot send one)."""
from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import JSONResponse, Response

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
TOKEN_COOKIE = "faceswap_ui_token"
CHANGE_HEADER = "x-faceswap-ui"
CHANGING_METHODS = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Access:
    host: str
    token: str | None  # required on every request when set

    @property
    def local(self) -> bool:
        return self.host in LOOPBACK_HOSTS


async def guard(request: Request, call_next, access: Access) -> Response:
    host = (request.headers.get("host") or "").rsplit(":", 1)[0].strip("[]")
    if access.local and host not in LOOPBACK_HOSTS:
        return _refuse(400, f"This page serves only 127.0.0.1 and localhost, not '{host}'; open it by that address.")
    offered = request.query_params.get("token") or request.cookies.get(TOKEN_COOKIE)
    if access.token and not (offered and hmac.compare_digest(offered, access.token)):
        return _refuse(401, "This page needs its token; open the address `faceswap ui` printed (it ends in ?token=...).")
    if request.method in CHANGING_METHODS and request.headers.get(CHANGE_HEADER) != "1":
        return _refuse(403, "Changes are accepted from the faceswap page only; reload it.")
    response = await call_next(request)
    if access.token and request.query_params.get("token"):
        response.set_cookie(TOKEN_COOKIE, access.token, httponly=True, samesite="strict")
    return response


def _refuse(status: int, sentence: str) -> JSONResponse:
    return JSONResponse({"error": sentence}, status_code=status)
