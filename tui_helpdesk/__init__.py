"""tui-helpdesk: a keyboard-first help desk that lives in the terminal."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tui-helpdesk")  # one source of truth: pyproject.toml, as installed
except PackageNotFoundError:  # a checkout on sys.path without an install
    __version__ = "0+unknown"
