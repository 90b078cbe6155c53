"""The namespace cluster (deploy/cluster) driven from Python: up, down, `ctl.sh`, and a webhook
receiver on the bridge. `_cluster_load` sends registrations through it, `_cluster_faults` breaks
it; bench/cluster_faults.py and tests/cluster/ use the three."""

from __future__ import annotations

import csv
import fcntl
import http.client
import io
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "deploy" / "cluster"
STATE = Path(os.environ.get("LEADSITE_CLUSTER_STATE", "/tmp/leadsite-cluster"))
# One machine, one cluster: whoever builds it (tests/cluster, bench/cluster_faults.py) holds this.
LOCK = Path("/tmp/leadsite-cluster-test.lock")
WORKER_ADDRESSES = {"worker1": "10.231.0.21", "worker2": "10.231.0.22"}
APP_URLS = {"app1": "http://10.231.0.11:8000", "app2": "http://10.231.0.12:8000"}
# What every run sets: limits out of the load's reach (still checked on every request, in
# Redis), and a short lease so a dead worker's messages come back within seconds.
SETTINGS = {
    "API_RATE_LIMIT": "100000 per second",
    "API_IP_RATE_LIMIT": "100000 per second",
    "WORKER_LEASE_SECONDS": "5",
}


def unavailable() -> str | None:
    """Why the cluster cannot be built here, or None."""
    if os.geteuid() != 0:
        return "not root"
    for tool in ("ip", "haproxy", "redis-server", "runuser", "curl"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    if not list(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")):
        return "no PostgreSQL server binaries under /usr/lib/postgresql"
    if not (ROOT / ".venv" / "bin" / "gunicorn").exists():
        return "no .venv with gunicorn"
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True)
    if probe.returncode != 0:
        return "ip netns is not available"
    return None


# --- the cluster -------------------------------------------------------------------------------


@dataclass
class Cluster:
    info: dict[str, Any]

    @classmethod
    def up(cls, settings: dict[str, str] | None = None) -> Cluster:
        """Run up.sh, unless a cluster is up already (it is someone's: left alone)."""
        if is_up():
            raise RuntimeError("a cluster is already up: make cluster-down first")
        # The caller holds LOCK (`exclusive`): up.sh, which checks it, is told so.
        env = {**os.environ, **SETTINGS, **(settings or {}), "LEADSITE_CLUSTER_LOCK_HELD": "1"}
        try:
            result = subprocess.run(
                [str(SCRIPTS / "up.sh")], env=env, capture_output=True, text=True, timeout=240
            )
        except subprocess.TimeoutExpired:
            down()
            raise
        if result.returncode != 0:
            down()  # up.sh cleans up after itself, but not after every kind of failure
            raise RuntimeError(f"up.sh failed:\n{result.stdout}\n{result.stderr}")
        return cls(json.loads((STATE / "cluster.json").read_text()))

    @property
    def lease_seconds(self) -> float:
        settings = (STATE / "settings.env").read_text().splitlines()
        values = dict(line.split("=", 1) for line in settings if "=" in line)
        return float(values.get("WORKER_LEASE_SECONDS", "60"))

    def wait_healthy(self, timeout: float = 60) -> None:
        """Until both apps are ready (`/readyz`) and HAProxy has both in its rotation."""
        deadline = time.monotonic() + timeout
        for url in (f"{app}/readyz" for app in APP_URLS.values()):
            while call("GET", url, timeout=2).status != 200:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} is not ready after {timeout} s")
                time.sleep(0.2)
        while set(self.servers_up()) != {"app1", "app2"}:
            if time.monotonic() > deadline:
                raise RuntimeError(f"HAProxy has only {self.servers_up()} up after {timeout} s")
            time.sleep(0.2)

    def servers_up(self) -> list[str]:
        """The apps HAProxy sends requests to now (its stats socket)."""
        with socket.socket(socket.AF_UNIX) as stats:
            stats.connect(str(STATE / "haproxy.sock"))
            stats.sendall(b"show stat\n")
            answer = b""
            while chunk := stats.recv(65536):
                answer += chunk
        rows = csv.DictReader(io.StringIO(answer.decode().lstrip("# ")))
        return [
            row["svname"]
            for row in rows
            if row["pxname"] == "apps" and row["svname"].startswith("app") and row["status"] == "UP"
        ]

    def ctl(self, *args: str) -> None:
        command = [str(SCRIPTS / "ctl.sh"), *args]
        subprocess.run(command, check=True, capture_output=True, timeout=90)

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.info["database_url"], autocommit=True, connect_timeout=5)

    def add_webhook(self, url: str) -> None:
        """Subscribe `url` to lead.created through the API, as a customer would."""
        answer = call(
            "POST",
            self.info["lb_url"] + "/api/v1/webhooks",
            {"url": url, "events": ["lead.created"]},
            {"Authorization": f"Bearer {self.info['api_key']}"},
        )
        if answer.status != 201:
            raise RuntimeError(f"creating the webhook answered {answer.status}: {answer.body!r}")


