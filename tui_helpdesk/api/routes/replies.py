"""/api/tickets/{ref}/replies: the conversation (messages, replies and notes), posting and soft deleting."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends

from tui_helpdesk.services import tickets
from tui_helpdesk.services.context import Tx
from tui_helpdesk.services.errors import NotFound

from .. import schemas, shape
from .common import RESPONSES, Face, Id, NotifyParam, face, if_match

router = APIRouter(tags=["replies"], responses=RESPONSES)


def _thread(tx: Tx, ref: str, order: str = "ASC") -> list[schemas.Reply]:
    return [shape.reply(i) for i in tickets.view(tx, ref, order=order, events=False).thread if i.kind != "event"]


@router.get("/tickets/{ref}/replies", response_model=schemas.ReplyList, summary="The conversation")
def list_replies(ref: str, f: Face = Depends(face), replies_sort: Literal["ASC", "DESC", "asc", "desc"] = "ASC"
                 ) -> schemas.ReplyList:
    return schemas.ReplyList(replies=f.read(_thread, ref, replies_sort.upper()))


def _post(tx: Tx, ref: str, body: schemas.ReplyCreate, version: int | None) -> schemas.Reply:
    if body.type == "reply":
        posted = tickets.reply(tx, ref, body.message, expected_version=version, time_spent=body.time_spent,
                               cc=body.cc, status=body.status)
    else:
        posted = tickets.note(tx, ref, body.message, expected_version=version, time_spent=body.time_spent)
        if body.status not in (None, ""):
            tickets.set_status(tx, posted.number, body.status)
    # the ticket it landed on: a merged child's parent
    return next(r for r in _thread(tx, posted.number) if r.id == posted.id)


@router.post("/tickets/{ref}/replies", response_model=schemas.Reply, status_code=201,
             summary="Post a reply (mailed to the requester) or an internal note")
def post_reply(ref: str, body: schemas.ReplyCreate, f: Face = Depends(face),
               version: int | None = Depends(if_match), notify: bool = NotifyParam) -> schemas.Reply:
    return f.write(_post, ref, body, version, notify_people=notify)


def _delete(tx: Tx, ref: str, reply_id: int, version: int | None) -> schemas.Deleted:
    on_ticket = {i.id for i in tickets.view(tx, ref, events=False).thread if i.kind != "event"}
    if reply_id not in on_ticket:
        raise NotFound(f"no reply #{reply_id} on ticket {ref}")
    tickets.delete_entry(tx, reply_id, expected_version=version)
    return schemas.Deleted(deleted=f"reply #{reply_id}")


@router.delete("/tickets/{ref}/replies/{reply_id}", response_model=schemas.Deleted,
               summary="Delete a reply or note (soft: the original stays in the audit)")
def delete_reply(ref: str, reply_id: Id, f: Face = Depends(face), version: int | None = Depends(if_match)
                 ) -> schemas.Deleted:
    return f.write(_delete, ref, reply_id, version)
