"""/api/public/tickets/{number}?c=KEY: the customer's read-only view (services/client_access.py)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from tui_helpdesk.services import client_access, door
from tui_helpdesk.services.context import Actor

from .. import schemas, shape
from ..auth import engine_of

router = APIRouter(tags=["public"])

PUBLIC = Actor(agent_id=None, username="public view", is_admin=False, origin="api")


@router.get("/public/tickets/{number}", response_model=schemas.PublicTicket,
            responses={404: {"model": schemas.Error, "description": "no ticket with that number and key"},
                       422: {"model": schemas.Error, "description": "invalid input"}},
            summary="A ticket as its customer may see it (no key needed beyond the ticket's own)")
def public_ticket(request: Request, number: str, c: str = Query(..., description="the ticket's client key")
                  ) -> schemas.PublicTicket:
    return shape.public(door.read(engine_of(request), PUBLIC, client_access.view, number, c))
