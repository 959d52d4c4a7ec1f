"""The part of the build pyproject.toml cannot say: styles/ and migrations/ stay at the repository's top
level (where alembic, the tests and the reviewers look for them) but ship inside the package as
tui_helpdesk/styles and tui_helpdesk/migrations, found at run time by tui_helpdesk.resources."""

from setuptools import find_namespace_packages, setup

SHIPPED = {
    "tui_helpdesk.styles": "styles",
    "tui_helpdesk.migrations": "migrations",
    "tui_helpdesk.migrations.versions": "migrations/versions",
}

setup(
    packages=find_namespace_packages(include=["tui_helpdesk", "tui_helpdesk.*"], exclude=["*.__pycache__"])
    + list(SHIPPED),
    package_dir=SHIPPED,
    package_data={
        "tui_helpdesk.styles": ["*.tcss"],
        "tui_helpdesk.migrations": ["*.py", "*.mako"],
        "tui_helpdesk.migrations.versions": ["*.py"],
    },
)
