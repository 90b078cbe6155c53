"""The namespace cluster (deploy/cluster) driven from Python: up and down, faults, registrations
through HAProxy with `Idempotency-Key`s and retries, a webhook receiver, and the count of what was
lost. bench/cluster_faults.py and tests/cluster/ use it."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "deploy" / "cluster"
STATE = Path(os.environ.get("LEADSITE_CLUSTER_STATE", "/tmp/leadsite-cluster"))
WORKER_ADDRESSES = {"worker1": "10.231.0.21", "worker2": "10.231.0.22"}
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
        env = {**os.environ, **SETTINGS, **(settings or {})}
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
        """Until both apps answer their health check directly and through the balancer."""
        urls = [f"http://10.231.0.{n}:8000/healthz" for n in (11, 12)]
        urls.append(self.info["lb_url"] + "/healthz")
        deadline = time.monotonic() + timeout
        for url in urls:
            parts = urlsplit(url)
            while True:
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=2)
                try:
                    connection.request("GET", parts.path)
                    if connection.getresponse().status == 200:
                        break
                except OSError:
                    pass
                finally:
                    connection.close()
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} is not healthy after {timeout} s")
                time.sleep(0.2)

    def ctl(self, *args: str) -> None:
        command = [str(SCRIPTS / "ctl.sh"), *args]
        subprocess.run(command, check=True, capture_output=True, timeout=90)

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.info["database_url"], autocommit=True, connect_timeout=5)

    def add_webhook(self, url: str) -> None:
        """Subscribe `url` to lead.created through the API, as a customer would."""
        status, body = post_json(
            self.info["lb_url"] + "/api/v1/webhooks",
            {"url": url, "events": ["lead.created"]},
            {"Authorization": f"Bearer {self.info['api_key']}"},
        )
        if status != 201:
            raise RuntimeError(f"creating the webhook answered {status}: {body}")


def is_up() -> bool:
    """Whether a cluster (or part of one) exists: its state dir or any ls-* namespace."""
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return STATE.exists() or any(name.startswith("ls-") for name in listed.split())


def down() -> None:
    subprocess.run([str(SCRIPTS / "down.sh")], capture_output=True, timeout=120)


def post_json(url: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(
            "POST",
            parts.path + (f"?{parts.query}" if parts.query else ""),
            json.dumps(body),
            {"Content-Type": "application/json", **headers},
        )
        response = connection.getresponse()
        return response.status, response.read()
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
    in_flight: dict[str, set[str]] = field(default_factory=dict)
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
                with state.lock:
                    state.arrivals.append(Arrival(time.monotonic(), webhook_id, lead_id, peer))
                    state.in_flight.setdefault(peer, set()).add(webhook_id)
                try:
                    time.sleep(state.slow.get(peer, state.delay))
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                finally:
                    with state.lock:
                        state.in_flight[peer].discard(webhook_id)

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


# --- the load ----------------------------------------------------------------------------------


@dataclass
class Attempt:
    started: float
    finished: float
    status: int  # 0: no answer (connection refused or reset, timeout)
    code: str = ""  # the error envelope's code, or the exception's name
    retry_after: bool = False  # the answer carried Retry-After


@dataclass
class Registration:
    email: str
    key: str
    attempts: list[Attempt] = field(default_factory=list)
    lead_id: str | None = None
    status: int = 0  # the answer kept: 2xx, another 4xx, or 0 when the client gave up


class Load:
    """`threads` clients, each registering new leads one after another through the balancer;
    an attempt without a 2xx or 4xx answer (no answer, 5xx, 429, 409 IDEMPOTENCY_IN_PROGRESS) is
    retried with the same body and key until `give_up` seconds after the first."""

    def __init__(self, cluster: Cluster, label: str, threads: int, timeout: float, give_up: float):
        parts = urlsplit(cluster.info["lb_url"])
        self.host, self.port = parts.hostname, parts.port
        self.path = f"/api/v1/leads?ref={cluster.info['api_ref']}"
        self.headers = {
            "Authorization": f"Bearer {cluster.info['api_key']}",
            "Content-Type": "application/json",
        }
        self.label = f"{label}-{uuid.uuid4().hex[:6]}"
        self.timeout, self.give_up = timeout, give_up
        self.registrations: list[Registration] = []
        self.stopping = threading.Event()
        self.threads = [
            threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(threads)
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        """Start no new registration; wait for those under way to be answered or given up."""
        self.stopping.set()
        for thread in self.threads:
            thread.join(self.give_up + self.timeout + 5)

    def _client(self, number: int) -> None:
        connection: http.client.HTTPConnection | None = None
        sequence = 0
        while not self.stopping.is_set():
            sequence += 1
            registration = Registration(
                f"{self.label}-{number}-{sequence}@example.com", uuid.uuid4().hex
            )
            self.registrations.append(registration)
            body = json.dumps({"email": registration.email, "first_name": "Fault"})
            first = time.monotonic()
            while True:
                connection = connection or http.client.HTTPConnection(
                    self.host, self.port, timeout=self.timeout
                )
                started = time.monotonic()
                retry_after = 0.1
                try:
                    headers = {**self.headers, "Idempotency-Key": registration.key}
                    connection.request("POST", self.path, body, headers)
                    response = connection.getresponse()
                    payload = response.read()
                    status = response.status
                    has_retry_after = response.headers.get("Retry-After") is not None
                    retry_after = min(float(response.headers.get("Retry-After") or 0.1), 1.0)
                    try:
                        answer = json.loads(payload)
                    except ValueError:
                        answer = {}
                    code = answer.get("code", "") if isinstance(answer, dict) else ""
                    if response.headers.get("Connection", "").lower() == "close":
                        connection.close()
                        connection = None
                except (OSError, http.client.HTTPException) as error:
                    status, code, answer = 0, type(error).__name__, {}
                    has_retry_after = False
                    connection.close()
                    connection = None
                registration.attempts.append(
                    Attempt(started, time.monotonic(), status, code, has_retry_after)
                )
                if 200 <= status < 300:
                    registration.status = status
                    registration.lead_id = (answer.get("data") or {}).get("id")
                    break
                retryable = status in (0, 429) or status >= 500 or code == "IDEMPOTENCY_IN_PROGRESS"
                if not retryable:
                    registration.status = status
                    break
                if time.monotonic() - first > self.give_up:
                    break  # given up: status stays 0
                time.sleep(retry_after)
        if connection is not None:
            connection.close()


# --- one fault ---------------------------------------------------------------------------------


@dataclass
class FaultResult:
    name: str
    requests: int = 0
    ok: int = 0  # 2xx answers
    server_errors: int = 0  # 5xx answers
    no_answer: int = 0  # connection refused or reset, timeouts
    in_progress: int = 0  # 409 IDEMPOTENCY_IN_PROGRESS
    other: Counter = field(default_factory=Counter)  # other statuses
    retry_after_on_5xx: int = 0
    server_error_statuses: Counter = field(default_factory=Counter)
    registrations: int = 0
    answered: int = 0  # registrations answered 2xx, after retries
    unanswered: int = 0  # given up after `give_up` seconds
    recover_s: float = 0.0  # fault to the end of the last attempt answered 5xx or not at all
    slowest_s: float = 0.0  # the longest attempt
    lost: int = 0  # answered 2xx, not in the database
    duplicated: int = 0  # registered more than once (the lead's counter above 1)
    unanswered_in_db: int = 0  # given up by the client, yet registered (once)
    webhooks_expected: int = 0
    webhooks_missing: int = 0
    webhooks_pending: int = 0  # still to deliver when counted (the drain waits for 0)
    webhooks_repeated: int = 0  # a webhook-id received more than once (allowed: at least once)
    killed_in_flight: int = 0  # webhook-ids a killed or cut worker was sending
    redelivered_by_other: int = 0  # of those, received again from another worker
    notes: list[str] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        return {
            "fault": self.name,
            "requests": self.requests,
            "2xx": self.ok,
            "5xx": self.server_errors,
            "5xx by status": " ".join(
                f"{status}:{n}" for status, n in sorted(self.server_error_statuses.items())
            ),
            "5xx with Retry-After": self.retry_after_on_5xx,
            "no answer": self.no_answer,
            "409 in progress": self.in_progress,
            "registrations": self.registrations,
            "unanswered": self.unanswered,
            "recover s": round(self.recover_s, 2),
            "slowest s": round(self.slowest_s, 2),
            "lost": self.lost,
            "duplicated": self.duplicated,
            "webhooks missing": self.webhooks_missing,
            "webhooks pending": self.webhooks_pending,
            "webhook repeats": self.webhooks_repeated,
            "in flight at kill": self.killed_in_flight,
            "redelivered by other": self.redelivered_by_other,
        }


@dataclass
class Fault:
    """What happens `at` seconds into the load: `inject` (returns the webhook-ids it cut off
    mid-delivery, if any), then after `hold` seconds `repair`."""

    name: str
    inject: Callable[[], set[str]]
    repair: Callable[[], None] | None = None
    hold: float = 0.0


def standard_faults(cluster: Cluster, receiver: WebhookReceiver, hold: float) -> dict[str, Fault]:
    """The issue's five faults; `hold` is how long a stopped service stays down."""
    lease = cluster.lease_seconds

    worker1 = WORKER_ADDRESSES["worker1"]

    def kill_worker() -> set[str]:
        # worker1's deliveries are held 3 s at the receiver: the kill lands in the middle.
        in_flight = receiver.hold_in_flight(worker1, seconds=3, timeout=5)
        cluster.ctl("kill", "worker1")
        return in_flight

    def restart_worker() -> None:
        receiver.release(worker1)
        cluster.ctl("start", "worker1")

    def cut_worker() -> set[str]:
        in_flight = receiver.hold_in_flight(worker1, seconds=3, timeout=5)
        cluster.ctl("link", "worker1", "down")
        return in_flight

    def reconnect_worker() -> None:
        receiver.release(worker1)
        cluster.ctl("link", "worker1", "up")

    def kill_app() -> set[str]:
        cluster.ctl("kill", "app1")
        return set()

    def stop(node: str) -> Callable[[], set[str]]:
        def inject() -> set[str]:
            cluster.ctl("stop", node)
            return set()

        return inject

    return {
        "app-kill": Fault("kill -9 app1", kill_app, lambda: cluster.ctl("start", "app1"), hold),
        # Restarted only after the lease: the messages it held must go to worker2.
        "worker-kill": Fault(
            "kill -9 worker1 mid-delivery", kill_worker, restart_worker, lease + 1
        ),
        "db-restart": Fault(
            f"PostgreSQL down {hold:g} s", stop("db"), lambda: cluster.ctl("start", "db"), hold
        ),
        "redis-stop": Fault(
            f"Redis down {hold:g} s", stop("cache"), lambda: cluster.ctl("start", "cache"), hold
        ),
        "worker-link": Fault(
            f"worker1 link down {lease + 2:g} s",
            cut_worker,
            reconnect_worker,
            lease + 2,
        ),
    }


