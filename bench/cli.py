"""The command line shared by `python -m bench` and `python -m bench.peers`."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from bench.budget import FULL, QUICK
from bench.run import RESULTS, run


def main(prog: str = "python -m bench", doc: str | None = None, measure: Callable = run, stem: str = "bench") -> int:
    """The command line of `python -m bench` and `python -m bench.peers`: same options, own run."""
    parser = argparse.ArgumentParser(prog=prog, description=doc)
    parser.add_argument("--quick", action="store_true", help="a tiny budget: checks the code, not the speed")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"where to write (default {RESULTS})")
    parser.add_argument("--artifacts", type=Path, default=None, help="artifacts folder (default ./artifacts)")
    parser.add_argument("--no-wrk", action="store_true", help="use the Python load generator")
    if measure is run:
        parser.add_argument("--no-room", action="store_true", help="leave out the server room (Docker)")
    args = parser.parse_args()
    rooms = {"with_room": False} if getattr(args, "no_room", False) else {}
    report = measure(QUICK if args.quick else FULL, args.artifacts, use_wrk=not args.no_wrk, **rooms)
    print(report.markdown())
    for path in report.write(args.out, stem):
        print(f"wrote {path}")
    return 0
