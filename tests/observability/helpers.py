"""Scraping /metrics, a local HTTP receiver (Sentry envelopes, OTLP exports) and ports."""

from __future__ import annotations

import gzip
import random
import socket
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
from prometheus_client.parser import text_string_to_metric_families

from quartet.local_ports import HOST

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
LOW_PORTS = range(20000, 30000)
"""Test servers pick from here: below the kernel's ephemeral range (see quartet.local_ports)."""


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """A sample's value; 0 when the series does not exist yet. Labels not given must be
    absent, except `pid` (multiprocess mode), which is summed over."""
    total = 0.0
    for (sample_name, sample_labels), sample_value in samples.items():
        named = dict(sample_labels)
        named.pop("pid", None)
        if sample_name == name and named == labels:
            total += sample_value
    return total


async def scrape(http: httpx.AsyncClient, **headers: str) -> Samples:
    response = await http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


def low_port() -> int:
    """A free loopback port below 32768."""
    for port in random.sample(LOW_PORTS, 200):
        with socket.socket() as sock:
            try:
                sock.bind((HOST, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below 32768")


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Everything POSTed to it, bodies decompressed; answers 200 with an empty JSON object."""

    port: int
    requests: list[Received] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)
            return list(self.requests)


@contextmanager
def receiver() -> Iterator[Receiver]:
    received = Receiver(low_port())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            encoding = self.headers.get("content-encoding", "")
            if encoding == "gzip":
                body = gzip.decompress(body)
            elif encoding == "deflate":
                body = zlib.decompress(body)
            with received.arrived:
                received.requests.append(Received(self.path, dict(self.headers), body))
                received.arrived.notify_all()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer((HOST, received.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()
