"""Deliberately broken apps: each bug is found, and shrunk to a request of a few terms."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest

from scimcore import ScimService
from scimcore.check import Finding, Report, assert_conforms, check
from scimcore.stores import MemoryStore
from tests.check import _apps
from tests.check._apps import TOKEN


def service_app() -> _apps.WSGIApp:
    return _apps.wsgi_app(ScimService(MemoryStore(), tokens=[TOKEN]))


def only_finding(report: Report) -> Finding:
    assert len(report.findings) == 1, report.render()
    finding = report.findings[0]
    assert finding.request is not None
    return finding


def query(finding: Finding, report: Report) -> dict[str, str]:
    assert finding.request is not None
    text = urlsplit(finding.request.url).query.replace(report.prefix, "P-")
    return dict(parse_qsl(text))


def test_a_filter_compared_case_sensitively() -> None:
    app = _apps.case_sensitive_filter(service_app())
    report = check(app, token=TOKEN, max_examples=200, only=["filter.differential"], seed=2)
    finding = only_finding(report)
    assert (finding.check, finding.rfc, finding.policy) == (
        "filter.differential",
        "RFC 7644 §3.4.2.2",
        None,
    )
    assert query(finding, report) == {
        "filter": f'userName sw "P-s-" and userName eq "{report.prefix.upper()}S-BJENSEN"',
        "count": "10",
    }
    assert finding.expected == {"matched": [f"{report.prefix}s-BJensen"]}
    assert finding.actual == {"status": 200, "matched": [], "totalResults": 0}


def test_a_patch_remove_that_ignores_its_filter() -> None:
    app = _apps.remove_ignores_filter(service_app())
    report = check(app, token=TOKEN, max_examples=200, only=["patch.differential"], seed=0)
    finding = only_finding(report)
    assert (finding.check, finding.rfc) == ("patch.differential", "RFC 7644 §3.5.2.2")
    assert finding.request is not None and finding.request.method == "PATCH"
    assert finding.request.body == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "remove", "path": 'emails[type eq "work"]'}],
    }
    assert finding.expected == {"emails": [{"value": "babs@jensen.org", "type": "home"}]}
    assert finding.actual == {"emails": None}
    (created,) = finding.setup
    assert (created.method, created.url.rsplit("/", 1)[1]) == ("POST", "Users")


def test_paging_off_by_one() -> None:
    app = _apps.paging_off_by_one(service_app())
    report = check(app, token=TOKEN, max_examples=50, only=["paging"], seed=0)
    finding = only_finding(report)
    assert (finding.check, finding.rfc) == ("paging", "RFC 7644 §3.4.2.4")
    assert query(finding, report) == {
        "filter": 'userName sw "P-s-"',
        "sortBy": "userName",
        "startIndex": "0",
        "count": "1",
    }
    first, second = f"{report.prefix}s-Alice", f"{report.prefix}s-BJensen"
    assert finding.expected == {"startIndex": 1, "totalResults": 5, "userNames": [first]}
    assert finding.actual == {"startIndex": 1, "totalResults": 5, "userNames": [second]}


def test_attributes_ignored() -> None:
    app = _apps.attributes_ignored(service_app())
    report = check(app, token=TOKEN, max_examples=100, only=["projection.differential"], seed=0)
    finding = only_finding(report)
    assert (finding.check, finding.rfc) == ("projection.differential", "RFC 7644 §3.4.2.5")
    assert finding.summary == "the attributes projection is not the codec's"
    assert query(finding, report) == {"attributes": "userName"}
    assert isinstance(finding.expected, dict) and isinstance(finding.actual, dict)
    assert set(finding.expected.values()) == {None}  # none of them asked for
    assert (finding.actual["displayName"], finding.actual["title"]) == ("Babs Jensen", "Tour Guide")


def test_a_lost_update_on_concurrent_member_adds() -> None:
    app = _apps.lost_member_adds(service_app())
    report = check(app, token=TOKEN, only=["concurrency.members"], allow_destructive=True)
    finding = only_finding(report)
    assert (finding.check, finding.rfc) == ("concurrency.members", "RFC 7644 §3.5.2.1")
    assert finding.expected == {"members": 8, "statuses": [200] * 8}
    assert isinstance(finding.actual, dict) and finding.actual["members"] < 8
    assert finding.request is not None
    assert [o["op"] for o in finding.request.body["Operations"]] == ["add"]


def test_the_pytest_helper_fails_with_the_report() -> None:
    app = _apps.paging_off_by_one(service_app())
    with pytest.raises(AssertionError) as failure:
        assert_conforms(app, token=TOKEN, only=["paging"], max_examples=50, seed=0)
    text = str(failure.value)
    assert "FAIL paging: the page is not the slice startIndex and count select" in text
    assert "startIndex=0&count=1" in text
    assert json.loads(text.split("expected: ", 1)[1].split("\n")[0])["startIndex"] == 1
