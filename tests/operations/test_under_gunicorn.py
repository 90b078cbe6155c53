"""Under gunicorn with several processes: `/metrics` adds up every process's counts whichever
answers the scrape (PROMETHEUS_MULTIPROC_DIR), and LOG_FORMAT=json logs JSON lines that name
each request's id."""

from __future__ import annotations

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.operations.conftest import ApiWorld
from tests.operations.processes import gunicorn
from tests.servers import eventually

TOKEN = "gunicorn-scrape-token"


def _get(url: str, request_id: str) -> int:
    request = urllib.request.Request(url, headers={"X-Request-Id": request_id})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def _healthz_count(url: str) -> float:
    request = urllib.request.Request(url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "leadsite_request_duration_seconds_count" and sample.labels == {
                "endpoint": "health.healthz",
                "method": "GET",
            }:
                return sample.value
    return 0.0


def _pids(directory: Path) -> set[str]:
    return {path.stem.rsplit("_", 1)[-1] for path in directory.glob("histogram_*.db")}


def test_metrics_add_up_every_process_and_logs_are_json(app, api: ApiWorld, tmp_path):
    directory = tmp_path / "prometheus"
    directory.mkdir()
    (directory / "histogram_999999.db").write_bytes(b"")  # an earlier run's: emptied at start
    env = {
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "METRICS_TOKEN": TOKEN,
        "LOG_FORMAT": "json",
    }
    with gunicorn(app, tmp_path / "gunicorn.log", workers=2, config=True, **env) as served:
        sent = 0

        def burst() -> bool:
            nonlocal sent
            with ThreadPoolExecutor(8) as pool:
                ids = [f"probe-{sent + n}" for n in range(16)]
                statuses = list(pool.map(lambda i: _get(served.url + "/healthz", i), ids))
            assert statuses == [200] * 16
            sent += 16
            return len(_pids(directory)) == 2

        # Both processes must have answered some, or the sum would prove nothing.
        assert eventually(burst, timeout=20), _pids(directory)
        scrapes = [_healthz_count(served.url) for _ in range(4)]

        registered = urllib.request.Request(
            f"{served.url}/api/v1/leads?ref={api.origin.ref}",
            data=json.dumps({"email": "ada@example.com"}).encode(),
            headers={
                "Content-Type": "application/json",
                "X-Request-Id": "req-gunicorn-1",
                **api.auth,
            },
        )
        with urllib.request.urlopen(registered, timeout=10) as response:
            assert response.status == 201

    assert "999999" not in _pids(directory)
    assert scrapes == [sent] * 4
    lines = [line for line in served.logged().splitlines() if line.startswith("{")]
    entries = [json.loads(line) for line in lines]  # every one of them parses
    answered = [e for e in entries if e.get("request_id") == "req-gunicorn-1"]
    assert {(e["logger"], e["endpoint"], e["status"]) for e in answered if "status" in e} == {
        ("leadsite.requests", "api.create_lead", 201)
    }
    assert "Traceback" not in served.logged()
