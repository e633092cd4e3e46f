"""The service's settings, read from environment variables.

Which model to serve, how and where is configuration, not code: the same package (and image)
serves any stage by changing the environment. Every name carries the prefix PENGUINS_, so a
variable meant for another program (a bare PORT or MODE) never reconfigures the model by
accident: `batch_limit` is PENGUINS_BATCH_LIMIT. PENGUINS_ARTIFACTS is penguins.serving.paths'.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator

from penguins.serving.contract import DEFAULT_BACKEND, Backend
from penguins.serving.logs import LogFormat

PREFIX = "PENGUINS_"
Mode = Literal["raw", "features"]


class Settings(BaseModel):
    """Everything the service needs to know before it starts; see the module docstring."""

    def __init__(self, **values: Any) -> None:
        """The PENGUINS_* variables (any case) under the values given: pydantic-settings did it for ~45 ms of import."""
        env = {name[len(PREFIX) :].lower(): v for name, v in os.environ.items() if name.upper().startswith(PREFIX)}
        super().__init__(**(env | values))

    model_path: Path | None = Field(None, description="model file; default: the backend's file in the artifacts folder")
    backend: Backend = Field(
        DEFAULT_BACKEND, description="an ONNX one; sklearn-pickle needs the training stack (stage 02's launcher)"
    )
    mode: Mode = Field("raw", description="raw: messy records through the wrapper; features: the bare model (stage 03)")
    host: str = Field("127.0.0.1", description="where to listen (each stage has a port of its own)")
    port: int = Field(8000, ge=1, le=65535)
    batch_limit: int = Field(1000, ge=1, description="the most records one call may carry (/predict/batch, /v2)")
    max_body_bytes: int = Field(1_000_000, ge=1, description="the largest request body accepted, in bytes")
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    log_format: LogFormat = Field("text", description="text for a terminal; json: one object per line, for a collector")
    metrics: bool = Field(True, description="count requests and answers for Prometheus, at /metrics")
    # The room's proxy checks the key in front of the service; k8s/ hands it in from a Secret.
    api_key: SecretStr | None = Field(None, description="the X-API-Key every prediction must send; none: no check")

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _lower_case(cls, value: object) -> object:
        """PENGUINS_LOG_LEVEL=INFO is how people write it; levels and formats are spelt in lower case."""
        return value.lower() if isinstance(value, str) else value

    @field_validator("api_key", mode="before")
    @classmethod
    def _no_blank_key(cls, value: object) -> object:
        """A key read from a file ends in a newline (`kubectl create secret --from-file` keeps it):
        it is stripped. A blank key would let everyone in, so it stops the service instead."""
        if isinstance(value, str):
            value = value.strip()
            if not value:
                raise ValueError("is blank: unset PENGUINS_API_KEY to run without a key")
        return value
