"""tui-helpdesk: a keyboard-first help desk that lives in the terminal."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    # __version__ is read from the installed metadata only when asked: importlib.metadata costs about
    # 60 ms, and every `helpdesk` process (an MTA starts one per message) imports this package.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("tui-helpdesk")  # one source of truth: pyproject.toml, as installed
        except PackageNotFoundError:  # a checkout on sys.path without an install
            found = "0+unknown"
        globals()["__version__"] = found
        return found
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
