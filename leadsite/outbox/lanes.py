"""The worker's webhook lanes: up to `DELIVERY_THREADS` threads, kept by the worker, that send
webhooks endpoint by endpoint, so that a slow or dead receiver holds one thread and delays no
one else's messages.

Each endpoint's messages wait in its own queue, in their claim's order. A free thread takes the
next message of an endpoint no thread is sending to, oldest endpoint first; only an endpoint
whose last attempt was answered may take more threads, up to `PER_ENDPOINT`, so that a busy
receiver still gets its messages concurrently, and one that stops answering holds few threads.
Once an attempt gets no answer at all (a timeout, a refused connection), the endpoint's other
messages are not attempted: they are put back, due when that one is due again, so a dead
endpoint costs one timeout per retry wave, not one per message; its messages claimed soon after
(before that one can be retried) wait behind it the same way.

The lanes only send: what became of each message waits in `take()` for the worker, which
records it (`outcomes.record_batch`) in its own thread, with the app context.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from leadsite.outbox import delivery, http
from leadsite.outbox.delivery import ENDPOINT_DISABLED, Outcome, WebhookRequest

# At most this many threads send to one endpoint at once, and only while it answers: the other
# threads stay free for other endpoints' messages.
PER_ENDPOINT = delivery.DELIVERY_THREADS // 2
# An endpoint that did not answer is not sent to again for this long (the first retry's delay,
# less its jitter): the messages claimed meanwhile wait behind the one it did not answer.
UNANSWERED_SECONDS = 4.5


@dataclass
class Settled:
    """What became of messages handed to the lanes, by message id; each id in one of three."""

    outcomes: dict[str, Outcome] = field(default_factory=dict)  # attempted
    # Not attempted, behind a message of the same endpoint that got no answer: due with it.
    deferred: dict[str, str] = field(default_factory=dict)
    released: set[str] = field(default_factory=set)  # not attempted: due again at once

    def ids(self) -> set[str]:
        return set(self.outcomes) | set(self.deferred) | self.released


@dataclass(frozen=True)
class _Job:
    request: WebhookRequest
    keep_going: Callable[[], bool]


@dataclass
class _Endpoint:
    """One endpoint's messages in the lanes (an endpoint, else a URL without one)."""

    endpoint_id: str | None
    url: str
    waiting: deque[_Job] = field(default_factory=deque)
    sending: int = 0
    answering: bool = False  # its last attempt got an HTTP answer: it may take more threads
    unanswered: str | None = None  # the message that got no answer: the rest wait behind it
    gone: bool = False  # it answered 410: the rest are not sent


