"""The request inspector of ``scimcore serve --inspect``: what the identity provider sent.

``serve``'s request wrapper (:func:`scimcore._serve.logged`, the one that logs
each request) hands each request and its response to an :class:`Inspector`
(:meth:`Inspector.start`, :meth:`Inspector.finish`), which keeps the last
``size`` of each tenant, with the ``Authorization`` header redacted at once
and passwords, secrets and tokens in the bodies redacted before anything is
shown. :meth:`Inspector.page_app` is the
ASGI app of the page that shows them (``serve`` binds it to 127.0.0.1 only),
filterable by tenant, status, method, resource and ``scimType``; a refused
request shows the :class:`~scimcore.Policy` switch that would have accepted it.

Theory of operation: the request path does as little as it can, one object
appended to a bounded deque, the body bytes kept as they are. Everything else
(redaction, parsing the error, finding the switch) is done when the page asks,
and the switch once per request: the refused request is sent again, with each
lenient switch in turn, to a service over an empty
:class:`~scimcore.stores.MemoryStore` (seeded with the resource a PUT or PATCH
names), never to the served store.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import attrs

from scimcore.policy import Policy
from scimcore.service import Request, ScimService, ScimV1Service

__all__ = ["Exchange", "Inspector", "redact"]

#: The most bytes of a body kept.
MAX_BODY = 65536
_SECRET_KEY = re.compile(r"password|secret|token|credential", re.IGNORECASE)
_SECRET_HINT = re.compile(rb"(?i)password|secret|token|credential")
_TENANT = re.compile(r"^/t/([^/]+)(/.*)?$")
_VERSIONED = re.compile(r"^/scim/v([12])(/.*)?$")
#: A switch's lenient value: what ``Policy.interop()`` accepts.
_LENIENT: dict[str, Any] = {
    field.name: getattr(Policy.interop(), field.name) for field in attrs.fields(Policy)
}


def redact(value: Any) -> Any:
    """``value`` (parsed JSON) with the values of password, secret and token keys hidden.

    >>> redact({"userName": "b", "password": "p", "x": [{"clientSecret": "s"}]})
    {'userName': 'b', 'password': '(redacted)', 'x': [{'clientSecret': '(redacted)'}]}
    """
    if isinstance(value, dict):
        return {
            k: "(redacted)" if _SECRET_KEY.search(str(k)) else redact(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str) and value.casefold().startswith("bearer "):
        return "Bearer (redacted)"
    return value


def _shown(body: bytes) -> Any:
    """A body as the page shows it: JSON redacted, else text (cut)."""
    if not body:
        return None
    try:
        return redact(json.loads(body))
    except ValueError:
        text = body[:2000].decode("utf-8", "replace")
        return "(redacted)" if _SECRET_HINT.search(body) else text


@attrs.define(slots=True)
class Exchange:
    """One request and its response, as received and sent."""

    number: int
    when: float
    client: Any
    tenant: str
    method: str
    path: str
    raw_query: bytes
    raw_headers: list[tuple[bytes, bytes]]
    body: bytes
    status: int = 0
    response: bytes = b""
    ms: float = 0.0
    hint: str | None = None
    hinted: bool = False

    @property
    def query(self) -> str:
        """The query string, still percent-encoded."""
        return self.raw_query.decode("latin-1")

    @property
    def headers(self) -> list[tuple[str, str]]:
        """The request's headers (``Authorization`` redacted)."""
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self.raw_headers]

    def version(self) -> int:
        found = _VERSIONED.match(self._local())
        return int(found.group(1)) if found else 2

    def _local(self) -> str:
        found = _TENANT.match(self.path)
        return (found.group(2) or "/") if found else self.path

    def service_path(self) -> str:
        """The path as the tenant's service sees it (``/Users/1``)."""
        found = _VERSIONED.match(self._local())
        return (found.group(2) or "/") if found else self._local()

    def resource(self) -> str:
        """The resource type or endpoint the request is about (``Users``), or ``""``."""
        segments = [s for s in self.service_path().split("/") if s]
        return segments[0] if segments else ""

    def error(self) -> tuple[str | None, str | None]:
        """The ``scimType`` and ``detail`` of an error response."""
        if self.status < 400:
            return None, None
        try:
            document = json.loads(self.response)
        except ValueError:
            return None, None
        if not isinstance(document, dict):
            return None, None
        errors = document.get("Errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            text = str(errors[0].get("description", ""))
            found = re.match(r"\[(\w+)\] (.*)", text, re.DOTALL)
            return (found.group(1), found.group(2)) if found else (None, text)
        scim_type, detail = document.get("scimType"), document.get("detail")
        return (
            scim_type if isinstance(scim_type, str) else None,
            detail if isinstance(detail, str) else None,
        )

    def to_dict(self) -> dict[str, Any]:
        scim_type, detail = self.error()
        return {
            "number": self.number,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.when)),
            "client": str(self.client),
            "tenant": self.tenant,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "resource": self.resource(),
            "status": self.status,
            "scimType": scim_type,
            "detail": detail,
            "ms": round(self.ms, 1),
            "headers": [[k, v] for k, v in self.headers],
            "request": _shown(self.body),
            "response": _shown(self.response),
            "hint": self.hint,
        }


