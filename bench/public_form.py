"""Benchmark the hosted form: POST /r/<ref> requests/s against the bare insert app, the bytes a
browser transfers for the hosted page and the embed page with all their assets, and (`--only
counting`) GET and POST of the hosted page with the form funnel's counting off and on."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urljoin

from _harness import (
    BIN,
    ROOT,
    BenchError,
    WrkResult,
    free_port,
    fresh_database,
    gunicorn,
    migrate,
    run,
    source_version,
)
from register import bench_bare

HOSTED_GOAL = 30 * 1024  # bytes transferred for the hosted page, everything included
EMBED_GOAL = 20 * 1024
MAX_FAILED = 0.001
WRK_SCRIPT = Path(__file__).resolve().parent / "public_form.lua"
GET_SCRIPT = Path(__file__).resolve().parent / "public_form_get.lua"
ASSET = re.compile(r'<(?:link|script)\b[^>]*?(?:href|src)="([^"]+)"')
# The demo's page and embed origins get the form of a real sign-up page: names, email, phone,
# three data points (text, radios, number) and a consent box.
RICH_FORM = """
from leadsite import create_app
from leadsite.extensions import db
from leadsite.models import Origin
app = create_app()
with app.app_context():
    for origin in db.session.scalars(db.select(Origin).filter(Origin.kind.in_(["page", "embed"]))):
        origin.form_fields = [
            {"field": "first_name", "required": True}, {"field": "last_name"},
            {"field": "email", "help": "We send your confirmation here."}, {"field": "phone"},
            {"data_point": "company", "required": True},
            {"data_point": "plan", "widget": "radios", "required": True},
            {"data_point": "team_size", "help": "Roughly is fine."},
        ]
        origin.settings = {
            "title": "Join the demo",
            "intro": "Tell us a little about you and we will set up your account within a day.",
            "consent": {"text": "I agree to receive emails about the demo.", "version": "1"},
        }
    db.session.commit()
"""
ENV = {
    "PUBLIC_FORM_RATE_LIMIT": "100000 per second",  # checked on every request, never reached
    "PUBLIC_FORM_MIN_FILL_SECONDS": "0",  # wrk sends each form the moment its token is made
    "LEADSITE_INLINE_WORKER": "0",
}
COUNTED_VIEWS = """
from leadsite import create_app
from leadsite.extensions import db
from leadsite.models import FormCount
with create_app().app_context():
    print(db.session.scalar(db.select(db.func.sum(FormCount.count)).filter_by(event="view")))
"""
# A form token registers one submission, so wrk sends a token of its own with each request:
# minted beforehand with the app's secret, as many as a run could possibly use.
TOKENS = 50_000
MINT_TOKENS = """
import sys
from leadsite import create_app
from leadsite.public.tokens import form_token
app = create_app()
with app.test_request_context():
    with open(sys.argv[2], "w") as out:
        out.writelines(form_token(sys.argv[1]) + "\\n" for _ in range(int(sys.argv[3])))
