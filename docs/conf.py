"""Sphinx configuration: MyST Markdown pages and an API reference from the docstrings."""

from __future__ import annotations

import scimcore

project = "scimcore"
author = "scimcore developers"
release = scimcore.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]
myst_heading_anchors = 3
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
nitpicky = False
suppress_warnings = ["myst.xref_missing"]
html_theme = "alabaster"
html_title = "scimcore"


def _skip_nested_classes(
    app: object, what: str, name: str, obj: object, skip: bool, options: object
) -> bool | None:
    """Generated models hold their complex types as class attributes; document them once."""
    if what == "class" and isinstance(obj, type):
        return True
    return None


def setup(app: object) -> None:
    app.connect("autodoc-skip-member", _skip_nested_classes)  # type: ignore[attr-defined]
