"""python -m bench.peers [--quick] [--out DIR]: MLServer and BentoML against the served /predict."""

from bench.cli import main
from bench.peers.run import run

raise SystemExit(main("python -m bench.peers", __doc__, run, "peers"))
