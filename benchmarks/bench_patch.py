"""PATCH: a typical 4-operation request on the RFC 7643 §8.2 full User, body validation included.

The request replaces ``emails[type eq "work"].value``, adds ``phoneNumbers``,
removes ``ims`` and replaces ``displayName`` and ``active`` without a path.
scimcore: ``apply_patch(user, body)`` (pure: a new user each call, the input
untouched). scim2-models 0.12.3:
``PatchOp[User[EnterpriseUser]].model_validate(body).patch(user)``, which patches
in place (after the first call it keeps re-applying the same request to the
same object, the work of each call is the same). Target: 10×.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from _harness import Case

from scimcore.codecs.v2 import decode
from scimcore.models import User
from scimcore.patch import apply_patch

DATA = Path(__file__).parent.parent / "tests" / "patch" / "data"

BODY: dict[str, Any] = {
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [
        {"op": "replace", "path": 'emails[type eq "work"].value', "value": "babs@example.org"},
        {
            "op": "add",
            "path": "phoneNumbers",
            "value": [{"value": "555-555-1234", "type": "home"}],
        },
        {"op": "remove", "path": "ims"},
        {"op": "replace", "value": {"displayName": "Barbara Jensen", "active": False}},
    ],
}


def _doc() -> dict[str, Any]:
    result: dict[str, Any] = json.loads((DATA / "rfc7643-8.2-full-user.json").read_text())
    return result


def cases() -> list[Case]:
    """The 4-operation PATCH, scimcore against scim2-models."""
    doc = _doc()
    ours_user = decode(doc, User)

    def ours() -> object:
        return apply_patch(ours_user, BODY)

    peer = None
    try:
        from scim2_models import EnterpriseUser as PeerEnterpriseUser
        from scim2_models import PatchOp as PeerPatchOp
        from scim2_models import User as PeerUser
    except ImportError:  # pragma: no cover - the peer is installed by nox -s bench
        pass
    else:
        model = PeerUser[PeerEnterpriseUser]  # type: ignore[misc]
        peer_user = model.model_validate(doc)
        patch_model = PeerPatchOp[model]  # type: ignore[misc]

        def peer() -> object:
            return patch_model.model_validate(BODY).patch(peer_user)

    cases = [
        Case(
            "patch: 4 operations on the RFC 7643 §8.2 user (validated)",
            ours,
            peer,
            "scim2-models 0.12.3 PatchOp.model_validate().patch()",
            target=10,
        )
    ]
    cases.append(_group_case())
    return cases


GROUP_BODY: dict[str, Any] = {
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [
        {"op": "remove", "path": 'members[value eq "u5000"]'},
        {"op": "add", "path": "members", "value": [{"value": "new-member", "display": "New"}]},
    ],
}


def _group_case() -> Case:
    """Okta's membership update (O6) on a 10 000-member group; no target, for the record."""
    from scimcore.models import Group

    doc = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "g",
        "displayName": "Everyone",
        "members": [{"value": f"u{i}"} for i in range(10_000)],
    }
    group = decode(doc, Group)

    def ours() -> object:
        return apply_patch(group, GROUP_BODY)

    peer = None
    try:
        from scim2_models import Group as PeerGroup
        from scim2_models import PatchOp as PeerPatchOp
    except ImportError:  # pragma: no cover
        pass
    else:
        peer_group = PeerGroup.model_validate(doc)
        patch_model = PeerPatchOp[PeerGroup]  # type: ignore[misc]

        def peer() -> object:
            return patch_model.model_validate(GROUP_BODY).patch(peer_group)

    return Case(
        "patch: Okta O6 membership update on a 10 000-member group",
        ours,
        peer,
        "scim2-models 0.12.3",
        number=5,
    )