"""


@dataclass
class PageSize:
    name: str
    files: list[tuple[str, int, int]]  # path, body bytes, header bytes

    @property
    def body(self) -> int:
        return sum(size for _, size, _ in self.files)

    @property
    def total(self) -> int:
        return sum(size + headers for _, size, headers in self.files)


def fetch(url: str) -> tuple[bytes, int]:
    """The body, and the size of the status line and headers as sent."""
    with urllib.request.urlopen(url, timeout=30) as answer:
        body = answer.read()
        head = f"HTTP/1.1 {answer.status} {answer.reason}\r\n" + str(answer.headers)
    return body, len(head.encode())


def page_size(name: str, url: str, html: bool = True) -> PageSize:
    """A page and every stylesheet, script and icon it links to, as a browser fetches them."""
    page, head = fetch(url)
    files = [(url.split("?")[0], len(page), head)]
    for asset in dict.fromkeys(ASSET.findall(page.decode()) if html else []):
        body, asset_head = fetch(urljoin(url, asset))
        files.append((asset, len(body), asset_head))
    return PageSize(name, files)


def form_token(url: str) -> str:
    match = re.search(r'name="_token" value="([^"]+)"', fetch(url)[0].decode())
    if not match:
        raise BenchError(f"no form token on {url}")
    return match.group(1)


def preflight(url: str, token: str, run_id: str) -> None:
    body = urlencode(
        {
            "_token": token,
            "email": f"preflight-{run_id}@example.com",
            "first_name": "Bench",
            "data.company": "Bench Ltd",
            "data.plan": "Growth",
        }
    ).encode()
    request = urllib.request.Request(url, data=body, method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        text = answer.read().decode()
    if answer.status != 200 or "Thank you" not in text:
        raise BenchError(f"POST {url} did not register:\n{text[:2000]}")


def mint_tokens(env: dict[str, str], ref: str, path: Path) -> Path:
    run([str(BIN / "python"), "-c", MINT_TOKENS, ref, str(path), str(TOKENS)], env)
    return path


def wrk(
    url: str, args: argparse.Namespace, duration: int, script: Path, *script_args: str
) -> WrkResult:
    binary = shutil.which("wrk")
    if binary is None:
        raise BenchError("wrk is not installed: apt-get install wrk")
    command = [binary, "--latency", "--timeout", "30s", "-s", str(script)]
    command += ["-d", f"{duration}s", "-c", str(args.connections), "-t", str(args.threads)]
    command += [url, "--", *script_args]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=duration + 120)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH "):
            result = WrkResult(**json.loads(line.removeprefix("BENCH ")))
            if result.failed_fraction > MAX_FAILED:
                raise BenchError(f"invalid run: {result.non_2xx_by_status} at {url}")
            return result
    raise BenchError(f"wrk printed no BENCH line (exit {done.returncode}):\n{done.stdout}")


def post_form(
    url: str, args: argparse.Namespace, env: dict[str, str], ref: str, run_id: str, path: Path
) -> WrkResult:
    """wrk POSTs the form for `args.duration` seconds, each with a token minted for it."""
    tokens = mint_tokens(env, ref, path)
    return wrk(url, args, args.duration, WRK_SCRIPT, run_id, str(tokens), str(args.threads))


@contextmanager
def demo_app(
    args: argparse.Namespace, workdir: Path, run_id: str
) -> Iterator[tuple[dict[str, str], dict, int]]:
    """A fresh database with the demo workspace (its forms made rich unless --plain-form): the
    environment to serve it with, the demo's ids, and the port to serve it on."""
    port = free_port()
    with fresh_database(args.database, workdir, "leadsite") as database_url:
        env = {
            **os.environ,
            **ENV,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "bench-" + run_id,
            "BASE_URL": f"http://127.0.0.1:{port}",
        }
        flask = [str(BIN / "flask"), "--app", "app"]
        migrate(env)
        demo = json.loads(run([*flask, "leadsite", "demo", "--json"], env).splitlines()[-1])
        if not args.plain_form:
            run([str(BIN / "python"), "-c", RICH_FORM], env)
        yield env, demo, port


def bench_form(
    args: argparse.Namespace, workdir: Path, run_id: str
) -> tuple[WrkResult | None, list[PageSize]]:
    """The real app with the demo workspace: page sizes, then wrk on POST /r/<page ref>."""
    with (
        demo_app(args, workdir, run_id) as (env, demo, port),
        gunicorn("app:app", env, port, workdir / "form.log", args.workers) as base_url,
    ):
        hosted = f"{base_url}/r/{demo['origins']['page']}"
        parent = "http://localhost:8000/pricing?utm_source=bench"
        embed = f"{base_url}/embed/{demo['origins']['embed']}?" + urlencode(
            {"url": parent, "js": "1"}
        )
        sizes = [page_size("hosted page", f"{hosted}?utm_source=bench")]
        sizes.append(page_size("embed page", embed))
        script = f"{base_url}/static/js/embed.js"
        sizes.append(page_size("embed.js (on the parent page)", script, html=False))
        if args.only == "sizes":
            return None, sizes
        preflight(hosted, form_token(hosted), run_id)
        ref = demo["origins"]["page"]
        if args.warmup:
            args_warm = argparse.Namespace(**{**vars(args), "duration": args.warmup})
            post_form(hosted, args_warm, env, ref, f"{run_id}w", workdir / "warmup.txt")
        return post_form(hosted, args, env, ref, run_id, workdir / "tokens.txt"), sizes


@dataclass
class CountingRun:
    counting: str  # "off" or "on"
    get: WrkResult
    post: WrkResult
    warm_gets: int  # GETs of the warm-up, counted too