#: What the inspector needs of a tenant: its policy, and its store (to seed a PUT or PATCH).
Tenant = tuple[Policy, Any]


class Inspector:
    """The last ``size`` exchanges of each tenant (``""``: the default one)."""

    def __init__(self, tenants: Callable[[str], Tenant | None], *, size: int = 200) -> None:
        self.tenants = tenants
        self.size = size
        self.kept: dict[str, deque[Exchange]] = {}
        self._numbers = itertools.count(1)

    def start(self, scope: Any) -> Exchange:
        """A new exchange for the request of ``scope`` (kept at once).

        The request path's share of the inspector: the headers are kept as
        they came, but for ``Authorization``, dropped here (and shown as
        redacted); nothing is decoded until the page asks.
        """
        path: str = scope["path"]
        tenant = path[3:].partition("/")[0] if path.startswith("/t/") else ""
        headers = [h for h in scope["headers"] if h[0] != b"authorization"]
        if len(headers) != len(scope["headers"]):
            headers.append((b"authorization", b"(redacted)"))
        client = scope.get("client") or ("-", 0)
        exchange = Exchange(
            next(self._numbers),
            time.time(),
            client[0],
            tenant,
            scope["method"],
            path,
            scope.get("query_string", b""),
            headers,
            b"",
        )
        kept = self.kept.get(tenant)
        if kept is None:
            kept = self.kept.setdefault(tenant, deque(maxlen=self.size))
        kept.append(exchange)
        return exchange

    def finish(
        self,
        exchange: Exchange,
        received: list[bytes],
        sent: list[bytes],
        status: int,
        seconds: float,
    ) -> None:
        """Keep what the request sent (``received``) and its answer (``sent``) with ``exchange``.

        A request body that mentions a password, secret, token or credential is
        kept redacted: a secret is never kept as it came.
        """
        exchange.status = status
        exchange.ms = seconds * 1000
        if received:
            body = b"".join(received)[:MAX_BODY]
            if _SECRET_HINT.search(body):
                shown = _shown(body)
                redacted = isinstance(shown, str)
                body = b"(redacted)" if redacted else json.dumps(shown).encode()
            exchange.body = body
        exchange.response = sent[0][:MAX_BODY] if len(sent) == 1 else b"".join(sent)[:MAX_BODY]

    def exchanges(self, **wanted: str) -> list[Exchange]:
        """The kept exchanges, newest first, filtered by ``tenant``, ``status`` (``4xx`` or
        ``400``), ``method``, ``resource`` and ``scimType`` (each ``""`` for any)."""
        tenant = wanted.get("tenant", "*")
        pools = list(self.kept.items()) if tenant == "*" else [(tenant, self.kept.get(tenant, ()))]
        found = [e for _, pool in pools for e in list(pool)]
        status = wanted.get("status", "")
        method = wanted.get("method", "").upper()
        resource = wanted.get("resource", "").casefold()
        scim_type = wanted.get("scimType", "")
        chosen = []
        for exchange in found:
            shown = str(exchange.status)
            if status and not (
                shown == status or (status.endswith("xx") and shown[0] == status[0])
            ):
                continue
            if method and exchange.method != method:
                continue
            if resource and exchange.resource().casefold() != resource:
                continue
            if scim_type and exchange.error()[0] != scim_type:
                continue
            chosen.append(exchange)
        chosen.sort(key=lambda e: e.number, reverse=True)
        return chosen

    # ------------------------------------------------------------------ the hint

    def hint(self, exchange: Exchange) -> str | None:
        """The Policy switch that would have accepted a refused request (400), or ``None``."""
        if not exchange.hinted:
            exchange.hinted = True
            if exchange.status == 400 and exchange.body[:1] != b"(":
                exchange.hint = self._find_switch(exchange)
        return exchange.hint

    def _find_switch(self, exchange: Exchange) -> str | None:
        tenant = self.tenants(exchange.tenant)
        if tenant is None:
            return None
        policy, store = tenant
        for name, lenient in _LENIENT.items():
            if getattr(policy, name) == lenient:
                continue
            if self._accepted(exchange, attrs.evolve(policy, **{name: lenient}), store):
                return f"{name}={lenient!r}"
        if policy != Policy.interop() and self._accepted(exchange, Policy.interop(), store):
            return "Policy.interop()"
        return None

    def _accepted(self, exchange: Exchange, policy: Policy, store: Any) -> bool:
        """Whether ``exchange``'s request succeeds under ``policy``, on a scratch store."""
        from scimcore.stores import MemoryStore

        scratch = MemoryStore()
        service = ScimService(scratch, policy=policy)
        path = exchange.service_path()
        segments = [s for s in path.split("/") if s]
        if len(segments) == 2 and exchange.method in ("PUT", "PATCH"):
            model = service._endpoints.by_endpoint.get(segments[0].casefold())
            if model is None:
                return False
            try:
                current = store.get(service._endpoints.model(model), segments[1])
                made = scratch.create(attrs.evolve(current, id=None))
            except Exception:  # the resource is gone, or the store is async: no hint
                return False
            path = f"/{segments[0]}/{made.id}"
        served: Any = service if exchange.version() == 2 else ScimV1Service(service)
        request = Request(
            exchange.method,
            path,
            query=exchange.query,
            headers=[(k, v) for k, v in exchange.headers if k.lower() != "authorization"],
            body=exchange.body,
        )
        try:
            return bool(served.handle(request).status < 400)
        finally:
            scratch.close()

    # ------------------------------------------------------------------ the page

    def page_app(self) -> Any:
        """The ASGI app of the inspector's page: ``/`` (HTML) and ``/exchanges`` (JSON)."""

        async def app(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                return
            if scope["path"] == "/exchanges":
                query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
                wanted = {k: v[0] for k, v in query.items() if v}
                wanted.setdefault("tenant", "*")
                shown = []
                for exchange in self.exchanges(**wanted)[:500]:
                    self.hint(exchange)
                    shown.append(exchange.to_dict())
                tenants = sorted(self.kept)
                body = json.dumps({"tenants": tenants, "exchanges": shown}).encode()
                kind = b"application/json"
            elif scope["path"] == "/":
                body, kind = _PAGE.encode(), b"text/html; charset=utf-8"
            else:
                body, kind = b"not found", b"text/plain"
            status = 404 if kind == b"text/plain" else 200
            headers = [
                (b"content-type", kind),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                (b"content-security-policy", b"default-src 'self' 'unsafe-inline'"),
            ]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        return app


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>scimcore inspector</title>
<style>
body{font:14px system-ui,sans-serif;margin:1em}
table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
tr.refused{background:#fff3f3} tr.row{cursor:pointer}
pre{white-space:pre-wrap;margin:0;font-size:12px}
label{margin-right:1em} .hint{color:#064;font-weight:bold}
</style></head><body>
<h1>scimcore: the last requests</h1>
<form id="filters">
<label>Tenant <select id="tenant"><option value="*">all</option></select></label>
<label>Status <input id="status" size="4" placeholder="4xx"></label>
<label>Method <select id="method"><option value="">any</option><option>GET</option>
<option>POST</option><option>PUT</option><option>PATCH</option><option>DELETE</option></select></label>
<label>Resource <input id="resource" size="10" placeholder="Users"></label>
<label>scimType <input id="scimType" size="12" placeholder="invalidValue"></label>
<button type="submit" id="apply">Show</button>
</form>
<p id="count"></p>
<table><thead><tr><th>#</th><th>time</th><th>tenant</th><th>method</th><th>path</th>
<th>status</th><th>scimType</th><th>detail</th><th>would be accepted with</th></tr></thead>
<tbody id="rows"></tbody></table>
<script>
const $ = (id) => document.getElementById(id);
function cell(row, text, cls) {
  const td = document.createElement("td"); td.textContent = text ?? "";
  if (cls) td.className = cls; row.appendChild(td); return td;
}
async function load() {
  const params = new URLSearchParams();
  for (const key of ["tenant", "status", "method", "resource", "scimType"]) {
    if ($(key).value) params.set(key, $(key).value);
  }
  const data = await (await fetch("exchanges?" + params)).json();
  const select = $("tenant"), chosen = select.value;
  for (const name of data.tenants) {
    const label = name || "(default)";
    if (![...select.options].some((o) => o.value === name)) select.add(new Option(label, name));
  }
  select.value = chosen;
  const rows = $("rows"); rows.replaceChildren();
  for (const e of data.exchanges) {
    const row = document.createElement("tr");
    row.className = "row" + (e.status >= 400 ? " refused" : "");
    row.dataset.number = e.number;
    cell(row, e.number); cell(row, e.time); cell(row, e.tenant || "(default)");
    cell(row, e.method); cell(row, e.path + (e.query ? "?" + e.query : ""));
    cell(row, e.status, "status"); cell(row, e.scimType, "scimType");
    cell(row, e.detail, "detail"); cell(row, e.hint, "hint");
    const more = document.createElement("tr"); more.hidden = true; more.className = "more";
    const td = document.createElement("td"); td.colSpan = 9; more.appendChild(td);
    const pre = document.createElement("pre");
    pre.textContent = "Request headers:\\n" + e.headers.map((h) => h.join(": ")).join("\\n")
      + "\\n\\nRequest body:\\n" + JSON.stringify(e.request, null, 2)
      + "\\n\\nResponse (" + e.status + ", " + e.ms + " ms):\\n"
      + JSON.stringify(e.response, null, 2);
    td.appendChild(pre);
    row.addEventListener("click", () => { more.hidden = !more.hidden; });
    rows.appendChild(row); rows.appendChild(more);
  }
  $("count").textContent = data.exchanges.length + " shown";
}
$("filters").addEventListener("submit", (event) => { event.preventDefault(); load(); });
load();
</script></body></html>
"""
