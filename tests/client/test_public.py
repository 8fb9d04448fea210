"""The client's public names (DESIGN.md "Public surface"), pinned."""

from __future__ import annotations

import inspect

import scimcore
import scimcore.client


def test_all_is_pinned() -> None:
    assert scimcore.client.__all__ == [
        "AsyncClient",
        "AsyncResources",
        "Client",
        "ClientCore",
        "Discovery",
        "HttpRequest",
        "HttpResponse",
        "Pager",
        "PagingError",
        "PlanPolicy",
        "RequestLog",
        "Resources",
        "Retry",
        "Sleep",
        "Step",
        "TransportError",
        "all_of",
        "any_of",
        "attr",
        "dependency_order",
        "not_",
        "plan_patch",
        "retry_after",
    ]
    assert scimcore.plan_patch is scimcore.client.plan_patch
    assert scimcore.client is scimcore.__getattr__("client")


def test_the_two_front_ends_have_the_same_operations() -> None:
    public = {"bulk", "create", "delete", "discover", "get", "iter_resources", "model"}
    public |= {"patch", "replace", "search", "update"}
    for cls in (scimcore.client.Client, scimcore.client.AsyncClient):
        names = {n for n, _ in inspect.getmembers(cls) if not n.startswith("_")}
        assert public <= names, cls
    sync = inspect.signature(scimcore.client.Client.search)
    asynchronous = inspect.signature(scimcore.client.AsyncClient.search)
    assert list(sync.parameters) == list(asynchronous.parameters)
    init = inspect.signature(scimcore.client.Client.__init__).parameters
    assert list(init)[:3] == ["self", "base_url", "token"]
