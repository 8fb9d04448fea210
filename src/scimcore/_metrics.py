"""The metrics of ``scimcore serve --metrics``, in the Prometheus text format.

``serve``'s request wrapper (:func:`scimcore._serve.logged`) counts each request by tenant,
SCIM version, route (the path with its ids replaced: ``Users/{id}``), method
and status, and its time in a histogram by route; :meth:`Metrics.text` is what
``GET /metrics`` on the local port answers (text format 0.0.4)::

    scimcore_requests_total{tenant="",version="2",route="Users/{id}",method="GET",status="200"} 3
    scimcore_request_duration_seconds_bucket{route="Users/{id}",le="0.005"} 3

>>> metrics = Metrics()
>>> metrics.observe("/t/acme/scim/v2/Users/2819c223", "GET", 200, 0.002)
>>> print(metrics.text().splitlines()[2])
scimcore_requests_total{tenant="acme",version="2",route="Users/{id}",method="GET",status="200"} 1
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from typing import Any

__all__ = ["BUCKETS", "Metrics", "route_of"]

#: The upper bounds of the latency histogram's buckets, in seconds (then +Inf).
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
#: The routes named as they are; any other first segment is a resource type's endpoint.
_FIXED = {"serviceproviderconfig", "serviceproviderconfigs", "resourcetypes", "schemas", "bulk"}


def route_of(path: str) -> tuple[str, str, str]:
    """The tenant, SCIM version and route of a request path, ids replaced.

    >>> route_of("/scim/v2/Users/2819c223/")
    ('', '2', 'Users/{id}')
    >>> route_of("/t/acme/scim/v1/Groups")
    ('acme', '1', 'Groups')
    >>> route_of("/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User")
    ('', '2', 'Schemas/{id}')
    >>> route_of("/favicon.ico")
    ('', '', 'other')
    """
    tenant = ""
    if path.startswith("/t/"):
        tenant, _, rest = path[3:].partition("/")
        path = "/" + rest
        if len(tenant) > 40:
            return "", "", "other"
    if not path.startswith("/scim/v") or path[7:8] not in ("1", "2") or path[8:9] not in "/":
        return tenant, "", "other"
    version = path[7]
    segments = [s for s in path[8:].split("/") if s]
    if not segments:
        return tenant, version, "/"
    head = segments[0]
    if head.startswith(".search") or head.casefold() in _FIXED:
        name = head
    elif head[:1].isalpha() and head.isalnum() and len(head) <= 40:
        name = head  # a resource type's endpoint: Users, Groups, Me…
    else:
        return tenant, version, "other"
    if len(segments) == 1:
        return tenant, version, name
    if len(segments) == 2:
        return tenant, version, f"{name}/.search" if segments[1] == ".search" else f"{name}/{{id}}"
    return tenant, version, f"{name}/{{id}}/…"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    """Counters and a latency histogram, filled by :meth:`observe`."""

    def __init__(self) -> None:
        self.requests: defaultdict[tuple[str, str, str, str, int], int] = defaultdict(int)
        #: route -> (bucket counts, sum of seconds, count)
        self.latency: dict[str, list[Any]] = {}

    def observe(self, path: str, method: str, status: int, seconds: float) -> None:
        """Count one request."""
        tenant, version, route = route_of(path)
        if method not in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"):
            method = "other"
        self.requests[(tenant, version, route, method, status)] += 1
        found = self.latency.get(route)
        if found is None:
            found = self.latency[route] = [[0] * (len(BUCKETS) + 1), 0.0, 0]
        found[0][bisect.bisect_left(BUCKETS, seconds)] += 1
        found[1] += seconds
        found[2] += 1

    def text(self) -> str:
        """The Prometheus text exposition of the metrics."""
        lines = [
            "# HELP scimcore_requests_total SCIM requests answered, by route and status.",
            "# TYPE scimcore_requests_total counter",
        ]
        for (tenant, version, route, method, status), count in sorted(self.requests.items()):
            lines.append(
                f'scimcore_requests_total{{tenant="{_label(tenant)}",version="{version}",'
                f'route="{_label(route)}",method="{method}",status="{status}"}} {count}'
            )
        lines += [
            "# HELP scimcore_request_duration_seconds Time to answer a request, by route.",
            "# TYPE scimcore_request_duration_seconds histogram",
        ]
        for route, (buckets, total, count) in sorted(self.latency.items()):
            name = _label(route)
            running = 0
            for bound, inside in zip((*BUCKETS, "+Inf"), buckets, strict=True):
                running += inside
                lines.append(
                    f'scimcore_request_duration_seconds_bucket{{route="{name}",le="{bound}"}}'
                    f" {running}"
                )
            lines.append(f'scimcore_request_duration_seconds_sum{{route="{name}"}} {total!r}')
            lines.append(f'scimcore_request_duration_seconds_count{{route="{name}"}} {count}')
        return "\n".join(lines) + "\n"