def bench_counting(args: argparse.Namespace, workdir: Path, run_id: str) -> list[CountingRun]:
    """GET and POST of the hosted page, served with counting off, then on, `args.rounds`
    times over (alternating, so that the machine's load falls on both alike)."""
    runs = []
    with demo_app(args, workdir, run_id) as (env, demo, port):
        ref = demo["origins"]["page"]
        for round_ in range(args.rounds):
            for counting in ("off", "on"):
                served = {**env, "ANALYTICS_COUNTING": "1" if counting == "on" else "0"}
                log = workdir / f"counting-{counting}.log"
                with gunicorn("app:app", served, port, log, args.workers) as base_url:
                    hosted = f"{base_url}/r/{ref}"
                    name = f"{run_id}{round_}{counting}"
                    warm = wrk(hosted, args, args.warmup, GET_SCRIPT, name) if args.warmup else None
                    get = wrk(hosted, args, args.duration, GET_SCRIPT, name)
                    post = post_form(hosted, args, served, ref, name, workdir / "tokens.txt")
                    runs.append(CountingRun(counting, get, post, warm.requests if warm else 0))
        counted = run([str(BIN / "python"), "-c", COUNTED_VIEWS], env).strip()
    served_on = sum(r.get.requests + r.warm_gets for r in runs if r.counting == "on")
    print(f"views counted: {counted}; GETs served with counting on, warm-up included: {served_on}")
    return runs


def report_counting(runs: list[CountingRun]) -> None:
    print(f"\n{'counting':10}{'GET req/s':>11}{'p50 ms':>8}{'p99 ms':>8}", end="")
    print(f"{'POST req/s':>12}{'p50 ms':>8}{'p99 ms':>8}")
    for r in runs:
        print(
            f"{r.counting:10}{r.get.requests_per_s:11.1f}{r.get.p50_ms:8.1f}{r.get.p99_ms:8.1f}"
            f"{r.post.requests_per_s:12.1f}{r.post.p50_ms:8.1f}{r.post.p99_ms:8.1f}"
        )
    for kind in ("get", "post"):
        off = [getattr(r, kind).requests_per_s for r in runs if r.counting == "off"]
        on = [getattr(r, kind).requests_per_s for r in runs if r.counting == "on"]
        change = (sum(on) / sum(off) - 1) * 100
        print(f"{kind.upper()} req/s, counting on vs off, all rounds: {change:+.1f} %")


def report(form: WrkResult | None, bare: WrkResult | None, sizes: list[PageSize]) -> None:
    for size in sizes:
        print(f"\n{size.name}: {size.body} bytes of bodies, {size.total} with headers")
        for path, body, head in size.files:
            print(f"  {path:60} {body:7d} + {head:4d}")
    hosted, embed = sizes[0].total, sizes[1].total + sizes[2].total
    print(
        f"\nhosted page total {hosted} bytes (goal <= {HOSTED_GOAL}): "
        f"{'met' if hosted <= HOSTED_GOAL else 'NOT met'}"
    )
    print(
        f"embed page total with embed.js {embed} bytes (goal <= {EMBED_GOAL}): "
        f"{'met' if embed <= EMBED_GOAL else 'NOT met'}"
    )
    rows = [("POST /r/<ref> (hosted form)", form), ("bare Flask+SQLAlchemy", bare)]
    print(f"\n{'':30}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'requests':>10}{'non-2xx':>9}")
    for name, r in rows:
        if r is not None:
            print(
                f"{name:30}{r.requests_per_s:12.1f}{r.p50_ms:10.1f}{r.p99_ms:10.1f}"
                f"{r.requests:10d}{r.non_2xx:9d}"
            )
    if form and bare:
        print(f"ratio form/bare requests/s: {form.requests_per_s / bare.requests_per_s:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10, help="seconds per run (10)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections (8)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per app (2)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up, 0 for none")
    parser.add_argument("--database", help="postgresql://user@host to use PostgreSQL, not SQLite")
    parser.add_argument(
        "--only", choices=["form", "bare", "sizes", "counting"], help="run one part"
    )
    parser.add_argument("--rounds", type=int, default=2, help="counting off/on rounds (2)")
    parser.add_argument("--plain-form", action="store_true", help="the demo's 3-field form")
    args = parser.parse_args()
    engine = "PostgreSQL" if args.database and args.database.startswith("postgres") else "SQLite"
    print(
        f"Hosted form: {engine}, gunicorn -w {args.workers}, wrk {args.threads} threads, "
        f"{args.connections} connections, {args.duration} s (+{args.warmup} s warm-up)\n"
        f"commit {source_version()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f} at start"
    )
    form = bare = None
    sizes: list[PageSize] = []
    with tempfile.TemporaryDirectory(prefix="leadsite-bench-") as tmp:
        run_id = uuid.uuid4().hex[:8]
        try:
            if args.only == "counting":
                report_counting(bench_counting(args, Path(tmp), run_id))
                return 0
            if args.only != "bare":
                form, sizes = bench_form(args, Path(tmp), run_id)
            if args.only in (None, "bare"):
                time.sleep(1)
                bare = bench_bare(args, Path(tmp), uuid.uuid4().hex[:8])
        except BenchError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    report(form, bare, sizes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
