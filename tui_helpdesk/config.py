"""Process settings: defaults < TOML file in the config dir < HELPDESK_* environment.

These say where things live and how the app behaves on this host. Help desk policy
(number prefix, reopen window, ...) lives in the database's settings table instead, so
every agent and the worker see the same rules.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

APP_NAME = "tui-helpdesk"


def config_dir() -> Path:
    return Path(os.environ.get("HELPDESK_CONFIG_DIR") or platformdirs.user_config_dir(APP_NAME))


def data_dir() -> Path:
    return Path(os.environ.get("HELPDESK_DATA_DIR") or platformdirs.user_data_dir(APP_NAME))


@dataclass(frozen=True)
class Config:
    database_url: str
    data_dir: Path
    config_file: Path
    agent: str | None = None
    worker_in_app: bool = True
    keymap: dict[str, str] = field(default_factory=dict)
    theme: str = "textual-dark"

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    @property
    def desk_dir(self) -> Path:
        """Where the help desk's data lives: the SQLite file's folder, else the data dir. Its owner is the
        service account (services/identity.py)."""
        if self.database_url.startswith("sqlite") and ":memory:" not in self.database_url:
            database = self.database_url.split(":///", 1)[-1].split("?", 1)[0]
            if database:
                return Path(database).parent
        return self.data_dir


def _read_toml(path: Path) -> dict:
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


def _env_bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config() -> Config:
    cfg_file = Path(os.environ.get("HELPDESK_CONFIG_FILE") or config_dir() / "config.toml")
    raw = _read_toml(cfg_file)
    ddir = Path(os.environ.get("HELPDESK_DATA_DIR") or raw.get("data_dir") or data_dir())
    url = (
        os.environ.get("HELPDESK_DATABASE_URL")
        or raw.get("database_url")
        or f"sqlite:///{ddir / 'helpdesk.db'}"
    )
    worker = raw.get("worker_in_app", True)
    if "HELPDESK_WORKER_IN_APP" in os.environ:
        worker = _env_bool(os.environ["HELPDESK_WORKER_IN_APP"])
    return Config(
        database_url=url,
        data_dir=ddir,
        config_file=cfg_file,
        agent=os.environ.get("HELPDESK_AGENT") or raw.get("agent"),
        worker_in_app=bool(worker),
        keymap=dict(raw.get("keymap", {})),
        theme=os.environ.get("HELPDESK_THEME") or raw.get("theme", "textual-dark"),
    )
