"""An API key for the predictions, checked by the service itself: off unless PENGUINS_API_KEY is set.

In the server room (stage 07) the proxy checks the key, and the service behind it needs none.
On Kubernetes the edge is an Ingress, whose controllers have no plain header-key check (only
their own annotations, or an extra auth service), so there the service checks it: the
Deployment hands the key in from a Secret as PENGUINS_API_KEY (`valueFrom.secretKeyRef`),
the ordinary way a Kubernetes app gets a secret. Whatever the Ingress, the key holds.

FastAPI's own `APIKeyHeader` reads the header; the comparison takes the same time whatever
key was sent (`secrets.compare_digest`), so its timing tells an attacker nothing.
"""

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader
from pydantic import SecretStr

HEADER = "X-API-Key"
MISSING_OR_WRONG = f"missing or wrong {HEADER}"

_header = APIKeyHeader(name=HEADER, auto_error=False, description="the API key, when PENGUINS_API_KEY is set")


async def required(request: Request, sent: Annotated[str | None, Depends(_header)]) -> None:
    """Nothing without a key; else a 401 naming the header, before the record is read (the
    room's proxy answers the same), with the WWW-Authenticate FastAPI's own check sends."""
    expected: SecretStr | None = request.app.state.settings.api_key
    if expected is None:
        return
    if sent is None or not secrets.compare_digest(sent.encode(), expected.get_secret_value().encode()):
        raise HTTPException(401, MISSING_OR_WRONG, headers={"WWW-Authenticate": "APIKey"})
