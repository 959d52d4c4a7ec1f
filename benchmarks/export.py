"""Time and memory of `helpdesk ticket export` on a large data set (issue 14: constant memory at 1M).

    .venv/bin/python benchmarks/export.py PATH.db [--format csv|jsonl|json] [--query '...'] [--page 1000]

Runs the export in a child process (services/ticket_export.write, as the CLI does, to /dev/null) as the
data set's first admin, and prints the wall time, rows per second and the child's resident memory after
100k rows, after 500k and at the end, with its peak (ru_maxrss): flat figures mean constant memory.
Never point it at a shared data set: copy it first (the first run migrates the copy).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

CHILD = r"""
import json, os, resource, sys, time
from sqlalchemy import select
from tui_helpdesk import db
from tui_helpdesk.models import Agent
from tui_helpdesk.services import ticket_export
from tui_helpdesk.services.context import Actor, reading, resolve_actor

url, fmt, query, page = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
engine = db.get_engine(url)
with reading(engine) as tx:
    admin = tx.session.execute(select(Agent.username).where(Agent.is_admin.is_(True)).order_by(Agent.id)).scalar()
    # a built data set may have no admin agent: the system actor has the same (whole-desk) scope
    actor = resolve_actor(tx.session, admin, "cli") if admin else Actor.system("cli")
page_size = os.sysconf("SC_PAGE_SIZE")

def rss_mb():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * page_size / 1048576

marks = {}
def progress(n):
    if n in (100_000, 500_000) or n % 250_000 == 0:
        marks[n] = round(rss_mb(), 1)

start_rss = round(rss_mb(), 1)
t = time.perf_counter()
with open(os.devnull, "w") as out, reading(engine, actor) as tx:
    n = ticket_export.write(tx, out, query_text=query, fmt=fmt, page_size=page, progress=progress)
took = time.perf_counter() - t
print(json.dumps({"rows": n, "seconds": round(took, 1), "rows_per_s": int(n / took) if took else 0,
                  "rss_start_mb": start_rss, "rss_mb_at": marks, "rss_end_mb": round(rss_mb(), 1),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path")
    ap.add_argument("--format", default="csv", choices=("csv", "json", "jsonl"))
    ap.add_argument("--query", default="")
    ap.add_argument("--page", type=int, default=1000)
    args = ap.parse_args()
    url = args.path if "://" in args.path else f"sqlite:///{os.path.abspath(args.path)}"
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, url, args.format, args.query, str(args.page)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(done.stderr)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["process_seconds"] = round(time.perf_counter() - t, 1)
    print(f"export {args.format} query={args.query!r} page={args.page}")
    for key, value in figures.items():
        print(f"  {key:16} {value}")


if __name__ == "__main__":
    main()
