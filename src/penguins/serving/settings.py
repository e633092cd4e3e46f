"""The service's settings, read from environment variables.

Which model to serve, how and where is configuration, not code: the same package (and the
same container image) serves any stage by changing the environment. Every name carries the
prefix PENGUINS_, so a variable meant for another program (a bare PORT or MODE, set by a
shell, a CI runner or a platform) never reconfigures the model by accident, e.g.
`PENGUINS_BACKEND=sklearn-onnx python -m penguins serve`. (In the container uvicorn listens
on 8000 inside, the Dockerfile's EXPOSE; `docker run --publish` picks the port outside.)

    PENGUINS_MODEL_PATH      the model file; default: the backend's file in the artifacts folder
    PENGUINS_BACKEND         sklearn-onnx | mlp-onnx (default mlp-onnx); sklearn-pickle needs
                             the training stack (stage 02's launcher hands it in)
    PENGUINS_MODE            raw: the wrapper takes raw, messy records (default)
                             features: the bare model takes clean typed features only (stage 03)
    PENGUINS_HOST, _PORT     where to listen (127.0.0.1:8000; the stages use their own ports)
    PENGUINS_BATCH_LIMIT     the most records one /predict/batch call may carry (1000)
    PENGUINS_MAX_BODY_BYTES  the largest request body accepted (1 MB)
    PENGUINS_LOG_LEVEL       critical | error | warning | info | debug (info)
    PENGUINS_LOG_FORMAT      text | json: one JSON object per log line, for a log collector (text)
    PENGUINS_METRICS         true | false: count requests and answers, served at /metrics (true)
    PENGUINS_API_KEY         a key every prediction (and /v2 call) must send as X-API-Key (none: no check; the
                             room's proxy checks it there, k8s/ hands it in from a Secret)
    PENGUINS_ARTIFACTS       the artifacts folder (penguins.serving.paths)
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from penguins.serving.contract import DEFAULT_BACKEND, Backend
from penguins.serving.logs import LogFormat

PREFIX = "PENGUINS_"
Mode = Literal["raw", "features"]
LogLevel = Literal["critical", "error", "warning", "info", "debug"]


class Settings(BaseSettings):
    """Everything the service needs to know before it starts; see the module docstring."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore")

    model_path: Path | None = Field(None, description="model file; default: the backend's file in the artifacts folder")
    backend: Backend = DEFAULT_BACKEND
    mode: Mode = Field("raw", description="raw: messy records through the wrapper; features: clean typed features only")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    batch_limit: int = Field(1000, ge=1, description="the most records one /predict/batch call may carry")
    max_body_bytes: int = Field(1_000_000, ge=1, description="the largest request body accepted, in bytes")
    log_level: LogLevel = "info"
    log_format: LogFormat = Field("text", description="text for a terminal; json: one object per line")
    metrics: bool = Field(True, description="count requests and answers for Prometheus, at /metrics")
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
