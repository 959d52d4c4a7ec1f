"""Fixtures for the app's tests.

Screen pictures (`snap_compare`, pytest-textual-snapshot) are built on syrupy's `snapshot` fixture;
tests/conftest.py names its database-copy fixture `snapshot` too, which would shadow syrupy's here and
break every picture test, so syrupy's is registered again for this directory.
"""

from syrupy import snapshot  # noqa: F401 - re-registered as this directory's `snapshot` fixture
