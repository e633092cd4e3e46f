"""The container's app: the penguin service, configured by environment variables.

`uvicorn app:app` serves it; MODEL_PATH, BACKEND, MODE, PORT, ... (see penguins.settings)
choose what and how. Nothing else lives here: every behaviour is the penguins package's.
"""

from penguins.api import create_app
from penguins.settings import Settings

app = create_app(Settings())
