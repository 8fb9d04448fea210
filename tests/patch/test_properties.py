"""Properties of apply_patch over generated resources and generated PATCH requests.

- It returns a valid resource (it encodes and decodes back equal) or raises a
  ScimError, never anything else; when it raises, the input is unchanged (and it
  is unchanged when it succeeds, too: apply_patch is pure).
- A request the RFC makes idempotent (a single add, replace or remove on a path
  without a value filter) changes nothing the second time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scimcore import Policy, ScimError, strategies
from scimcore.codecs.v2 import decode, encode
from scimcore.models import EnterpriseUser, Group, User
from scimcore.patch import apply_patch, patch_result
from scimcore.strategies import patch_requests

pytestmark = pytest.mark.slow  # Hypothesis over generated resources and requests

DATA = Path(__file__).parent / "data"
POLICIES = st.sampled_from([Policy.interop(), Policy.strict(), Policy.entra(), Policy.okta()])
SETTINGS = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])


def _examples(model: type) -> Any:
    generated = getattr(strategies, "resources", None)
    if generated is not None:
        return generated(model)
    # until the models' strategy lands: the RFC 7643 §8 examples and small resources
    if model is User:
        full = decode(json.loads((DATA / "rfc7643-8.2-full-user.json").read_text()), User)
        enterprise = decode(json.loads((DATA / "rfc7643-8.2-full-user.json").read_text()), User)
        enterprise[EnterpriseUser] = EnterpriseUser(department="Tours", employee_number="1")
        return st.sampled_from([full, enterprise, User(user_name="x")])
    group = decode(json.loads((DATA / "rfc7643-8.4-group.json").read_text()), Group)
    return st.sampled_from([group, Group(display_name="Empty")])


def _valid_or_scim_error(resource: Any, request: dict[str, Any], policy: Policy) -> None:
    model = type(resource)
    before = encode(resource, full=True)
    try:
        result = patch_result(resource, request, policy=policy)
    except ScimError:
        assert encode(resource, full=True) == before
        return
    assert encode(resource, full=True) == before
    patched = result.resource
    assert type(patched) is model
    assert decode(encode(patched, full=True), model) == patched
    assert result.changed is (patched != resource)
    assert apply_patch(resource, request, policy=policy) == patched


@SETTINGS
@given(data=st.data(), policy=POLICIES)
def test_user_patch_is_valid_or_a_scim_error(data: st.DataObject, policy: Policy) -> None:
    resource = data.draw(_examples(User))
    request = data.draw(patch_requests(User))
    _valid_or_scim_error(resource, request, policy)


@SETTINGS
@given(data=st.data(), policy=POLICIES)
def test_group_patch_is_valid_or_a_scim_error(data: st.DataObject, policy: Policy) -> None:
    resource = data.draw(_examples(Group))
    request = data.draw(patch_requests(Group))
    _valid_or_scim_error(resource, request, policy)


def _idempotent(request: dict[str, Any]) -> bool:
    (operation,) = request["Operations"]
    return "[" not in str(operation.get("path", ""))


@SETTINGS
@given(data=st.data(), policy=POLICIES)
def test_idempotent_patch_twice_changes_nothing(data: st.DataObject, policy: Policy) -> None:
    model = data.draw(st.sampled_from([User, Group]))
    resource = data.draw(_examples(model))
    request = data.draw(patch_requests(model, max_operations=1).filter(_idempotent))
    try:
        once = apply_patch(resource, request, policy=policy)
    except ScimError:
        return
    again = patch_result(once, request, policy=policy)
    assert again.changed is False
    assert again.resource == once
