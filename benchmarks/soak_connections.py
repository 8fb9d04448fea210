"""Issue 21's connection floods, measured against ``scimcore serve`` as users run it.

    python benchmarks/soak_connections.py [--half-headers 10000] [--bodies 500] [--rounds 2]

Starts ``scimcore serve --memory`` (its defaults: ``--max-connections 500``,
``--read-timeout 10``), then, without a token, opens ``--half-headers``
connections that send half a request head and stall, and ``--bodies``
connections that announce a 1 MB body, send what the socket takes and stall.
Meanwhile it times authenticated GETs; afterwards it closes everything and
compares the server's resident memory with where it started. ``--rounds`` (2)
floods in a row: memory that a first flood leaves (code paths and caches run for
the first time) and a second does not add to is warm-up, not a leak. Prints
figures; asserts nothing about time. Run through ``nox -s soak``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import socket
import subprocess
import sys
import time
from http import client as httpclient
from pathlib import Path
from typing import Any

TOKEN = "soak-connections-token"
SCIMCORE = str(Path(sys.executable).with_name("scimcore"))


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def timed_get(port: int) -> float:
    started = time.perf_counter()
    connection = httpclient.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            "GET", "/scim/v2/Users?count=10", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
    finally:
        connection.close()
    return time.perf_counter() - started


def sample(port: int, flooding: Any, results: Any) -> None:
    """An authenticated GET every 50 ms while ``flooding`` is set; their latencies."""
    latencies = []
    while flooding.is_set():
        latencies.append(timed_get(port))
        time.sleep(0.05)
    results.put(latencies)


def open_stalled(port: int, count: int, head: bytes, body: int) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            continue
        sock.setblocking(False)
        try:
            sock.send(head)
            sent = 0
            while sent < body:
                sent += sock.send(b"x" * min(65536, body - sent))
        except (BlockingIOError, OSError):
            pass  # the socket takes no more (or was closed): stalled
        sockets.append(sock)
    return sockets


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--half-headers", type=int, default=10_000)
    parser.add_argument("--bodies", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [SCIMCORE, "serve", "--memory", "--port", str(port), "--token", TOKEN],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(400):
            try:
                timed_get(port)
                break
            except OSError:
                time.sleep(0.05)
        for _ in range(200):
            timed_get(port)
        before = rss_kib(server.pid)
        print(f"server resident memory at rest: {before / 1024:.1f} MiB")
        for round_ in range(1, args.rounds + 1):
            print(f"round {round_}:")
            # The GETs are sent from a process of their own, so the flood's client does not
            # slow them down (one Python process, one GIL).
            flooding = multiprocessing.Event()
            flooding.set()
            results: Any = multiprocessing.Queue()
            sampler = multiprocessing.Process(target=sample, args=(port, flooding, results))
            sampler.start()
            started = time.perf_counter()
            half = open_stalled(
                port, args.half_headers, b"GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\n", 0
            )
            post = (
                b"POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/scim+json\r\nContent-Length: 1048576\r\n\r\n"
            )
            bodies = open_stalled(port, args.bodies, post, 1_048_576)
            print(
                f"opened {len(half)} half-header and {len(bodies)} stalled-body connections "
                f"in {time.perf_counter() - started:.1f} s"
            )
            time.sleep(2)
            flooding.clear()
            in_order = results.get(timeout=120)
            print("in order (ms):", [round(x * 1000) for x in in_order])
            latencies = sorted(in_order)
            sampler.join()
            print(
                f"{len(latencies)} authenticated GETs during the flood: slowest "
                f"{latencies[-1] * 1000:.1f} ms, 99th percentile "
                f"{latencies[len(latencies) * 99 // 100] * 1000:.1f} ms, median "
                f"{latencies[len(latencies) // 2] * 1000:.1f} ms"
            )
            peak = rss_kib(server.pid)
            print(f"resident memory at the flood's peak: {peak / 1024:.1f} MiB")
            for sock in half + bodies:
                sock.close()
            time.sleep(3)
            for _ in range(50):
                timed_get(port)
            after = rss_kib(server.pid)
            print(
                f"after they closed: {after / 1024:.1f} MiB "
                f"({(after - before) / before * 100:+.1f}% of where it started)"
            )
    finally:
        server.terminate()
        server.wait()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


if __name__ == "__main__":
    sys.exit(main())
