"""`Authorization: Bearer KEY` -> the Actor of the key's agent (the rule is services/api_keys.py)."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from tui_helpdesk.services import api_keys
from tui_helpdesk.services.context import Actor

# auto_error=False: a missing header is refused by the service like a bad key (audited, counted)
bearer = HTTPBearer(auto_error=False, description="an API key from `helpdesk api-key create`")


def engine_of(request: Request) -> Engine:
    return request.app.state.engine


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def current_actor(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
) -> Actor:
    return api_keys.authenticate(
        engine_of(request),
        credentials.credentials if credentials else None,
        client=client_address(request),
        throttle=request.app.state.throttle,
    )
