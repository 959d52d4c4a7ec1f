"""The app factory and the one mapping of service errors to HTTP answers.

Every error body is `{"error": <message>, "field": <field or null>}`. Statuses: 401 no or bad key, 403 not
allowed, 404 unknown (and a ticket outside the key's scope: NoAccess, so numbers cannot be probed), 409
conflict, 412 stale version, 413 too large, 422 invalid (the field named), 429 too many failed
authentications, 503 database unavailable. Anything else is a bug: logged with its traceback, answered
with a plain 500 that tells nothing about the internals.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tui_helpdesk.services import api_keys
from tui_helpdesk.services.errors import (
    Conflict,
    NoAccess,
    NotFound,
    PermissionDenied,
    ServiceError,
    StaleVersion,
    ValidationError,
)
from tui_helpdesk.services.filter_query import FilterError

log = logging.getLogger("tui_helpdesk.api")

MAX_BODY = 10 * 1024 * 1024  # a request body above this is refused (413) before it is read


def error(status: int, message: str, field: str | None = None, headers: dict[str, str] | None = None
          ) -> JSONResponse:
    return JSONResponse({"error": message, "field": field}, status_code=status, headers=headers)


def _status_of(exc: ServiceError) -> tuple[int, str | None]:
    if isinstance(exc, ValidationError):
        return 422, exc.field
    if isinstance(exc, NotFound | NoAccess):
        return 404, None
    if isinstance(exc, PermissionDenied):
        return 403, None
    if isinstance(exc, StaleVersion):
        return 412, None
    if isinstance(exc, Conflict):
        return 409, None
    return 409, None  # a refusal with nothing more specific: the object's state forbids it


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    if isinstance(exc, api_keys.RateLimited):
        return error(429, str(exc), headers={"Retry-After": str(exc.retry_after)})
    if isinstance(exc, api_keys.Unauthenticated):
        return error(401, str(exc), headers={"WWW-Authenticate": "Bearer"})
    status, field = _status_of(exc)
    if isinstance(exc, NoAccess):
        return error(404, "not found")
    return error(status, str(exc), field)


async def _filter_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FilterError)
    field = exc.term.split(":", 1)[0].split(" ", 1)[0].lstrip("-") or None
    return error(422, str(exc), field)


async def _request_invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first: dict[str, Any] = errors[0] if errors else {}
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header")]
    field = ".".join(loc) or None
    message = f"{field}: {first.get('msg', 'invalid')}" if field else str(first.get("msg", "invalid request"))
    return error(422, message, field)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return error(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))


async def _database_down(request: Request, exc: Exception) -> JSONResponse:
    return error(503, str(exc))


async def _bug(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error(500, "internal error (logged on the server)")


class BodyLimit:
    """413 for a body over `limit` bytes: by its Content-Length, or while it streams in without one."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or ()).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error(413, f"the request body is larger than {self.limit} bytes")
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


def create_app(engine: Engine, *, throttle: api_keys.FailureThrottle | None = None,
               max_body: int = MAX_BODY) -> FastAPI:
    from .routes import directory, public, public_kb, replies, tickets

    app = FastAPI(
        title="tui-helpdesk API",
        version="1",
        description="The help desk's tickets, replies and people, as the key's agent may see and change them.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.throttle = throttle or api_keys.FailureThrottle()
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(FilterError, _filter_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    from tui_helpdesk.db import DatabaseUnavailable

    app.add_exception_handler(DatabaseUnavailable, _database_down)
    app.add_exception_handler(Exception, _bug)
    app.add_middleware(BodyLimit, limit=max_body)
    for module in (tickets, replies, directory, public, public_kb):
        app.include_router(module.router, prefix="/api")
    return app
