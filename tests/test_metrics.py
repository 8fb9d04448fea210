"""``serve --metrics``: requests by route and status, and a latency histogram, for Prometheus."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from http import client as httpclient
from pathlib import Path

from scimcore._metrics import BUCKETS
from scimcore._serve import build_app
from scimcore.policy import Policy
from scimcore.stores import MemoryStore
from tests._live import Client, LiveServer

USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def fetch(port: int, path: str) -> tuple[int, str, str]:
    connection = httpclient.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        reply = connection.getresponse()
        return reply.status, reply.getheader("content-type") or "", reply.read().decode()
    finally:
        connection.close()


def test_requests_are_counted_by_route_and_status() -> None:
    app = build_app(MemoryStore(), ["t"], Policy(), metrics=True)
    assert app.inspector is None
    with LiveServer(app) as port, LiveServer(app.local_app) as local:
        client = Client(port, "/scim/v2", "t")
        made = client.post("/Users", {"schemas": [USER], "userName": "bjensen"})
        for _ in range(3):
            assert client.get(f"/Users/{made.json['id']}").status == 200
        assert client.get("/Users/nope").status == 404
        assert Client(port, "/scim/v1", "wrong").get("/Users").status == 401
        status, kind, text = fetch(local, "/metrics")
    assert (status, kind) == (200, "text/plain; version=0.0.4; charset=utf-8")
    counted = [line for line in text.splitlines() if line.startswith("scimcore_requests_total")]
    assert counted == [
        'scimcore_requests_total{tenant="",version="1",route="Users",method="GET",status="401"} 1',
        'scimcore_requests_total{tenant="",version="2",route="Users",method="POST",status="201"} 1',
        'scimcore_requests_total{tenant="",version="2",route="Users/{id}",method="GET",status="200"} 3',
        'scimcore_requests_total{tenant="",version="2",route="Users/{id}",method="GET",status="404"} 1',
    ]
    buckets = [
        line
        for line in text.splitlines()
        if line.startswith('scimcore_request_duration_seconds_bucket{route="Users/{id}"')
    ]
    assert len(buckets) == len(BUCKETS) + 1
    assert buckets[-1] == 'scimcore_request_duration_seconds_bucket{route="Users/{id}",le="+Inf"} 4'
    counts = [int(line.rsplit(" ", 1)[1]) for line in buckets]
    assert counts == sorted(counts)  # cumulative
    assert 'scimcore_request_duration_seconds_count{route="Users/{id}"} 4' in text
    assert "# TYPE scimcore_request_duration_seconds histogram" in text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_answers_metrics_on_the_local_port_only(tmp_path: Path) -> None:
    port, local = _free_port(), _free_port()
    command = [
        sys.executable,
        "-m",
        "scimcore.cli",
        "serve",
        "--memory",
        "--token",
        "t",
        "--port",
        str(port),
        "--metrics",
        "--local-port",
        str(local),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ}
    )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline().decode() for _ in range(3)]
        assert banner[2] == f"scimcore: metrics at http://127.0.0.1:{local}/metrics\n"
        for _ in range(200):  # until uvicorn listens (no wall-clock assertion)
            try:
                if fetch(local, "/metrics")[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        assert Client(port, "/scim/v2", "t").get("/Users").status == 200
        assert "scimcore_requests_total" in fetch(local, "/metrics")[2]
        assert fetch(port, "/metrics")[0] == 404  # on the served port, /metrics is not there
        assert fetch(local, "/Users")[0] == 404
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
