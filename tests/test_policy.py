"""Policy presets: each switch as the presets document it."""

from __future__ import annotations

import attrs

from scimcore import Policy

SWITCHES = [field.name for field in attrs.fields(Policy)]


def test_interop_is_the_default() -> None:
    assert Policy.interop() == Policy()


def test_strict_refuses_every_deviation() -> None:
    strict = Policy.strict()
    lenient = {
        name
        for name in SWITCHES
        if getattr(strict, name) is True or getattr(strict, name) in ("ignore", "matches_nothing")
    }
    # Merging partial complex values is what RFC 7644 §3.5.2.3 itself says, not a deviation.
    assert lenient == {"merge_partial_complex"}
    assert strict.unknown_attributes == "error"
    assert strict.unknown_filter_attribute == "error"


def test_entra_and_okta_presets() -> None:
    entra, okta = Policy.entra(), Policy.okta()
    assert entra.string_booleans and entra.remove_with_value and entra.create_on_no_match
    assert entra.dotted_value_keys and entra.manager_as_string and entra.urn_dot_separator
    assert not entra.ignore_matching_id  # Okta's deviation, not Entra's
    assert okta.ignore_matching_id and not okta.string_booleans and not okta.remove_with_value


def test_every_switch_is_documented() -> None:
    doc = Policy.__doc__ or ""
    for name in SWITCHES:
        assert f"``{name}``" in doc, name


def test_policies_are_frozen_and_hashable() -> None:
    assert len({Policy(), Policy.interop(), Policy.strict()}) == 2
