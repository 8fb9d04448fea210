"""The Django view and URL patterns that serve a :class:`~scimcore.service.ScimService`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import re_path
from django.utils.encoding import iri_to_uri
from django.views.decorators.csrf import csrf_exempt

from scimcore.service import Request, ScimService
from scimcore.service._http import environ_headers

__all__ = ["scim_urls", "scim_view"]


def scim_view(service: ScimService, prefix: str = "scim/v2") -> Callable[..., HttpResponse]:
    """A view answering every SCIM request under ``prefix`` with ``service`` (CSRF-exempt:
    SCIM clients authenticate with a bearer token, not a cookie)."""

    root = iri_to_uri("/" + prefix)  # what request.build_absolute_uri("/" + prefix) appends

    def view(request: HttpRequest, path: str = "") -> HttpResponse:
        response = service.handle(
            Request(
                request.method or "GET",
                "/" + path,
                query=request.META.get("QUERY_STRING", ""),
                headers=environ_headers(request.META),
                body=request.body,
                base_url=f"{request.scheme}://{request.get_host()}{root}",
                principal=getattr(request, "user", None),
            )
        )
        return HttpResponse(response.body, status=response.status, headers=response.headers)

    return csrf_exempt(view)  # type: ignore[no-any-return]


def scim_urls(service: ScimService, prefix: str = "scim/v2") -> list[Any]:
    """The URL patterns of a SCIM endpoint under ``prefix``, for a project's ``urls.py``:
    ``urlpatterns = [path("admin/", admin.site.urls), *scim_urls(service)]``."""
    return [re_path(rf"^{prefix}/?(?P<path>.*)$", scim_view(service, prefix))]
