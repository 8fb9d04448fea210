"""Identity-provider replays: the request sequences Entra ID and Okta send when they provision.

Each replay is a list of :class:`Step`: a request as the provider sends it (its
quirks included: ``"op": "Replace"``, ``"value": "False"``, a Microsoft schema URN
in a new group, a path-less ``replace``, ``application/json``), the statuses that
are right, and a test of the resource afterwards. A replay stops at its first
failing step (the later ones build on it) and reports it with the ``Policy``
switch under which scimcore accepts that quirk. Replays are compatibility checks,
not RFC ones: the Entra replay runs under ``--profile entra``, the Okta one under
``--profile okta``. The sources are the providers' documentation (Microsoft's
"Tutorial: Develop and plan provisioning for a SCIM endpoint" and its known-issues
page; Okta's "SCIM 2.0 protocol reference").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import attrs

from scimcore.check._findings import Finding
from scimcore.check._session import Session

__all__ = ["ENTRA", "OKTA", "Step", "replay"]

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
MICROSOFT_GROUP = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"

Values = dict[str, Any]


@attrs.frozen
class Step:
    """One request of a replay, what its answer must be, and what must hold after it.

    ``path``, ``query`` and ``body`` may name the replay's values in braces
    (``{user}``, ``{user_id}``, ``{group_id}``); ``keep`` stores a value of the
    answer's body under a name; ``after`` is a GET path whose answer ``holds`` must
    accept; ``policy`` is the switch under which scimcore accepts the quirk.
    """

    name: str
    method: str
    path: str
    body: Any = None
    query: dict[str, str] | None = None
    statuses: tuple[int, ...] = (200, 204)
    keep: dict[str, str] = attrs.field(factory=dict)
    expect: Callable[[Any, Values], bool] | None = None
    after: str | None = None
    holds: Callable[[Any, Values], bool] | None = None
    policy: str | None = None
    content_type: str | None = None


#: The step's ids in the research checklist (``E1, E2``) that open its name.
_SOURCE = re.compile(r"[EO]\d+(?:, [EO]\d+)*")


def _source(step: Step) -> str:
    found = _SOURCE.match(step.name)
    return found.group(0) if found else step.name


def _fill(template: Any, values: Values) -> Any:
    if isinstance(template, str):
        return template.format(**values) if "{" in template and "}" in template else template
    if isinstance(template, list):
        return [_fill(item, values) for item in template]
    if isinstance(template, dict):
        return {key: _fill(item, values) for key, item in template.items()}
    return template


def _total(count: int) -> Callable[[Any, Values], bool]:
    return lambda body, values: isinstance(body, dict) and body.get("totalResults") == count


def _members(*names: str) -> Callable[[Any, Values], bool]:
    def check(body: Any, values: Values) -> bool:
        found = sorted(m.get("value") for m in (body or {}).get("members", []))
        return found == sorted(values[n] for n in names)

    return check


def _inactive(body: Any, values: Values) -> bool:
    return isinstance(body, dict) and body.get("active") is False


def _filter_user(attribute: str = "userName", upper: bool = False) -> dict[str, str]:
    value = "{user_upper}" if upper else "{user}"
    return {"filter": f'{attribute} eq "{value}"'}


#: Entra ID provisioning a user and a group (Microsoft's SCIM tutorial, E1-E17).
ENTRA: tuple[Step, ...] = (
    Step(
        "E12 look the user up first",
        "GET",
        "/Users",
        query=_filter_user(),
        statuses=(200,),
        expect=_total(0),
    ),
    Step(
        "E15 create the user (meta and an empty roles list)",
        "POST",
        "/Users",
        body={
            "schemas": [USER],
            "externalId": "{user}",
            "userName": "{user}",
            "active": True,
            "displayName": "Entra Test",
            "emails": [{"primary": True, "type": "work", "value": "{user}@contoso.com"}],
            "meta": {"resourceType": "User"},
            "roles": [],
        },
        statuses=(201,),
        keep={"user_id": "id"},
    ),
    Step(
        "E12 look the user up by externalId",
        "GET",
        "/Users",
        query={"filter": 'externalId eq "{user}"'},
        statuses=(200,),
        expect=_total(1),
    ),
    Step(
        "E1, E2 disable with a capitalised op and a string boolean",
        "PATCH",
        "/Users/{user_id}",
        body={
            "schemas": [PATCH_OP],
            "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
        },
        after="/Users/{user_id}",
        holds=_inactive,
        policy="string_booleans",
    ),
    Step(
        "E7 replace the work email by a value filter",
        "PATCH",
        "/Users/{user_id}",
        body={
            "schemas": [PATCH_OP],
            "Operations": [
                {
                    "op": "Replace",
                    "path": 'emails[type eq "work"].value',
                    "value": "updated-{user}@contoso.com",
                }
            ],
        },
        after="/Users/{user_id}",
        holds=lambda body, values: (
            [e.get("value") for e in (body or {}).get("emails", [])]
            == [f"updated-{values['user']}@contoso.com"]
        ),
    ),
    Step(
        "E14 create a group with Microsoft's schema URN",
        "POST",
        "/Groups",
        body={
            "schemas": [GROUP, MICROSOFT_GROUP],
            "displayName": "{user}-group",
            "members": [],
            "meta": {"resourceType": "Group"},
            "externalId": "{user}-group",
        },
        statuses=(201,),
        keep={"group_id": "id"},
        policy="unknown_schemas",
    ),
    Step(
        "E6 add a member with a null $ref",
        "PATCH",
        "/Groups/{group_id}",
        body={
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "Add", "path": "members", "value": [{"$ref": None, "value": "{user_id}"}]}
            ],
        },
        after="/Groups/{group_id}",
        holds=_members("user_id"),
    ),
    Step(
        "E5 remove the member with a value list",
        "PATCH",
        "/Groups/{group_id}",
        body={
            "schemas": [PATCH_OP],
            "Operations": [{"op": "Remove", "path": "members", "value": [{"value": "{user_id}"}]}],
        },
        after="/Groups/{group_id}",
        holds=_members(),
        policy="remove_with_value",
    ),
    Step("E17 delete the user", "DELETE", "/Users/{user_id}", statuses=(204,)),
)

#: Okta provisioning a user and pushing a group (Okta's SCIM 2.0 reference, O1-O7).
OKTA: tuple[Step, ...] = (
    Step(
        "O1 look the user up first",
        "GET",
        "/Users",
        query={**_filter_user(), "startIndex": "1", "count": "100"},
        statuses=(200,),
        expect=_total(0),
    ),
    Step(
        "O2, O9 create the user (groups, password; application/json)",
        "POST",
        "/Users",
        body={
            "schemas": [USER],
            "userName": "{user}",
            "name": {"givenName": "Test", "familyName": "User"},
            "emails": [{"primary": True, "value": "{user}@okta.local", "type": "work"}],
            "displayName": "Test User",
            "locale": "en-US",
            "externalId": "00u{user}",
            "groups": [],
            "password": "1mz050nq",
            "active": True,
        },
        statuses=(201,),
        keep={"user_id": "id"},
        content_type="application/json",
    ),
    Step(
        "O1 look the user up in another case",
        "GET",
        "/Users",
        query=_filter_user(upper=True),
        statuses=(200,),
        expect=_total(1),
    ),
    Step(
        "O3 update the profile with PUT (id, groups, meta, an empty middleName)",
        "PUT",
        "/Users/{user_id}",
        body={
            "schemas": [USER],
            "id": "{user_id}",
            "userName": "{user}",
            "name": {"givenName": "Test", "middleName": "", "familyName": "User"},
            "emails": [{"primary": True, "value": "{user}@okta.local", "type": "work"}],
            "displayName": "Test User 2",
            "groups": [],
            "active": True,
            "meta": {"resourceType": "User"},
        },
        statuses=(200,),
        expect=lambda body, values: (
            isinstance(body, dict) and body.get("displayName") == "Test User 2"
        ),
    ),
    Step(
        "O4 deactivate with a path-less replace",
        "PATCH",
        "/Users/{user_id}",
        body={"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]},
        after="/Users/{user_id}",
        holds=_inactive,
    ),
    Step(
        "O7 push a group with no members",
        "POST",
        "/Groups",
        body={"schemas": [GROUP], "displayName": "{user}-group", "members": []},
        statuses=(201,),
        keep={"group_id": "id"},
    ),
    Step(
        "O5 rename the group with its id in the value",
        "PATCH",
        "/Groups/{group_id}",
        body={
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "replace", "value": {"id": "{group_id}", "displayName": "{user}-renamed"}}
            ],
        },
        after="/Groups/{group_id}",
        holds=lambda body, values: (body or {}).get("displayName") == f"{values['user']}-renamed",
        policy="ignore_matching_id",
    ),
    Step(
        "O6 add a member (with display)",
        "PATCH",
        "/Groups/{group_id}",
        body={
            "schemas": [PATCH_OP],
            "Operations": [
                {
                    "op": "add",
                    "path": "members",
                    "value": [{"value": "{user_id}", "display": "{user}@okta.local"}],
                }
            ],
        },
        after="/Groups/{group_id}",
        holds=_members("user_id"),
    ),
    Step(
        "O6 remove the member by a value filter",
        "PATCH",
        "/Groups/{group_id}",
        body={
            "schemas": [PATCH_OP],
            "Operations": [{"op": "remove", "path": 'members[value eq "{user_id}"]'}],
        },
        after="/Groups/{group_id}",
        holds=_members(),
    ),
    Step(
        "O7 replace the members with an empty list",
        "PATCH",
        "/Groups/{group_id}",
        body={
            "schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "path": "members", "value": []}],
        },
        after="/Groups/{group_id}",
        holds=_members(),
    ),
)


def replay(session: Session, provider: str, steps: tuple[Step, ...]) -> list[Finding]:
    """Send ``steps`` in order; the finding of the first that fails, if one does."""
    values: Values = {"user": session.unique_name(provider.lower())}
    values["user_upper"] = values["user"].upper()
    check = f"replay.{provider.lower()}"
    for step in steps:
        headers = {"Content-Type": step.content_type} if step.content_type else None
        path = _fill(step.path, values)
        sent, answer = session.call(
            step.method,
            path,
            query=_fill(step.query, values),
            body=_fill(step.body, values),
            headers=headers,
        )
        if step.method == "POST" and answer.status == 201 and isinstance(answer.body, dict):
            session.created.append((path, str(answer.body.get("id"))))
        if step.method == "DELETE" and answer.status in (200, 204):
            session.created[:] = [c for c in session.created if c[1] != values.get("user_id")]
        problem = None
        if answer.status not in step.statuses:
            problem = f"answered {answer.status}, not {' or '.join(map(str, step.statuses))}"
        elif step.expect is not None and not step.expect(answer.body, values):
            problem = "the answer is not what the provider expects"
        else:
            for name, key in step.keep.items():
                values[name] = str((answer.body or {}).get(key))
            if step.after is not None and step.holds is not None:
                shown = session.call("GET", _fill(step.after, values))[1].body
                if not step.holds(shown, values):
                    problem = "the resource afterwards is not what the request asked for"
                    answer = attrs.evolve(answer, body=shown)
        if problem is not None:
            return [
                Finding(
                    check=check,
                    summary=f"{step.name}: {problem}",
                    rfc=f"{provider} provisioning, {_source(step)}",
                    request=sent,
                    expected={"status": list(step.statuses)},
                    actual={"status": answer.status, "body": answer.body},
                    policy=None if step.policy is None else f"{step.policy}=True",
                )
            ]
    return []
