"""Hypothesis strategies for fuzzing SCIM servers and libraries.

Hypothesis is an optional dependency: import this module only where it is
installed. The module is registered as a Hypothesis entry point, so the
strategies for scimcore's types are known to ``st.from_type`` as soon as
Hypothesis loads.
"""

from __future__ import annotations

__all__: list[str] = []


def _hypothesis_setup_hook() -> None:
    """Called by Hypothesis when it loads (its ``hypothesis`` entry point)."""
