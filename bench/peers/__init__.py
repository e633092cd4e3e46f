"""The peers: what a user would pick instead of writing the service, serving the same models.

MLServer (Seldon, the Open Inference Protocol) and BentoML, each in its own virtual
environment under bench/.peers/ (git-ignored; MLServer cannot share ours: it caps FastAPI
below 0.116), pinned in requirements-<peer>.txt here. `python -m bench.peers` (make
bench-peers) installs them when missing and measures them against the served `/predict`
in the same run. It is not part of `make bench`: the installs take minutes and ~1 GB.
"""
