"""The app uvicorn serves: `uvicorn penguins.serving.app:app` (the container's command).

Its settings come from PENGUINS_* environment variables (penguins.serving.settings); the
model is loaded when the server starts, and a missing or tampered file stops it there.
Nothing else lives here: every behaviour is penguins.serving.api's.
"""

from penguins.serving.api import create_app

app = create_app()
