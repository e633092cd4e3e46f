"""Benchmarks: how fast each way of deploying the penguin model is, side by side.

`python -m bench` (or `make bench`) measures the model alone, the HTTP services, their cold
start and the sizes in one run, and writes a markdown table and a plot under bench/results/.
These machines are noisy, so the figures that count are ratios against a baseline measured
in the same run, not the absolute numbers. Nothing here holds logic the `penguins` package
holds: it calls the package, and only the reference servers in bench/apps are written here.
"""
