"""HTTP API figures: requests/s and p50/p99 latency for `GET /api/tickets?limit=50` and
`GET /api/tickets/{number}`, with N concurrent clients against a real `helpdesk serve` process.

    python benchmarks/http.py PATH.db [--clients 8] [--seconds 15]
    python benchmarks/http.py --url postgresql+psycopg://...

The desk comes from benchmarks/build_dataset.py. The script adds an admin agent `bench` with an API key
(once), starts `helpdesk serve --no-worker` on a free port, and drives it from one asyncio process with
httpx (the clients share nothing but the server). Ticket numbers for the detail figure are drawn at random
from the whole range, so the detail reads hit cold pages as a real integration's would.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder leads sys.path and this module would shadow the standard library's
# `http` package (which httpx imports): drop the folder first.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

import httpx  # noqa: E402

from tui_helpdesk.db import get_engine  # noqa: E402
from tui_helpdesk.services import api_keys, door, queries  # noqa: E402
from tui_helpdesk.services.admin import people  # noqa: E402
from tui_helpdesk.services.context import Actor  # noqa: E402
from tui_helpdesk.services.errors import ValidationError  # noqa: E402

BENCH_AGENT = "bench"


def _key(url: str) -> tuple[str, list[str], int]:
    """(a fresh key for the bench admin, sample ticket numbers, the number of tickets)."""
    engine = get_engine(url)
    system = Actor.system("cli")
    try:
        door.write(engine, system, people.create_agent, username=BENCH_AGENT, name="Benchmark", is_admin=True)
    except ValidationError:
        pass  # made by an earlier run
    key = door.write(engine, system, api_keys.create, BENCH_AGENT, name="benchmarks/http.py").key
    admin = api_keys.authenticate(engine, key)

    def sample(tx: object) -> tuple[list[str], int]:
        query = queries.TicketQuery(archived=None, sort="newest")
        total = queries.count(tx, query)  # type: ignore[arg-type]
        first = queries.fetch_page(tx, query, limit=1).rows  # type: ignore[arg-type]
        return [r.number for r in first], total

    numbers, total = door.read(engine, admin, sample)
    engine.dispose()
    return key, numbers, total


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _drive(base: str, key: str, paths: list[str], clients: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    rng = random.Random(7)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {key}"}, limits=limits,
                                 timeout=60) as client:

        async def one_client() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                path = paths[rng.randrange(len(paths))]
                t0 = time.perf_counter()
                response = await client.get(path)
                latencies.append(time.perf_counter() - t0)
                if response.status_code != 200:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies), "rps": len(latencies) / elapsed, "errors": errors,
        "p50_ms": _percentile(latencies, 0.50) * 1000, "p99_ms": _percentile(latencies, 0.99) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", help="the SQLite file built by build_dataset.py")
    parser.add_argument("--url", help="a database URL instead of PATH")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15.0, help="per figure (default 15)")
    args = parser.parse_args(argv)
    if not args.url and not args.path:
        parser.error("give PATH or --url")
    url = args.url or f"sqlite:///{Path(args.path).absolute()}"
    key, newest, total = _key(url)
    # numbers spread over the whole desk: the newest number's digits count down to the oldest
    prefix, _, top = newest[0].rpartition("-")
    rng = random.Random(1)
    numbers = [f"{prefix}-{rng.randint(int(top) - total + 1, int(top))}" for _ in range(2000)]
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "HELPDESK_AGENT"}
    env["HELPDESK_DATABASE_URL"] = url
    server = subprocess.Popen(
        [sys.executable, "-m", "tui_helpdesk.cli", "serve", "--http", f"127.0.0.1:{port}", "--no-worker"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/openapi.json", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                print(server.stderr.read() if server.stderr else "", file=sys.stderr)
                raise SystemExit("the server did not start")
            time.sleep(0.1)
        print(f"desk: {total:,} tickets ({url}); {args.clients} concurrent clients, {args.seconds:.0f} s each")
        figures = {
            "GET /api/tickets?limit=50": ["/api/tickets?limit=50"],
            "GET /api/tickets/{number}": [f"/api/tickets/{n}" for n in numbers],
        }
        for label, paths in figures.items():
            asyncio.run(_drive(base, key, paths[:50], args.clients, 2))  # warm-up
            r = asyncio.run(_drive(base, key, paths, args.clients, args.seconds))
            print(f"{label:<28} {r['rps']:7.1f} req/s   p50 {r['p50_ms']:7.1f} ms   p99 {r['p99_ms']:7.1f} ms"
                  f"   ({r['requests']} requests, {r['errors']} not 200)")
    finally:
        server.terminate()
        server.wait(30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
