"""Properties of the SCIM 1.1 codec over generated resources.

Every attribute 1.1 can carry survives ``decode(encode(x))``; what it cannot
carry (``$ref``, ``meta.resourceType``: the table ``DROPPED`` and docs/scim11.md)
is left out, never sent under another name.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scimcore.codecs import v1, v2
from scimcore.errors import ScimError
from scimcore.models import EnterpriseUser, Group, User
from scimcore.patch import apply_patch
from scimcore.strategies import resources

SETTINGS = settings(max_examples=60, deadline=None)


def carried(resource: Any) -> Any:
    """``resource`` as 1.1 can carry it: no ``$ref``, no ``meta.resourceType`` (and no
    ``meta`` at all when that was all it held)."""
    changes: dict[str, Any] = {}
    if resource.meta is not None:
        meta = attrs.evolve(resource.meta, resource_type=None)
        changes["meta"] = None if meta == type(meta)() else meta
    if isinstance(resource, User):
        changes["groups"] = [attrs.evolve(g, ref=None) for g in resource.groups]
    if isinstance(resource, Group):
        changes["members"] = [attrs.evolve(m, ref=None) for m in resource.members]
    result = attrs.evolve(resource, **changes)
    if isinstance(result, User):
        result.extensions = dict(result.extensions)
        enterprise = result[EnterpriseUser]
        if enterprise is not None and enterprise.manager is not None:
            result.extensions[next(iter(User.__scim_extensions__))] = attrs.evolve(
                enterprise, manager=attrs.evolve(enterprise.manager, ref=None)
            )
    return result


def keys(document: Any) -> set[str]:
    """Every object key anywhere in a JSON document."""
    if isinstance(document, dict):
        found = set(document)
        for value in document.values():
            found |= keys(value)
        return found
    if isinstance(document, list):
        return set().union(*(keys(item) for item in document)) if document else set()
    return set()


@SETTINGS
@given(resources(User))
def test_users_round_trip_through_1_1(user: User) -> None:
    document = v1.encode(user, full=True)
    assert not keys(document) & {"$ref", "resourceType"}
    assert {"value"} & keys(document.get(v1.ENTERPRISE_SCHEMA, {})) == set()
    assert v1.decode(document, User) == carried(user)


@SETTINGS
@given(resources(Group))
def test_groups_round_trip_through_1_1(group: Group) -> None:
    document = v1.encode(group, full=True)
    assert document.get("schemas", [v1.CORE_SCHEMA])[0] == v1.CORE_SCHEMA
    assert "$ref" not in keys(document)
    assert v1.decode(document, Group) == carried(group)


@SETTINGS
@given(resources(User))
def test_1_1_and_2_0_say_the_same_thing(user: User) -> None:
    through_2 = v2.decode(v2.encode(v1.decode(v1.encode(user, full=True), User), full=True), User)
    assert v1.encode(through_2, full=True) == v1.encode(user, full=True)
    assert v1.resource_to_v1(v1.resource_to_v2(v1.encode(user, full=True), User), User) == (
        v1.encode(user, full=True)
    )


@pytest.mark.slow
@SETTINGS
@given(resources(User), resources(User), st.data())
def test_a_1_1_patch_is_applied_or_refused_as_a_scim_error(
    current: User, partial: User, data: st.DataObject
) -> None:
    body = v1.encode(partial, full=True)
    for name in ("emails", "addresses", "roles"):
        for element in body.get(name, []):
            if data.draw(st.booleans()):
                element["operation"] = "delete"
    names = data.draw(st.lists(st.sampled_from(["title", "name.givenName", "emails", "nosuch"])))
    if names:
        body["meta"] = {"attributes": names}
    try:
        patch = v1.decode_patch(body, User, current=current)
        patched = apply_patch(current, patch)
    except ScimError:
        return
    for name in names:
        if name in ("title", "emails") and name not in body:
            assert getattr(patched, name) in (None, [])
    if partial.user_name is not None:
        assert patched.user_name == partial.user_name