def run_fault(
    cluster: Cluster,
    receiver: WebhookReceiver,
    fault: Fault,
    duration: float,
    at: float,
    threads: int = 6,
    timeout: float = 10.0,
    give_up: float = 20.0,
    drain_timeout: float = 30.0,
) -> FaultResult:
    """Load for `duration` seconds with `fault` `at` seconds in; then wait for the answers and
    the webhooks, and count against the database."""
    load = Load(cluster, fault.name.split()[0].lower().replace("-", ""), threads, timeout, give_up)
    heard_before = len(receiver.snapshot())
    load.start()
    began = time.monotonic()
    time.sleep(at)
    fault_at = time.monotonic()
    cut_off = fault.inject()
    repairing = None
    if fault.repair is not None:
        time.sleep(max(0.0, fault.hold - (time.monotonic() - fault_at)))
        # A restart takes what it takes (gunicorn boots in seconds): the load goes on meanwhile.
        repairing = threading.Thread(target=fault.repair, daemon=True)
        repairing.start()
    time.sleep(max(0.0, duration - (time.monotonic() - began)))
    load.finish()
    if repairing is not None:
        repairing.join(90)
    result = count(cluster, receiver, load, fault.name, fault_at, cut_off, heard_before)
    drain_deadline = time.monotonic() + drain_timeout
    while (
        result.webhooks_missing or result.webhooks_pending
    ) and time.monotonic() < drain_deadline:
        time.sleep(0.5)
        result = count(cluster, receiver, load, fault.name, fault_at, cut_off, heard_before)
    return result


