"""workshop: classroom scaffolding (exercise checks, notebook helpers).

It never ships with the model: the container copies only `penguins`.
"""
