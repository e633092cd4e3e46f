"""An API key for the predictions, checked by the service itself: off unless PENGUINS_API_KEY is set.

In the server room (stage 07) the proxy checks the key, and the service behind it needs none.
On Kubernetes the edge is an Ingress, whose controllers have no plain header-key check (only
their own annotations, or an extra auth service), so there the service checks it: the
Deployment hands the key in from a Secret as PENGUINS_API_KEY (`valueFrom.secretKeyRef`),
the ordinary way a Kubernetes app gets a secret. Whatever the Ingress, the key holds.

With a key, /predict, /predict/batch and every /v2 route ask for it (the protocol's clients
send their headers on every call); /health, /ready and /model stay open for the probes. The
check is a dependency added only then, so /docs shows the key exactly when it is asked for.
FastAPI's own `APIKeyHeader` reads the header; the comparison takes the same time whatever
key was sent (`secrets.compare_digest`), so its timing tells an attacker nothing.
"""

import secrets
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, HTTPException
from fastapi.security import APIKeyHeader
from pydantic import SecretStr

HEADER = "X-API-Key"
MISSING_OR_WRONG = f"missing or wrong {HEADER}"

_header = APIKeyHeader(name=HEADER, auto_error=False, description="the key the service was given (PENGUINS_API_KEY)")


def requirement(key: SecretStr | None) -> list[Any]:
    """The dependencies a guarded route gets: none without a key, else the check."""
    return [] if key is None else [Depends(_checker(key.get_secret_value()))]


def responses(key: SecretStr | None) -> dict[int | str, dict[str, Any]]:
    """The 401 for the docs, when there is a key to miss."""
    return {} if key is None else {401: {"description": f"{MISSING_OR_WRONG} (PENGUINS_API_KEY)"}}


def _checker(key: str) -> Callable[[str | None], Coroutine[Any, Any, None]]:
    expected = key.encode()

    async def api_key(sent: Annotated[str | None, Depends(_header)]) -> None:
        """A 401 naming the header, before the record is read (the room's proxy answers the same),
        with the WWW-Authenticate that FastAPI's own check sends."""
        if sent is None or not secrets.compare_digest(sent.encode(), expected):
            raise HTTPException(401, MISSING_OR_WRONG, headers={"WWW-Authenticate": "APIKey"})

    return api_key
