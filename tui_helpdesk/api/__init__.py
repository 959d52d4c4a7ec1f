"""The HTTP API (`helpdesk serve --http HOST:PORT`): a face like the CLI, over the same services.

Thin by design: a route parses the request into a service call made with the key's Actor
(services/door.py), and shapes the plain rows it gets back into JSON. It never runs a query, opens a
transaction of its own or decides who may see or do what: that is services/. Layout:
    app.py      the app factory, the error mapping (services.errors -> HTTP status), the size limit
    auth.py     Bearer key -> Actor (services/api_keys.authenticate), the failed-attempt throttle
    schemas.py  request and response bodies (the OpenAPI schema at /api/openapi.json)
    shape.py    service rows -> response bodies
    routes/     one module per resource: tickets, replies, directory (contacts, organizations,
                departments, statuses, priorities), public (the customer's read-only view)
    server.py   uvicorn in this process, with the worker beside it, stopped cleanly on SIGTERM
"""

from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]
