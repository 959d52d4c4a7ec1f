"""Where the files that ship with the code are: the stylesheets and the alembic migrations.

The repository keeps them at its top level (styles/, migrations/); a wheel carries them inside the
package (tui_helpdesk/styles, tui_helpdesk/migrations; see setup.py). The packaged copy wins, so an
installed `helpdesk` never reads a stray checkout, and a checkout or editable install finds its own.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _folder(name: str) -> Path:
    packaged = Path(str(files("tui_helpdesk") / name))
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"{name}/ is missing from this installation (looked in {packaged} and {checkout})"
    )


def styles_dir() -> Path:
    return _folder("styles")


def stylesheet(name: str) -> Path:
    """One .tcss file by name (`ticket.tcss`)."""
    return styles_dir() / name


def migrations_dir() -> Path:
    return _folder("migrations")