class ClusterBusy(Exception):
    """Another run holds the cluster's lock."""


@contextmanager
def exclusive() -> Iterator[None]:
    """Hold the machine's cluster lock for the block; ClusterBusy at once if another run has it
    (the subnet, the namespaces' names and STATE are the same for every run)."""
    with LOCK.open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ClusterBusy(f"another cluster run holds {LOCK}") from None
        yield


def is_up() -> bool:
    """Whether a cluster (or part of one) exists: its state dir or any ls-* namespace."""
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return STATE.exists() or any(name.startswith("ls-") for name in listed.split())


def down() -> None:
    subprocess.run([str(SCRIPTS / "down.sh")], capture_output=True, timeout=120)


@dataclass(frozen=True)
class Answer:
    status: int  # 0: nothing answered (refused, reset, timed out)
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    method: str,
    url: str,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> Answer:
    """One request on a new connection; a JSON body when `body` is given."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    sent = {**({"Content-Type": "application/json"} if body is not None else {}), **(headers or {})}
    try:
        connection.request(
            method,
            parts.path + (f"?{parts.query}" if parts.query else ""),
            None if body is None else json.dumps(body),
            sent,
        )
        response = connection.getresponse()
        answer = {name.lower(): value for name, value in response.getheaders()}
        return Answer(response.status, answer, response.read())
    except (OSError, http.client.HTTPException):
        return Answer(0, {}, b"")
    finally:
        connection.close()


# --- the webhook receiver ----------------------------------------------------------------------


@dataclass(frozen=True)
class Arrival:
    at: float  # time.monotonic() when the body was read
    webhook_id: str
    lead_id: str | None
    peer: str  # the sending worker's address


@dataclass
class WebhookReceiver:
    """Answers 200 after `delay` seconds; records every arrival and what is in flight, by peer."""

    host: str
    delay: float = 0.05
    arrivals: list[Arrival] = field(default_factory=list)
    in_flight: dict[str, set[str]] = field(default_factory=dict)  # held deliveries, by peer
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""
    slow: dict[str, float] = field(default_factory=dict)  # peer -> its answers' delay

    def __enter__(self) -> WebhookReceiver:
        state = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                webhook_id = self.headers.get("webhook-id", "")
                peer = self.client_address[0]
                try:
                    lead_id = json.loads(body).get("data", {}).get("id")
                except (ValueError, AttributeError):
                    lead_id = None
                delay = state.slow.get(peer)
                with state.lock:
                    state.arrivals.append(Arrival(time.monotonic(), webhook_id, lead_id, peer))
                    # Only a held delivery counts as in flight: one answered at the usual delay
                    # may be over before the fault lands.
                    if delay is not None:
                        state.in_flight.setdefault(peer, set()).add(webhook_id)
                try:
                    time.sleep(state.delay if delay is None else delay)
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                finally:
                    with state.lock:
                        state.in_flight.get(peer, set()).discard(webhook_id)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((self.host, 0), Handler)
        self.server.daemon_threads = True
        # A worker killed mid-delivery resets its connection: expected, not worth a traceback.
        self.server.handle_error = lambda *args: None  # type: ignore[method-assign]
        self.url = f"http://{self.host}:{self.server.server_address[1]}/hooks/leadsite"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def hold_in_flight(self, peer: str, seconds: float, timeout: float) -> set[str]:
        """From now on answer `peer` after `seconds`; return the webhook-ids it is sending once
        there is one (empty after `timeout`). They stay in flight `seconds`: time to cut it off
        mid-delivery. `release(peer)` goes back to the usual delay."""
        self.slow[peer] = seconds
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if ids := set(self.in_flight.get(peer, ())):
                    return ids
            time.sleep(0.002)
        return set()

    def release(self, peer: str) -> None:
        self.slow.pop(peer, None)

    def snapshot(self) -> list[Arrival]:
        with self.lock:
            return list(self.arrivals)
