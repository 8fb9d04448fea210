"""The protocol checks: statuses, error bodies, uniqueness, paging, ETags, concurrency.

Each check is a function of the :class:`Session` that returns its findings (an
empty list when the server does what the RFC says) or raises :class:`Skip` with
the reason it does not apply (the server does not advertise the feature, the
check is destructive and ``allow_destructive`` is off). :data:`PROTOCOL_CHECKS`
lists them in the order they run.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from scimcore.check._findings import Finding
from scimcore.check._fuzz import Divergence, FuzzResult, _run
from scimcore.check._session import ERROR_SCHEMA, Answer, Session
from scimcore.check._target import Sent
from scimcore.client import attr
from scimcore.models import User

__all__ = ["PROTOCOL_CHECKS", "Skip"]


class Skip(Exception):
    """The check does not apply to this server (the message says why)."""


def _error_body(session: Session, check: str, sent: Sent, answer: Answer) -> list[Finding]:
    """An error answer must carry a SCIM error whose status is the HTTP status (§3.12)."""
    enveloped = session.version == 1 or (
        isinstance(answer.body, dict) and ERROR_SCHEMA in answer.body.get("schemas", [])
    )
    if answer.error_status == str(answer.status) and enveloped:
        return []
    return [
        Finding(
            check=check,
            summary=f"the {answer.status} answer has no SCIM error body with that status",
            rfc="RFC 7644 §3.12",
            request=sent,
            expected={"schemas": [ERROR_SCHEMA], "status": str(answer.status)},
            actual=answer.body,
        )
    ]


def _status(
    check: str, summary: str, rfc: str, sent: Sent, answer: Answer, expected: Any
) -> Finding:
    return Finding(check, summary, rfc, sent, expected, answer.summary())


def discovery(session: Session) -> list[Finding]:
    """``/ServiceProviderConfig`` answers and is read (RFC 7644 §4)."""
    path = "/ServiceProviderConfig" if session.version == 2 else "/ServiceProviderConfigs"
    sent, answer = session.call("GET", path)
    if answer.status != 200:
        session.config = None
        return [
            _status(
                "discovery",
                "the service provider configuration is not served",
                "RFC 7644 §4",
                sent,
                answer,
                {"status": 200},
            )
        ]
    session.config = session.target.client.discover().config
    return []


def bad_token(session: Session) -> list[Finding]:
    """A wrong bearer token is refused with 401 and a SCIM error (RFC 7644 §2, §3.12)."""
    if not session.target.token:
        raise Skip("no token given: the server's authentication is not known")
    sent, answer = session.call("GET", "/Users", token="scimcore-check-wrong-token")
    if answer.status != 401:
        return [
            _status(
                "auth.bad_token",
                "a wrong bearer token is not refused with 401",
                "RFC 7644 §2",
                sent,
                answer,
                {"status": 401},
            )
        ]
    return _error_body(session, "auth.bad_token", sent, answer)


def not_found(session: Session) -> list[Finding]:
    """An unknown id is 404 with a SCIM error (RFC 7644 §3.4.1, §3.12)."""
    sent, answer = session.call("GET", f"/Users/{uuid.uuid4()}")
    if answer.status != 404:
        return [
            _status(
                "errors.not_found",
                "an unknown id is not 404",
                "RFC 7644 §3.12",
                sent,
                answer,
                {"status": 404},
            )
        ]
    return _error_body(session, "errors.not_found", sent, answer)


def uniqueness(session: Session) -> list[Finding]:
    """A second user with the same ``userName``, in any case, is 409 ``uniqueness``
    (RFC 7644 §3.3; ``userName`` is case-insensitive, RFC 7643 §4.1.1)."""
    name = session.unique_name("Dup")
    _, answer, created = session.create("/Users", User(user_name=name))
    if created is None:
        raise Skip(f"creating a user answered {answer.status}")
    findings: list[Finding] = []
    for again, rfc in ((name, "RFC 7644 §3.3"), (name.upper(), "RFC 7643 §4.1.1")):
        sent, answer, clash = session.create("/Users", User(user_name=again))
        if answer.status != 409 or answer.scim_type != "uniqueness":
            findings.append(
                _status(
                    "create.uniqueness",
                    f"a duplicate userName{'' if again == name else ' in another case'} "
                    "is not 409 uniqueness",
                    rfc,
                    sent,
                    answer,
                    {"status": 409, "scimType": "uniqueness"},
                )
            )
        elif clash is None:
            findings += _error_body(session, "create.uniqueness", sent, answer)
    return findings


def username_case(session: Session) -> list[Finding]:
    """``userName eq`` matches in any case (RFC 7643 §4.1.1, RFC 7644 §3.4.2.2)."""
    if session.config is not None and not session.config.filter.supported:
        raise Skip("filter.supported is false")
    user = session.seed()[0]
    text = session.filter_text(attr("userName").eq(str(user.user_name).upper()))
    sent, answer = session.call("GET", "/Users", query={"filter": text})
    ids = [r.get("id") for r in answer.body.get("Resources", [])] if answer.status == 200 else []
    if ids != [user.id]:
        return [
            Finding(
                "filter.username_case",
                "a userName filter in another case does not find the user",
                "RFC 7643 §4.1.1",
                sent,
                {"status": 200, "ids": [user.id]},
                {"status": answer.status, "ids": ids},
            )
        ]
    return []


def delete_twice(session: Session) -> list[Finding]:
    """A deleted resource is gone: GET and a second DELETE are 404 (RFC 7644 §3.6)."""
    _, answer, created = session.create("/Users", User(user_name=session.unique_name("del")))
    if created is None:
        raise Skip(f"creating a user answered {answer.status}")
    findings: list[Finding] = []
    sent, answer = session.call("DELETE", f"/Users/{created.id}")
    session.created.remove(("/Users", created.id))
    # SCIM 1.1 answers 200 OK (Protocol 1.1 §3.4), 2.0 204 No Content (RFC 7644 §3.6)
    deleted, rfc = (
        (204, "RFC 7644 §3.6") if session.version == 2 else (200, "SCIM 1.1 Protocol §3.4")
    )
    if answer.status != deleted:
        findings.append(
            _status("delete", f"DELETE is not {deleted}", rfc, sent, answer, {"status": deleted})
        )
    for method in ("GET", "DELETE"):
        sent, answer = session.call(method, f"/Users/{created.id}")
        if answer.status != 404:
            findings.append(
                _status(
                    "delete.twice",
                    f"{method} of a deleted resource is not 404",
                    "RFC 7644 §3.6",
                    sent,
                    answer,
                    {"status": 404},
                )
            )
    return findings


def paging(session: Session) -> tuple[list[Finding], int]:
    """``startIndex`` (1-based; below 1 read as 1) and ``count`` select the right slice of
    a sorted list, with ``totalResults`` and ``itemsPerPage`` (RFC 7644 §3.4.2.4)."""
    if session.config is not None and not session.config.filter.supported:
        raise Skip("filter.supported is false")
    users = session.seed()
    text = session.filter_text(attr("userName").sw(session.seed_prefix))
    sort = session.config is None or session.config.sort.supported
    query: dict[str, Any] = {"filter": text}
    if sort:
        query["sortBy"] = "userName"
    _, everything = session.call("GET", "/Users", query={**query, "count": len(users) + 5})
    if everything.status != 200:
        raise Skip(f"the list answered {everything.status}")
    reference = [r.get("id") for r in everything.body.get("Resources", [])]
    if sort:
        by_id = {u.id: str(u.user_name).casefold() for u in users}
        reference = sorted(by_id, key=lambda i: by_id[i])

    def body(example: tuple[int, int]) -> bool | None:
        start, count = example
        sent, answer = session.call(
            "GET", "/Users", query={**query, "startIndex": start, "count": count}
        )
        begin = max(start, 1) - 1
        wanted = reference[begin : begin + count]
        if answer.status != 200 or not isinstance(answer.body, dict):
            got: Any = answer.summary()
        else:
            ids = [r.get("id") for r in answer.body.get("Resources", [])]
            got = {
                "ids": ids if sort else sorted(ids),
                "startIndex": answer.body.get("startIndex"),
                "totalResults": answer.body.get("totalResults"),
            }
        expected = {
            "ids": wanted if sort else None,
            "startIndex": max(start, 1),
            "totalResults": len(reference),
        }
        if isinstance(got, dict) and "ids" in got:
            fine = got["startIndex"] == expected["startIndex"]
            fine = fine and got["totalResults"] == expected["totalResults"]
            if sort:
                fine = fine and got["ids"] == wanted
            else:
                fine = fine and len(got["ids"]) == len(wanted) and set(got["ids"]) <= set(reference)
            if fine:
                return True
        names = {u.id: u.user_name for u in users}
        if isinstance(got, dict) and "ids" in got:
            got["userNames"] = [names.get(i, i) for i in got.pop("ids")]
        expected["userNames"] = [names.get(i, i) for i in wanted]
        del expected["ids"]
        raise Divergence(
            Finding(
                "paging",
                "the page is not the slice startIndex and count select",
                "RFC 7644 §3.4.2.4",
                sent,
                expected,
                got,
            )
        )

    # SCIM 1.1 does not define count=0 (2.0: only totalResults)
    least = 0 if session.version == 2 else 1
    strategy = st.tuples(st.integers(0, len(users) + 1), st.integers(least, len(users) + 1))
    result: FuzzResult = _run(session, strategy, body)
    return ([result.finding] if result.finding else []), result.examples


def etags(session: Session) -> list[Finding]:
    """ETags when advertised: the header is ``meta.version``; a stale ``If-Match`` is 412;
    ``If-None-Match`` with the current one is 304 (RFC 7644 §3.14)."""
    if session.config is None or not session.config.etag.supported:
        raise Skip("etag.supported is false")
    _, answer, created = session.create("/Users", User(user_name=session.unique_name("etag")))
    if created is None:
        raise Skip(f"creating a user answered {answer.status}")
    findings: list[Finding] = []
    sent, answer = session.call("GET", f"/Users/{created.id}")
    tag = answer.headers.get("etag")
    version = (answer.body or {}).get("meta", {}).get("version")
    if tag is None or tag != version:
        findings.append(
            Finding(
                "etag.header",
                "the ETag header is not the resource's meta.version",
                "RFC 7644 §3.14",
                sent,
                {"ETag": version},
                {"ETag": tag},
            )
        )
    replace = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "title", "value": "stale"}],
    }
    if session.version == 2 and session.config.patch.supported:
        sent, answer = session.call(
            "PATCH", f"/Users/{created.id}", body=replace, headers={"If-Match": 'W/"stale-0"'}
        )
        if answer.status != 412:
            findings.append(
                _status(
                    "etag.if_match",
                    "a PATCH with a stale If-Match is not 412",
                    "RFC 7644 §3.14",
                    sent,
                    answer,
                    {"status": 412},
                )
            )
    if tag is not None:
        sent, answer = session.call("GET", f"/Users/{created.id}", headers={"If-None-Match": tag})
        if answer.status != 304:
            findings.append(
                _status(
                    "etag.if_none_match",
                    "a GET with the current ETag in If-None-Match is not 304",
                    "RFC 7644 §3.14",
                    sent,
                    answer,
                    {"status": 304},
                )
            )
    return findings


def concurrent_members(session: Session, *, writers: int = 8) -> list[Finding]:
    """Concurrent PATCH adds to one group's members all survive (RFC 7644 §3.5.2.1)."""
    if not session.allow_destructive:
        raise Skip("destructive: needs allow_destructive (--allow-destructive)")
    if session.version != 2 or (session.config is not None and not session.config.patch.supported):
        raise Skip("needs SCIM 2.0 PATCH")
    members = []
    for _ in range(writers):
        _, answer, user = session.create("/Users", User(user_name=session.unique_name("m")))
        if user is None:
            raise Skip(f"creating a user answered {answer.status}")
        members.append(user.id)
    group = session.group([])
    barrier = threading.Barrier(writers)
    sent: list[Sent] = []
    statuses: list[int] = []

    def add(member: str) -> None:
        request = session.target.sent(
            "PATCH",
            f"/Groups/{group.id}",
            body={
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "add", "path": "members", "value": [{"value": member}]}],
            },
        )
        barrier.wait(timeout=30)
        response = session.target.send(request)
        sent.append(request)
        statuses.append(response.status)

    threads = [threading.Thread(target=add, args=(m,)) for m in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _, answer = session.call("GET", f"/Groups/{group.id}")
    present = sorted(m.get("value") for m in (answer.body or {}).get("members", []))
    if present != sorted(members) or any(s not in (200, 204) for s in statuses):
        return [
            Finding(
                "concurrency.members",
                f"{writers} concurrent member adds to one group: "
                f"{len(members) - len(present)} lost",
                "RFC 7644 §3.5.2.1",
                sent[0] if sent else None,
                {"members": len(members), "statuses": [200] * writers},
                {"members": len(present), "statuses": sorted(statuses)},
            )
        ]
    return []


#: The protocol checks, in the order they run: (name, function).
PROTOCOL_CHECKS: tuple[tuple[str, Callable[[Session], list[Finding]]], ...] = (
    ("discovery", discovery),
    ("auth.bad_token", bad_token),
    ("errors.not_found", not_found),
    ("create.uniqueness", uniqueness),
    ("delete.twice", delete_twice),
    ("filter.username_case", username_case),
    ("etag", etags),
    ("concurrency.members", concurrent_members),
)
