"""Registrations through the cluster's balancer: client threads, each registering new leads with
an `Idempotency-Key`, retrying with the same key until answered."""

from __future__ import annotations

import http.client
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from _cluster import Cluster


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
