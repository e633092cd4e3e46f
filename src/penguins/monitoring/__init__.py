"""Running it: is today's data like the data the model learnt from?

Never shipped in the serving image (scipy is a training-stack dependency): a team runs the
drift check beside production, on records the station keeps, against the reference the
model's sidecar carries.
"""
