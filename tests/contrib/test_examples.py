"""The example apps of docs/own-table.md, served for real and checked by scim2-tester and
scim-sanity, on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from tests._live import LiveServer

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent.parent
TOKEN = "example-token"


def _example(name: str) -> Any:
    """An example app's module, loaded from docs/examples (once per process)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "docs" / "examples" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # SQLAlchemy resolves the annotations through it
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def fastapi_url(empty_engine: Engine) -> Iterator[str]:
    """The FastAPI example on uvicorn, on the host database."""
    example = _example("fastapi_sqlalchemy")
    with LiveServer(example.create_app(empty_engine, TOKEN)) as port:
        yield f"http://127.0.0.1:{port}/scim/v2"


def test_fastapi_example_passes_scim2_tester(fastapi_url: str) -> None:
    _passes_scim2_tester(fastapi_url)


def test_fastapi_example_passes_scim_sanity(fastapi_url: str) -> None:
    _passes_scim_sanity(fastapi_url)


def _passes_scim2_tester(url: str) -> None:
    import httpx2
    from scim2_client.engines.httpx2 import SyncSCIMClient
    from scim2_tester import Status, check_server

    with httpx2.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        client = SyncSCIMClient(http)
        results = check_server(client, raise_exceptions=False)
    failures = [(r.title, r.resource_type, r.reason) for r in results if r.status != Status.SUCCESS]
    assert failures == []
    assert len(results) == 58  # what a Users-only server of these attributes is checked for


def _passes_scim_sanity(url: str) -> None:
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "scim-sanity"),
            "probe",
            url,
            "--token",
            TOKEN,
            "--i-accept-side-effects",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "[FAIL]" not in result.stdout
    summary = re.search(r"(\d+) passed, (?:(\d+) failed, )?(\d+) skipped", result.stdout)
    assert summary is not None, result.stdout[-3000:]
    assert (summary.group(1), summary.group(2)) == ("18", None)


@pytest.fixture
def django_url(django_alias: str) -> Iterator[str]:
    """The Django example on uvicorn (Django's ASGI handler), on the host database."""
    import types

    from django.core.handlers.asgi import ASGIHandler
    from django.db import connections
    from django.test.utils import override_settings

    from scimcore.contrib.django import scim_urls

    example = _example("django_accounts")
    with connections[django_alias].schema_editor() as editor:
        editor.create_model(example.Account)
    urls = types.ModuleType("example_urls")
    urls.urlpatterns = scim_urls(example.scim_service(django_alias, TOKEN))  # type: ignore[attr-defined]
    try:
        with (
            override_settings(ROOT_URLCONF=urls, ALLOWED_HOSTS=["127.0.0.1"]),
            LiveServer(ASGIHandler(), lifespan="off") as port,
        ):
            yield f"http://127.0.0.1:{port}/scim/v2"
    finally:
        with connections[django_alias].schema_editor() as editor:
            editor.delete_model(example.Account)


def test_django_example_passes_scim2_tester(django_url: str) -> None:
    _passes_scim2_tester(django_url)


def test_django_example_passes_scim_sanity(django_url: str) -> None:
    _passes_scim_sanity(django_url)
