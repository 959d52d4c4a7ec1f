"""Contacts, organizations, departments, statuses and priorities: list and get; contacts can be created."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from tui_helpdesk.services import directory
from tui_helpdesk.services.admin import catalog, clients
from tui_helpdesk.services.errors import NotFound

from .. import schemas
from .common import RESPONSES, Face, Id, face

router = APIRouter(responses=RESPONSES)


def _contact(r: clients.ContactRow) -> schemas.Contact:
    org = schemas.Named(id=r.organization_id, name=r.organization) if r.organization_id else None
    return schemas.Contact(id=r.id, email=r.email, name=r.name, phone=r.phone, organization=org,
                           archived=r.archived)


def _organization(r: clients.OrganizationRow) -> schemas.Organization:
    return schemas.Organization(id=r.id, name=r.name, domains=list(r.domains), archived=r.archived,
                                contacts=r.contacts)


@router.get("/contacts", response_model=list[schemas.Contact], tags=["contacts"])
def list_contacts(f: Face = Depends(face), search: str = "", limit: int = Query(100, ge=1, le=500)
                  ) -> list[schemas.Contact]:
    return [_contact(r) for r in f.read(clients.list_contacts, search, limit)]


@router.get("/contacts/{contact_id}", response_model=schemas.Contact, tags=["contacts"])
def get_contact(contact_id: Id, f: Face = Depends(face)) -> schemas.Contact:
    return _contact(f.read(directory.contact, contact_id))


@router.post("/contacts", response_model=schemas.Contact, status_code=201, tags=["contacts"])
def create_contact(body: schemas.ContactCreate, f: Face = Depends(face)) -> schemas.Contact:
    values = body.model_dump(exclude_none=True)
    return _contact(f.write(clients.create_contact, **values))


@router.get("/organizations", response_model=list[schemas.Organization], tags=["organizations"])
def list_organizations(f: Face = Depends(face), search: str = "", limit: int = Query(100, ge=1, le=500)
                       ) -> list[schemas.Organization]:
    return [_organization(r) for r in f.read(clients.list_organizations, search, limit)]


@router.get("/organizations/{org_id}", response_model=schemas.Organization, tags=["organizations"])
def get_organization(org_id: Id, f: Face = Depends(face)) -> schemas.Organization:
    return _organization(f.read(directory.organization, org_id))


def _department(r: catalog.DepartmentRow) -> schemas.Department:
    return schemas.Department(id=r.id, name=r.name, path=r.path, parent_id=r.parent_id, state=r.state)


@router.get("/departments", response_model=list[schemas.Department], tags=["departments"])
def list_departments(f: Face = Depends(face)) -> list[schemas.Department]:
    return [_department(r) for r in f.read(catalog.list_departments)]


def _pick(rows: list, ident: int, what: str):  # noqa: ANN202 - any of the catalog's row types
    for row in rows:
        if row.id == ident:
            return row
    raise NotFound(f"no {what} #{ident}")


@router.get("/departments/{dept_id}", response_model=schemas.Department, tags=["departments"])
def get_department(dept_id: Id, f: Face = Depends(face)) -> schemas.Department:
    return _department(_pick(f.read(catalog.list_departments), dept_id, "department"))


def _status(r: catalog.StatusRow) -> schemas.Status:
    return schemas.Status(id=r.id, title=r.name, state=r.state, color=r.color, is_default=r.is_default,
                          archived=r.archived)


@router.get("/statuses", response_model=list[schemas.Status], tags=["statuses"])
def list_statuses(f: Face = Depends(face)) -> list[schemas.Status]:
    return [_status(r) for r in f.read(catalog.list_statuses)]


@router.get("/statuses/{status_id}", response_model=schemas.Status, tags=["statuses"])
def get_status(status_id: Id, f: Face = Depends(face)) -> schemas.Status:
    return _status(_pick(f.read(catalog.list_statuses), status_id, "status"))


def _priority(r: catalog.PriorityRow) -> schemas.Priority:
    return schemas.Priority(id=r.id, title=r.name, rank=r.rank, color=r.color, is_default=r.is_default)


@router.get("/priorities", response_model=list[schemas.Priority], tags=["priorities"])
def list_priorities(f: Face = Depends(face)) -> list[schemas.Priority]:
    return [_priority(r) for r in f.read(catalog.list_priorities)]


@router.get("/priorities/{priority_id}", response_model=schemas.Priority, tags=["priorities"])
def get_priority(priority_id: Id, f: Face = Depends(face)) -> schemas.Priority:
    return _priority(_pick(f.read(catalog.list_priorities), priority_id, "priority"))
