"""The penguin service's client, built on requests: "the other service" of the lecture.

Another program that wants a species calls the service over HTTP; this is how it does it
properly. Every call has a timeout (a server that hangs must not hang its callers), a
starting server can be waited for within a bound, and every failure is an exception that
says what happened, because the fix differs:

    ServiceUnreachable  nothing answered: the server is not running, or not at this address
      ServiceTimeout    ... or it did not answer within the timeout
    InvalidInput        422: the service refused values; `.problems` names each field
    RequestRejected     another 4xx: a batch too big, a body that is not JSON, ...
    ServerError         5xx: the service failed; its log says why

A connection that is refused, reset or cut before an answer (a proxy restarting, a replica
going away) is tried again, up to RETRIES times with a growing pause (BACKOFF, doubling): a
restart becomes a little latency, not a lost answer. A timeout is not tried again (a hung
server would make the caller wait twice), nor is an answer, whatever its status.

It needs only requests (no numpy, no model): any program can copy this pattern.

Behind a proxy with TLS (stage 07) the client checks the certificate against `verify=` (a CA
file), and `resolve=` connects a host name to a fixed IP, the way `curl --resolve` does, while
TLS and the Host header still use the name: a domain can be tried before DNS points at it,
without touching the machine's hosts file.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError, SSLError
from urllib3.util.retry import Retry

RETRIES = 5  # connection errors tried again per call; 0 turns retrying off
BACKOFF = 0.05  # seconds before the first retry, doubling: 0.05 + 0.1 + ... + 0.8 = 1.55 s for 5


class ServiceError(Exception):
    """Something went wrong talking to the service; the subclasses say what."""


class ServiceUnreachable(ServiceError):
    """No HTTP answer at all: connection refused, a timeout, or not ready in time."""


class ServiceTimeout(ServiceUnreachable):
    """Connected, or tried to, but no answer came within the timeout."""


class RequestRejected(ServiceError):
    """The service answered 4xx: the request itself was wrong."""

    def __init__(self, status: int, detail: Any, message: str | None = None) -> None:
        self.status, self.detail = status, detail
        super().__init__(message or f"the service refused the request ({status}): {detail}")


class InvalidInput(RequestRejected):
    """422: values the service cannot use. `problems` holds (where, why, what was sent);
    `codes` the code of each (its `type`: penguins.serving.cleaning.REFUSALS, or FastAPI's own)."""

    def __init__(self, detail: list[dict[str, Any]]) -> None:
        self.problems = [(_where(error.get("loc", [])), error.get("msg", ""), error.get("input")) for error in detail]
        self.codes: list[str] = [str(error.get("type", "")) for error in detail]
        lines = "\n".join(f"  {where}: {why} (sent {sent!r})" for where, why, sent in self.problems)
        super().__init__(422, detail, f"the service refused {len(self.problems)} value(s):\n{lines}")


class ServerError(ServiceError):
    """The service answered 5xx: not the caller's fault; the server's log has the details."""


def _where(loc: Sequence[Any]) -> str:
    """["body", 3, "sex"] -> "record 3, field sex"; ["body", "sex"] -> "field sex"."""
    parts = [f"record {part}" if isinstance(part, int) else f"field {part}" for part in loc[1:]]
    return ", ".join(parts) or "the request body"


@dataclass(frozen=True)
class Answer:
    """One prediction as the service sent it; each warning is {code, field, message}."""

    species: str
    probabilities: dict[str, float]
    model_version: str
    warnings: list[dict[str, str]] = field(default_factory=list)


class PenguinClient:
    """Calls one penguin service at `url` (e.g. a stage's server: workshop.stages says its port).
    Use it as a context manager, or call close().
    """

    def __init__(
        self,
        url: str,
        timeout: float = 5.0,
        *,
        verify: bool | str = True,
        resolve: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        request_id: str | None = None,
        retries: int = RETRIES,
    ) -> None:
        """`verify`: True (the system's CAs), a CA bundle file, or False (never in production);
        `resolve`: {host name: IP} to connect to instead of asking DNS; `headers` go with every
        call (an API key, say); `request_id` is sent as X-Request-ID with every call, so the
        service's log lines carry the caller's id (a station passes on the id of the request it
        is serving); without one, the service makes an id per request and answers with it;
        `retries`: how often a refused, reset or cut connection is tried again."""
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.verify = verify  # given with each call: requests lets $REQUESTS_CA_BUNDLE override a session's
        self.session.headers.update(headers or {})
        if request_id is not None:
            self.session.headers["X-Request-ID"] = request_id
        adapter = ResolveAdapter(resolve or {}, max_retries=ConnectionRetry.of(retries))
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    def __enter__(self) -> PenguinClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()

    def wait_until_ready(self, timeout: float = 30.0, interval: float = 0.1) -> dict[str, Any]:
        """Poll /ready until the model is loaded; ServiceUnreachable after `timeout` seconds.

        Refused connections and 503s mean "still starting"; any other answer is final.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                ready: dict[str, Any] = self._call("GET", "/ready", timeout=min(self.timeout, 1.0))
                return ready
            except (ServiceUnreachable, ServerError) as err:
                if time.monotonic() >= deadline:
                    raise ServiceUnreachable(f"{self.url} was not ready within {timeout:g} s: {err}") from None
            time.sleep(interval)

    def health(self) -> dict[str, Any]:
        health: dict[str, Any] = self._call("GET", "/health")
        return health

    def model(self) -> dict[str, Any]:
        """Which model answers: version, sha256, backend, features, classes, metrics."""
        model: dict[str, Any] = self._call("GET", "/model")
        return model

    def predict(self, record: Mapping[str, object]) -> Answer:
        """The species of one raw record."""
        return Answer(**self._call("POST", "/predict", json=dict(record)))

    def predict_batch(self, records: Sequence[Mapping[str, object]]) -> list[Answer]:
        """The species of many raw records, in one call (up to the service's batch limit)."""
        body = self._call("POST", "/predict/batch", json=[dict(record) for record in records])
        return [Answer(**answer) for answer in body["predictions"]]

    def _call(self, method: str, path: str, json: Any = None, timeout: float | None = None) -> Any:
        """One request; every failure becomes the ServiceError subclass that names it."""
        url = self.url + path
        try:
            response = self.session.request(method, url, json=json, timeout=timeout or self.timeout, verify=self.verify)
        except requests.exceptions.SSLError as err:
            raise ServiceUnreachable(f"{url}: the certificate does not verify ({_reason(err)})") from None
        except (requests.exceptions.ConnectTimeout, requests.exceptions.ReadTimeout):
            raise ServiceTimeout(f"{url} did not answer within {timeout or self.timeout:g} s") from None
        except requests.ConnectionError as err:
            raise ServiceUnreachable(f"nothing answers at {url}: is the server running? ({_reason(err)})") from None
        if response.status_code >= 500:
            raise ServerError(f"the service failed ({response.status_code}) on {method} {path}: {response.text[:200]}")
        if response.status_code >= 400:
            detail = _detail(response)
            if response.status_code == 422 and isinstance(detail, list):
                raise InvalidInput(detail)
            raise RequestRejected(response.status_code, detail)
        return response.json()


def _detail(response: requests.Response) -> Any:
    """FastAPI's `detail` when the body is its JSON, else the text."""
    try:
        return response.json()["detail"]
    except (ValueError, KeyError, TypeError):
        return response.text[:200]


def _reason(err: requests.ConnectionError) -> str:
    text = str(err)
    return "connection refused" if "refused" in text.lower() else text[:120]


class ConnectionRetry(Retry):
    """urllib3's Retry for connection errors only: refused, reset, or cut before an answer.

    A read timeout is raised at once (the server may be working on it; the caller's timeout is
    the promise), and so is a certificate that does not verify (trying again cannot fix it).
    Any method is retried: the service's calls have no side effects, so asking twice is safe.
    """

    @classmethod
    def of(cls, retries: int) -> ConnectionRetry:
        return cls(
            total=retries,
            connect=retries,
            read=retries,
            other=retries,
            status=0,
            redirect=0,
            allowed_methods=None,
            backoff_factor=BACKOFF,
            raise_on_redirect=False,
            raise_on_status=False,
        )

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: TracebackType | None = None,
    ) -> ConnectionRetry:
        if isinstance(error, ReadTimeoutError) or _unverified(error):
            raise error  # type: ignore[misc]
        return super().increment(method, url, response, error, _pool, _stacktrace)


def _unverified(error: Exception | None) -> bool:
    """A TLS error that is the certificate's fault, not the connection's."""
    return isinstance(error, SSLError) and any(isinstance(arg, ssl.SSLCertVerificationError) for arg in error.args)


class ResolveAdapter(HTTPAdapter):
    """Connects to a fixed IP for the host names it is given, like `curl --resolve`, and tries a
    call again when its answer is cut off part-way (a proxy that gave up on a replica after
    sending the headers): a cut answer is no answer, like a cut connection.

    Only the TCP connection goes to the IP: the URL, the Host header, TLS's server name (SNI)
    and the certificate check all keep the name, so the server sees what DNS would give it.
    """

    def __init__(self, addresses: Mapping[str, str], max_retries: Retry | int = 0) -> None:
        self.addresses = dict(addresses)
        super().__init__(max_retries=max_retries)

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: bool | str, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        name = host_params["host"]
        if name in self.addresses:
            host_params["host"] = self.addresses[name]
            if host_params["scheme"] == "https":
                pool_kwargs["server_hostname"] = name
                pool_kwargs["assert_hostname"] = name
        return host_params, pool_kwargs

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url or "")
        if parts.hostname in self.addresses:
            request.headers.setdefault("Host", parts.netloc)
        retries, attempt = self.max_retries.total or 0, 0
        while True:
            response = super().send(request, *args, **kwargs)
            if kwargs.get("stream"):
                return response
            try:
                response.content  # noqa: B018 - read the whole answer here, where it can be tried again
                return response
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError) as err:
                if attempt >= retries or isinstance(err.args[0] if err.args else None, ReadTimeoutError):
                    raise
            time.sleep(BACKOFF * 2**attempt)
            attempt += 1
