"""The report: text, JSON and JUnit XML, and a request as a ``curl`` command line."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from scimcore.check import Finding, Outcome, Report, Sent

PATCH = Sent(
    "PATCH",
    "http://h/scim/v2/Users/1",
    {"Operations": [{"op": "remove", "path": 'emails[type eq "work"]'}]},
)
FINDING = Finding(
    check="patch.differential",
    summary="the server's PATCH result is not the PATCH engine's",
    rfc="RFC 7644 §3.5.2",
    request=PATCH,
    expected={"emails": [{"type": "home"}]},
    actual={"emails": None},
    policy="remove_with_value=False",
    setup=(Sent("POST", "http://h/scim/v2/Users", {"userName": "it's"}),),
)
REPORT = Report(
    target="http://h/scim/v2",
    prefix="chk000000-",
    version=2,
    profile="interop",
    outcomes=(
        Outcome("discovery", "passed", 0.01),
        Outcome("etag", "skipped", 0.0, reason="etag.supported is false"),
        Outcome("patch.differential", "failed", 1.5, 40, findings=(FINDING,)),
    ),
    seconds=1.51,
    requests=123,
)


def test_curl_quotes_the_body_and_url_for_a_shell() -> None:
    assert PATCH.curl() == (
        'curl -s -X PATCH -H "Authorization: Bearer $TOKEN"'
        " -H 'Content-Type: application/scim+json' --data"
        ' \'{"Operations": [{"op": "remove", "path": "emails[type eq \\"work\\"]"}]}\''
        " http://h/scim/v2/Users/1"
    )
    with_quote = Sent("POST", "http://h/Users", {"userName": "it's"}, {"If-Match": 'W/"1"'})
    assert with_quote.curl() == (
        'curl -s -X POST -H \'If-Match: W/"1"\' -H "Authorization: Bearer $TOKEN"'
        " -H 'Content-Type: application/scim+json' --data"
        ' \'{"userName": "it\'"\'"\'s"}\' http://h/Users'
    )


def test_the_text_report() -> None:
    assert REPORT.render() == "\n".join(
        [
            "scimcore check http://h/scim/v2 (SCIM 2.0)",
            "  passed  discovery",
            "  skipped etag: etag.supported is false",
            "  failed  patch.differential [40 examples]",
            "",
            "FAIL patch.differential: the server's PATCH result is not the PATCH engine's"
            " (RFC 7644 §3.5.2)",
            f"  after:    {FINDING.setup[0].curl()}",
            f"  request:  {PATCH.curl()}",
            '  expected: {"emails": [{"type": "home"}]}',
            '  actual:   {"emails": null}',
            "  explained by the Policy switch: remove_with_value=False",
            "",
            "1 finding(s); 3 checks, 40 examples, 123 requests in 1.5s",
        ]
    )
    assert (REPORT.ok, REPORT.exit_code, REPORT.findings) == (False, 1, (FINDING,))


def test_the_json_report() -> None:
    document = REPORT.to_json()
    assert {k: v for k, v in document.items() if k != "checks"} == {
        "target": "http://h/scim/v2",
        "prefix": "chk000000-",
        "version": 2,
        "profile": "interop",
        "ok": False,
        "seconds": 1.51,
        "requests": 123,
        "examples": 40,
    }
    failed = document["checks"][2]
    assert failed["findings"] == [
        {
            "check": "patch.differential",
            "summary": "the server's PATCH result is not the PATCH engine's",
            "rfc": "RFC 7644 §3.5.2",
            "request": {
                "method": "PATCH",
                "url": "http://h/scim/v2/Users/1",
                "body": PATCH.body,
                "headers": {},
                "curl": PATCH.curl(),
            },
            "expected": {"emails": [{"type": "home"}]},
            "actual": {"emails": None},
            "policy": "remove_with_value=False",
            "setup": [FINDING.setup[0].curl()],
        }
    ]


def test_the_junit_report() -> None:
    suite = ElementTree.fromstring(REPORT.to_junit())
    assert suite.attrib == {
        "name": "scimcore check",
        "tests": "3",
        "failures": "1",
        "skipped": "1",
        "time": "1.510",
    }
    cases = list(suite)
    assert [(c.get("name"), [child.tag for child in c]) for c in cases] == [
        ("discovery", []),
        ("etag", ["skipped"]),
        ("patch.differential", ["failure"]),
    ]
    failure = cases[2][0]
    assert failure.get("message") == (
        "the server's PATCH result is not the PATCH engine's (RFC 7644 §3.5.2)"
    )
    assert failure.text == FINDING.render()