class Lanes:
    """The delivery threads and their endpoints' queues; `close()` finishes the sends under
    way, releases the messages not started, and stops the threads."""

    def __init__(self, allow_private: bool, threads: int | None = None) -> None:
        self.allow_private = allow_private
        self.threads = threads or delivery.DELIVERY_THREADS
        self._lock = threading.Condition()
        self._endpoints: dict[str, _Endpoint] = {}  # in the order they came
        self._settled = Settled()
        self._settled_since: float | None = None  # when the first of `_settled` came
        self._running: list[threading.Thread] = []
        self._idle = 0
        self._closing = False
        # endpoint key -> the message it did not answer, and until when that holds
        self._unanswered: dict[str, tuple[str, float]] = {}

    def __enter__(self) -> Lanes:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def submit(self, requests: list[WebhookRequest], keep_going: Callable[[], bool]) -> None:
        """Queue webhooks, in their order, each behind its endpoint's; `keep_going()` is asked
        before each one starts (no: it is released, not attempted)."""
        with self._lock:
            for request in requests:
                key = request.endpoint_id or request.url
                endpoint = self._endpoints.get(key)
                if endpoint is None:
                    endpoint = self._endpoints[key] = _Endpoint(request.endpoint_id, request.url)
                    endpoint.unanswered = self._still_unanswered(key)
                endpoint.waiting.append(_Job(request, keep_going))
            self._start_threads()
            self._lock.notify_all()

    def busy(self) -> tuple[set[str], set[str]]:
        """The endpoint ids, and the URLs of webhooks without an endpoint, with messages in the
        lanes: the worker claims none of theirs until these are done."""
        with self._lock:
            endpoints = {e.endpoint_id for e in self._endpoints.values() if e.endpoint_id}
            urls = {e.url for e in self._endpoints.values() if not e.endpoint_id}
            return endpoints, urls

    def wait(self, ids: set[str], timeout: float | None) -> bool:
        """Wait until these messages are settled, or `timeout` seconds; True if they are."""
        with self._lock:
            return self._lock.wait_for(lambda: ids <= self._settled.ids(), timeout)

    def take(self) -> Settled:
        """What was settled since the last take, for the worker to record."""
        with self._lock:
            settled, self._settled = self._settled, Settled()
            self._settled_since = None
            return settled

    def ready(self, after: float) -> bool:
        """Whether what is settled is worth a transaction now: all the lanes' messages are, or
        the first of them has waited `after` seconds (a drain of a slow endpoint is recorded
        in a few transactions, not one for every send that ends)."""
        with self._lock:
            if self._settled_since is None:
                return False
            return not self._endpoints or time.monotonic() - self._settled_since >= after

    def close(self) -> None:
        with self._lock:
            self._closing = True
            for endpoint in self._endpoints.values():
                while endpoint.waiting:
                    self._settled.released.add(endpoint.waiting.popleft().request.message_id)
            self._lock.notify_all()
        for thread in self._running:
            thread.join()

    def _still_unanswered(self, key: str) -> str | None:
        message_id, until = self._unanswered.get(key, ("", 0.0))
        if until <= time.monotonic():
            self._unanswered.pop(key, None)
            return None
        return message_id

    def _start_threads(self) -> None:
        """Threads more while messages could start and no thread is free (the lock is held)."""
        if self._closing:
            return
        startable = sum(self._room(e) for e in self._endpoints.values())
        for _ in range(min(startable - self._idle, self.threads - len(self._running))):
            thread = threading.Thread(target=self._lane, name="leadsite-webhooks", daemon=True)
            self._running.append(thread)
            self._idle += 1  # idle until it takes a message
            thread.start()

    @staticmethod
    def _room(endpoint: _Endpoint) -> int:
        """How many more threads could send this endpoint's messages now."""
        most = PER_ENDPOINT if endpoint.answering else 1
        return max(0, min(len(endpoint.waiting), most - endpoint.sending))

    def _lane(self) -> None:
        with http.Client(delivery.TIMEOUT_SECONDS, self.allow_private) as client:
            while (job := self._next()) is not None:
                outcome = delivery.guarded(delivery.deliver_webhook, client, job.request)
                self._done(job, outcome)

    def _next(self) -> _Job | None:
        with self._lock:
            while True:
                job = self._pick()
                if job is not None:
                    self._idle -= 1
                    return job
                if self._closing:
                    self._idle -= 1
                    return None
                self._lock.wait()

    def _pick(self) -> _Job | None:
        """The next message to send: of an endpoint no thread sends to, else of one answering."""
        for key in list(self._endpoints):
            self._settle_unsendable(key)
        for first in (True, False):
            for endpoint in self._endpoints.values():
                if self._room(endpoint) and (endpoint.sending == 0 or not first):
                    endpoint.sending += 1
                    return endpoint.waiting.popleft()
        return None

    def _settle_unsendable(self, key: str) -> None:
        """Settle, without sending, the endpoint's next messages that must not be sent; drop
        the endpoint once it has nothing waiting or being sent."""
        endpoint = self._endpoints[key]
        while endpoint.waiting:
            job = endpoint.waiting[0]
            message_id = job.request.message_id
            if endpoint.gone and job.request.endpoint_id:
                self._settled.outcomes[message_id] = ENDPOINT_DISABLED
            elif endpoint.unanswered is not None:
                self._settled.deferred[message_id] = endpoint.unanswered
            elif not job.keep_going():
                self._settled.released.add(message_id)
            else:
                break
            endpoint.waiting.popleft()
            if self._settled_since is None:
                self._settled_since = time.monotonic()
        if not endpoint.waiting and not endpoint.sending:
            del self._endpoints[key]

    def _done(self, job: _Job, outcome: Outcome) -> None:
        with self._lock:
            key = job.request.endpoint_id or job.request.url
            endpoint = self._endpoints[key]
            endpoint.sending -= 1
            self._idle += 1
            if outcome.unanswered and endpoint.unanswered is None:
                endpoint.unanswered = job.request.message_id
                until = time.monotonic() + UNANSWERED_SECONDS
                self._unanswered[key] = (job.request.message_id, until)
            endpoint.gone = endpoint.gone or (outcome.status_code == 410)
            endpoint.answering = outcome.status_code is not None
            self._settled.outcomes[job.request.message_id] = outcome
            if self._settled_since is None:
                self._settled_since = time.monotonic()
            self._settle_unsendable(key)
            self._start_threads()
            self._lock.notify_all()
