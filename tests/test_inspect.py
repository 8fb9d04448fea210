"""``serve --inspect``: the request inspector, its redaction, filters and Policy hints.

The browser test drives the inspector's page in Debian's Chromium (Playwright's
Python package, ``executable_path=/usr/bin/chromium`` or ``SCIMCORE_CHROMIUM``)
through a request Microsoft Entra ID sends that a strict tenant refuses. Without
Chromium or Playwright the test is skipped with a message naming them, except under
``CI=true``, where it fails.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from scimcore._inspect import Inspector
from scimcore._keys import Keys, StoredTokens
from scimcore._serve import build_app
from scimcore.policy import Policy
from scimcore.stores import MemoryStore
from tests._live import Client, LiveServer

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
#: Entra ID's deprovisioning PATCH: a capitalised op and a string boolean (research: E1, E2).
ENTRA_DISABLE = {
    "schemas": [PATCH],
    "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
}


class Served:
    def __init__(self, port: int, page_port: int, inspector: Inspector, token: str) -> None:
        self.port = port
        self.page_port = page_port
        self.inspector = inspector
        self.token = token

    def client(self, tenant: str = "strict") -> Client:
        token = self.token if tenant == "strict" else f"{tenant}-token"
        return Client(self.port, f"/t/{tenant}/scim/v2", token)

    def page(self, query: str = "") -> Any:
        from http import client as httpclient

        connection = httpclient.HTTPConnection("127.0.0.1", self.page_port, timeout=30)
        try:
            connection.request("GET", "/exchanges" + query)
            return json.loads(connection.getresponse().read())
        finally:
            connection.close()


@pytest.fixture
def served() -> Iterator[Served]:
    """A strict tenant ``strict`` and an interop one ``open``, inspected (5 kept per tenant)."""
    keys = Keys.sqlite(":memory:")
    keys.add_tenant("strict", "strict")
    keys.add_tenant("open", "interop")
    token = keys.create("entra", "strict", token="inspect-token")
    keys.create("entra", "open", token="open-token")
    app = build_app(
        MemoryStore(),
        StoredTokens(keys, "", fixed=["default-token"]),
        Policy(),
        keys=keys,
        tenant_store=lambda name: MemoryStore(),
        inspect=5,
    )
    with LiveServer(app) as port, LiveServer(app.inspector.page_app()) as page_port:
        yield Served(port, page_port, app.inspector, token)


def test_a_refused_entra_patch_shows_the_switch(served: Served) -> None:
    strict = served.client()
    made = strict.post("/Users", {"schemas": [USER], "userName": "bjensen", "password": "hunter2"})
    assert made.status == 201
    refused = strict.patch(f"/Users/{made.json['id']}", ENTRA_DISABLE)
    assert refused.status == 400
    shown = served.page("?status=4xx")["exchanges"]
    assert [(e["method"], e["status"], e["scimType"], e["hint"]) for e in shown] == [
        ("PATCH", 400, "invalidValue", "string_booleans=True")
    ]
    assert shown[0]["tenant"] == "strict" and shown[0]["resource"] == "Users"
    assert shown[0]["request"] == ENTRA_DISABLE
    # The switch was found on a scratch copy: the stored user is untouched.
    assert strict.get(f"/Users/{made.json['id']}").json["userName"] == "bjensen"


def test_secrets_are_redacted(served: Served) -> None:
    served.client().post("/Users", {"schemas": [USER], "userName": "b", "password": "hunter2"})
    (exchange,) = served.inspector.exchanges(tenant="strict")
    assert b"hunter2" not in exchange.body  # not even in memory
    assert served.token not in json.dumps([list(h) for h in exchange.headers])
    shown = served.page()["exchanges"][0]
    assert shown["request"]["password"] == "(redacted)"
    assert ["authorization", "(redacted)"] in shown["headers"]
    assert "hunter2" not in json.dumps(shown) and served.token not in json.dumps(shown)


def test_filters_and_the_bound_per_tenant(served: Served) -> None:
    strict, other = served.client("strict"), served.client("open")
    for n in range(7):
        strict.post("/Users", {"schemas": [USER], "userName": f"s{n}"})
    other.get("/Users?filter=userName%20eq%20x")
    other.get("/Groups?filter=userName%20eq")
    assert len(served.page("?tenant=strict")["exchanges"]) == 5  # the last 5 only
    numbers = [e["number"] for e in served.page("?tenant=strict")["exchanges"]]
    assert numbers == sorted(numbers, reverse=True)
    assert served.page()["tenants"] == ["open", "strict"]
    refused = served.page("?tenant=open&scimType=invalidFilter")["exchanges"]
    assert [(e["resource"], e["status"]) for e in refused] == [("Groups", 400)]
    assert refused[0]["hint"] is None  # no switch accepts a filter cut short
    assert [e["resource"] for e in served.page("?method=GET&resource=users")["exchanges"]] == [
        "Users"
    ]
    assert served.page("?status=201&tenant=open")["exchanges"] == []


def test_scim_1_1_and_unknown_schemas(served: Served) -> None:
    v1 = Client(served.port, "/t/strict/scim/v1", served.token)
    group = {
        "schemas": [
            "urn:scim:schemas:core:1.0",
            "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group",
        ],
        "displayName": "g",
    }
    assert v1.post("/Groups", group).status == 400
    (shown,) = served.page("?status=400")["exchanges"]
    assert (shown["scimType"], shown["hint"]) == ("invalidSyntax", "unknown_schemas=True")


def test_inspect_off_keeps_nothing() -> None:
    app = build_app(MemoryStore(), ["t"], Policy())
    assert not hasattr(app, "inspector")


def _chromium() -> str:
    path = os.environ.get("SCIMCORE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    problem = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problem = "Playwright's Python package is not installed (pip install playwright)"
    if problem is None and not os.path.exists(path):
        problem = f"Chromium is not at {path} (apt-get install chromium)"
    if problem is not None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{problem}; CI=true requires it", pytrace=False)
        pytest.skip(problem)
    return path


def test_the_page_in_a_browser(served: Served) -> None:
    chromium = _chromium()
    from playwright.sync_api import expect, sync_playwright

    strict = served.client()
    made = strict.post("/Users", {"schemas": [USER], "userName": "bjensen", "password": "hunter2"})
    strict.patch(f"/Users/{made.json['id']}", ENTRA_DISABLE)
    served.client("open").get("/Users")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{served.page_port}/")
            page.wait_for_selector("#rows tr.row")
            assert page.locator("#rows tr.row").count() == 3
            # Filter to the refused requests of the strict tenant, as an operator would.
            page.select_option("#tenant", "strict")
            page.fill("#status", "4xx")
            page.fill("#scimType", "invalidValue")
            page.click("#apply")
            # A locator wait, not wait_for_function: the page's CSP forbids eval, which a
            # string predicate needs (newer Chromium enforces it on Playwright's evaluate).
            expect(page.locator("#rows tr.row")).to_have_count(1)
            row = page.locator("#rows tr.row").first
            assert row.locator("td.status").inner_text() == "400"
            assert row.locator("td.scimType").inner_text() == "invalidValue"
            assert row.locator("td.hint").inner_text() == "string_booleans=True"
            assert "Expected a boolean" in row.locator("td.detail").inner_text()
            assert page.locator("#count").inner_text() == "1 shown"
            more = page.locator("#rows tr.more").first
            assert more.is_hidden()
            row.click()
            details = more.inner_text()
            assert '"value": "False"' in details and '"op": "Replace"' in details
            assert "authorization: (redacted)" in details
            assert served.token not in page.content() and "hunter2" not in page.content()
        finally:
            browser.close()
