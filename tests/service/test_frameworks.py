"""The mounting recipes of docs/serving.md, run: Starlette, FastAPI, Flask, Django.

Starlette and FastAPI are served by a real uvicorn; Flask and Django through
their own test clients (werkzeug's and Django's), which run the full WSGI
and request-handling stack. Test dependencies: starlette, fastapi, flask, django.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from scimcore.service import Request, ScimService
from scimcore.stores import MemoryStore

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
BODY = json.dumps({"schemas": [USER], "userName": "bjensen"})
HEADERS = {"Content-Type": "application/scim+json", "Authorization": "Bearer s3cret"}


def _roundtrip_over_http(port: int, prefix: str) -> None:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", f"{prefix}/Users", body=BODY, headers=HEADERS)
    created = connection.getresponse()
    document = json.loads(created.read())
    assert created.status == 201
    assert (
        created.getheader("Location") == f"http://127.0.0.1:{port}{prefix}/Users/{document['id']}"
    )
    connection.request("GET", f"{prefix}/Users/{document['id']}", headers=HEADERS)
    got = connection.getresponse()
    assert got.status == 200
    assert json.loads(got.read())["userName"] == "bjensen"
    connection.close()


def test_starlette_mount(serve_app: Any) -> None:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Mount, Route

    import scimcore.asgi

    service = ScimService(MemoryStore(), tokens=["s3cret"])

    async def home(request: Any) -> PlainTextResponse:
        return PlainTextResponse("my app")

    app = Starlette(
        routes=[Route("/", home), Mount("/scim/v2", app=scimcore.asgi.create_app(service))]
    )
    _roundtrip_over_http(serve_app(app), "/scim/v2")


def test_fastapi_mount(serve_app: Any) -> None:
    from fastapi import FastAPI

    import scimcore.asgi

    service = ScimService(MemoryStore(), tokens=["s3cret"])
    app = FastAPI()
    app.mount("/scim/v2", scimcore.asgi.create_app(service))

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    _roundtrip_over_http(serve_app(app), "/scim/v2")


def test_flask_dispatcher_middleware() -> None:
    from flask import Flask
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    import scimcore.wsgi

    service = ScimService(MemoryStore(), tokens=["s3cret"])
    app = Flask(__name__)
    app.wsgi_app = DispatcherMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, {"/scim/v2": scimcore.wsgi.create_app(service)}
    )

    client = app.test_client()
    created = client.post("/scim/v2/Users", data=BODY, headers=HEADERS)
    assert created.status_code == 201
    document = created.get_json(force=True)
    assert created.headers["Location"] == f"http://localhost/scim/v2/Users/{document['id']}"
    assert client.get(f"/scim/v2/Users/{document['id']}", headers=HEADERS).status_code == 200
    assert client.get("/scim/v2/Users").status_code == 401


@pytest.fixture(scope="module")
def django_settings() -> None:
    from tests._django import configure

    configure()  # ROOT_URLCONF is this module


DJANGO_SERVICE = ScimService(MemoryStore(), tokens=["s3cret"])


def scim_view(request: Any, path: str = "") -> Any:
    """The Django view of docs/serving.md."""
    from django.http import HttpResponse

    response = DJANGO_SERVICE.handle(
        Request(
            request.method,
            "/" + path,
            query=request.META.get("QUERY_STRING", ""),
            headers=request.headers.items(),
            body=request.body,
            base_url=request.build_absolute_uri("/scim/v2"),
        )
    )
    reply = HttpResponse(response.body, status=response.status)
    for name, value in response.headers:
        reply[name] = value
    return reply


def _urlpatterns() -> list[Any]:
    from django.urls import re_path
    from django.views.decorators.csrf import csrf_exempt

    return [re_path(r"^scim/v2/?(?P<path>.*)$", csrf_exempt(scim_view))]


def __getattr__(name: str) -> Any:
    if name == "urlpatterns":  # read by Django's URL resolver (ROOT_URLCONF is this module)
        return _urlpatterns()
    raise AttributeError(name)


def test_django_view(django_settings: None) -> None:
    from django.test import Client

    client = Client()
    created = client.post(
        "/scim/v2/Users",
        data=BODY,
        content_type="application/scim+json",
        headers={"Authorization": "Bearer s3cret"},
    )
    assert created.status_code == 201, created.content
    document = json.loads(created.content)
    assert created["Content-Type"] == "application/scim+json"
    assert created["Location"] == f"http://testserver/scim/v2/Users/{document['id']}"
    got = client.get(f"/scim/v2/Users/{document['id']}", headers={"Authorization": "Bearer s3cret"})
    assert got.status_code == 200
    assert json.loads(got.content)["userName"] == "bjensen"