def count(
    cluster: Cluster,
    receiver: WebhookReceiver,
    load: Load,
    name: str,
    fault_at: float,
    cut_off: set[str],
    heard_before: int,
) -> FaultResult:
    result = FaultResult(name)
    last_failure = fault_at
    for registration in load.registrations:
        result.registrations += 1
        if 200 <= registration.status < 300:
            result.answered += 1
        elif registration.status == 0 and registration.attempts:
            result.unanswered += 1
        for attempt in registration.attempts:
            result.requests += 1
            result.slowest_s = max(result.slowest_s, attempt.finished - attempt.started)
            if 200 <= attempt.status < 300:
                result.ok += 1
            elif attempt.status == 0:
                result.no_answer += 1
            elif attempt.status >= 500:
                result.server_errors += 1
                result.server_error_statuses[attempt.status] += 1
                result.retry_after_on_5xx += attempt.retry_after
            elif attempt.code == "IDEMPOTENCY_IN_PROGRESS":
                result.in_progress += 1
            else:
                result.other[attempt.status] += 1
            if (attempt.status == 0 or attempt.status >= 500) and attempt.started >= fault_at - 1:
                last_failure = max(last_failure, attempt.finished)
    result.recover_s = last_failure - fault_at

    with cluster.connect() as connection:
        rows = connection.execute(
            "SELECT email, id, counter FROM leads WHERE email LIKE %s", (f"{load.label}-%",)
        ).fetchall()
        in_db = {email: (lead_id, counter) for email, lead_id, counter in rows}
        result.webhooks_pending = connection.execute(
            "SELECT count(*) FROM outbox_messages WHERE channel = 'webhook'"
            " AND status = 'pending' AND lead_id = ANY(%s)",
            ([lead_id for lead_id, _ in in_db.values()],),
        ).fetchone()[0]
    for registration in load.registrations:
        found = in_db.get(registration.email)
        if 200 <= registration.status < 300 and (found is None or found[0] != registration.lead_id):
            result.lost += 1
        if registration.status == 0 and found is not None:
            result.unanswered_in_db += 1
    result.duplicated = sum(1 for _, counter in in_db.values() if counter > 1)
    for registration in load.registrations:
        found = in_db.get(registration.email)
        if found is not None and found[1] > 1:
            story = ", ".join(
                f"{a.started - fault_at:+.1f}s {a.status or a.code}"
                f"{' ' + a.code if a.status and a.code else ''}"
                for a in registration.attempts
            )
            result.notes.append(f"registered {found[1]} times: {registration.email}: {story}")

    arrivals = receiver.snapshot()[heard_before:]
    heard_leads = {arrival.lead_id for arrival in arrivals}
    expected = {lead_id for lead_id, _ in in_db.values()}
    result.webhooks_expected = len(expected)
    result.webhooks_missing = len(expected - heard_leads)
    ids = Counter(arrival.webhook_id for arrival in arrivals)
    result.webhooks_repeated = sum(1 for n in ids.values() if n > 1)
    result.killed_in_flight = len(cut_off)
    killed_peer = WORKER_ADDRESSES["worker1"]
    result.redelivered_by_other = len(
        {a.webhook_id for a in arrivals if a.webhook_id in cut_off and a.peer != killed_peer}
    )
    return result
