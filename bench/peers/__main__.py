"""python -m bench.peers [--quick] [--out DIR]: MLServer and BentoML against the served /predict."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.budget import FULL, QUICK
from bench.peers.run import run
from bench.run import RESULTS


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.peers", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a tiny budget: checks the code, not the speed")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"where to write (default {RESULTS})")
    parser.add_argument("--artifacts", type=Path, default=None, help="artifacts folder (default ./artifacts)")
    parser.add_argument("--no-wrk", action="store_true", help="use the Python load generator")
    args = parser.parse_args()
    report = run(QUICK if args.quick else FULL, args.artifacts, use_wrk=not args.no_wrk)
    print(report.markdown())
    for path in report.write(args.out, "peers"):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
