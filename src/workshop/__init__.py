"""workshop: classroom scaffolding (exercise checks, notebook helpers, the diagram).

It never ships with the model: the container copies only `penguins`.
"""
