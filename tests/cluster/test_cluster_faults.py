"""The namespace cluster (deploy/cluster) under two faults, briefly: app1 killed mid-load and a
worker killed mid-delivery lose no registration and no webhook. Root with `ip netns` only; the
full set of faults, longer, is bench/cluster_faults.py."""

from __future__ import annotations

import fcntl
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
LOCK = Path("/tmp/leadsite-cluster-test.lock")
THREADS = 4


# The cluster's driver lives with its benchmark (bench/_cluster*.py), as a script's helpers do.
sys.path.append(str(BENCH))  # last: nothing of the suite is shadowed
import _cluster  # noqa: E402
import _cluster_faults  # noqa: E402


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    if reason := _cluster.unavailable():
        pytest.skip(f"the cluster needs root, ip netns, haproxy and PostgreSQL: {reason}")
    with LOCK.open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            # .ci/run runs the SQLite and PostgreSQL suites side by side; the cluster brings its
            # own PostgreSQL, so it runs once, in whichever suite gets here first.
            pytest.skip("the cluster test is running in the other suite (one machine, one cluster)")
        if _cluster.is_up():
            pytest.fail("a cluster is already up: run `make cluster-down` first")
        try:
            up = _cluster.Cluster.up()
            yield up
        finally:
            _cluster.down()
    assert not _cluster.STATE.exists()


@pytest.fixture(scope="module")
def receiver(cluster: object) -> Iterator[object]:
    with _cluster.WebhookReceiver(cluster.info["host_address"]) as receiver:
        cluster.add_webhook(receiver.url)
        yield receiver


def test_killing_app1_mid_load_loses_no_answered_registration(
    cluster: object, receiver: object
) -> None:
    fault = _cluster_faults.standard_faults(cluster, receiver, hold=2)["app-kill"]

    result = _cluster_faults.run_fault(
        cluster, receiver, fault, duration=5, at=1.5, threads=THREADS, give_up=3, drain_timeout=15
    )

    assert result.answered > 0
    assert result.lost == 0, result.row()
    assert result.duplicated == 0, result.row()
    assert result.webhooks_missing == 0 and result.webhooks_pending == 0, result.row()
    # Only the requests app1 held when it died go unanswered; HAProxy takes it out of the
    # rotation within its checks (every 250-500 ms, two failures), and app2 answers the rest.
    assert result.no_answer + result.server_errors <= THREADS * 2, result.row()
    assert result.recover_s < 5, result.row()


def test_killing_a_worker_mid_delivery_loses_no_webhook(cluster: object, receiver: object) -> None:
    cluster.wait_healthy()
    fault = _cluster_faults.standard_faults(cluster, receiver, hold=0)["worker-kill"]

    result = _cluster_faults.run_fault(
        cluster, receiver, fault, duration=5, at=1.5, threads=THREADS, give_up=6, drain_timeout=20
    )

    assert result.killed_in_flight > 0, "worker1 was not caught mid-delivery"
    # Its messages come back after the lease (5 s) to worker2, with the same webhook-id (the
    # receiver holds worker1's deliveries 3 s, so the kill lands mid-delivery; worker1 is
    # restarted only after the lease).
    assert result.redelivered_by_other == result.killed_in_flight, result.row()
    assert result.webhooks_missing == 0 and result.webhooks_pending == 0, result.row()
    assert result.lost == 0 and result.duplicated == 0, result.row()
    assert result.server_errors == 0 and result.no_answer == 0, result.row()
