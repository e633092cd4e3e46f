"""python -m bench [--quick] [--out DIR]: measure, print the table, write table, plot and JSON."""

from bench.cli import main

raise SystemExit(main("python -m bench", __doc__))
