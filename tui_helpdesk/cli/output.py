"""How the CLI prints: JSON-able values, a readable rendering of rows, plain tables. Every piece of
outside text goes through untrusted.clean_line before it reaches the terminal."""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from typing import Any


def jsonable(value: Any) -> Any:
    if hasattr(value, "as_json"):
        return value.as_json()
    if is_dataclass(value) and not isinstance(value, type):
        return jsonable(asdict(value))
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def render(value: Any, indent: str = "") -> str:
    from tui_helpdesk.untrusted import clean_line

    if isinstance(value, dict):
        lines = []
        for k, v in value.items():
            if isinstance(v, dict | list) and v:
                lines.append(f"{indent}{k}:")
                lines.append(render(v, indent + "  "))
            else:
                lines.append(f"{indent}{k}: {scalar(v)}")
        return "\n".join(lines)
    if isinstance(value, list):
        return "\n".join(
            f"{indent}-\n{render(v, indent + '  ')}" if isinstance(v, dict) else f"{indent}- {scalar(v)}"
            for v in value
        )
    return indent + clean_line(scalar(value))


def scalar(value: Any) -> str:
    from tui_helpdesk.untrusted import clean_line

    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(scalar(v) for v in value) or "-"
    return clean_line(str(value))


def aligned(rows: list[list[str]]) -> list[str]:
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def fmt_time(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%Y-%m-%d %H:%M")
