"""The identity-provider replays: Entra's and Okta's provisioning requests, quirks included."""

from __future__ import annotations

from typing import Any

import pytest

from scimcore import Policy, ScimService
from scimcore.asgi import create_app
from scimcore.check import check
from scimcore.stores import MemoryStore
from tests.check._apps import TOKEN


def app_with(policy: Policy) -> Any:
    return create_app(ScimService(MemoryStore(), tokens=[TOKEN], policy=policy), prefix="/scim/v2")


@pytest.mark.parametrize("provider", ["entra", "okta"])
def test_scimcore_under_the_providers_preset_plays_every_step(provider: str) -> None:
    preset = getattr(Policy, provider)()
    report = check(app_with(preset), token=TOKEN, profile=provider, only=[f"replay.{provider}"])
    assert [(o.check, o.status) for o in report.outcomes] == [
        ("discovery", "passed"),
        (f"replay.{provider}", "passed"),
    ]
    assert report.findings == ()


def test_the_replays_run_only_under_their_profile() -> None:
    report = check(app_with(Policy()), token=TOKEN, only=["replay.entra", "replay.okta"])
    assert [(o.check, o.status, o.reason) for o in report.outcomes][1:] == [
        ("replay.entra", "skipped", "a compatibility replay: runs with --profile entra"),
        ("replay.okta", "skipped", "a compatibility replay: runs with --profile okta"),
    ]


def test_a_strict_server_fails_entra_at_the_string_boolean() -> None:
    report = check(app_with(Policy.strict()), token=TOKEN, profile="entra", only=["replay.entra"])
    (finding,) = report.findings
    assert finding.summary == (
        "E1, E2 disable with a capitalised op and a string boolean: answered 400, not 200 or 204"
    )
    assert (finding.rfc, finding.policy) == ("Entra provisioning, E1, E2", "string_booleans=True")
    assert finding.request is not None
    assert finding.request.body["Operations"] == [
        {"op": "Replace", "path": "active", "value": "False"}
    ]
    assert finding.actual["status"] == 400
    assert finding.actual["body"]["scimType"] == "invalidValue"


def test_a_strict_server_fails_okta_at_the_rename_with_the_id() -> None:
    report = check(app_with(Policy.strict()), token=TOKEN, profile="okta", only=["replay.okta"])
    (finding,) = report.findings
    assert finding.summary == (
        "O5 rename the group with its id in the value: answered 400, not 200 or 204"
    )
    assert (finding.rfc, finding.policy) == ("Okta provisioning, O5", "ignore_matching_id=True")
