"""What the service counts, for Prometheus to scrape at /metrics.

A team running the model asks "is it up, how fast is it, how many answers did it give, and
what did it refuse?"; these are the answers, in the Prometheus text format:

    penguins_requests_total{route,method,status}   every request, by route template (/predict, not
                                                   the raw path); "(unmatched)" when no route was
                                                   reached (an unknown path, a body too large)
    penguins_request_seconds{route}                how long each took (a histogram)
    penguins_predictions_total{species}            every answer, by species
    penguins_refusals_total{code}                  every refused value, by cleaning's code (REFUSALS)
    penguins_warnings_total{code}                  every warning given with an answer (WARNINGS)
    penguins_model_info{model_version,sha256,backend}  1: which model answers

Each app has its own registry, so the dozens of apps the tests build never collide; one worker
per replica needs no multiprocess directory. Codes and species are known in advance, so their
series exist at 0 from the start: a rate over a code that never happened is 0, not "no data".
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from penguins.serving.cleaning import REFUSALS, WARNINGS, CleaningError, FieldWarning
from penguins.serving.contract import CLASSES

UNMATCHED = "(unmatched)"  # no route reached: one label, whatever path was asked for
# Seconds. The service answers in about a millisecond; the top buckets catch a stalled one.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    """One app's counters, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "penguins_requests", "HTTP requests", ["route", "method", "status"], registry=self.registry
        )
        self.seconds = Histogram(
            "penguins_request_seconds", "time to answer a request", ["route"], buckets=BUCKETS, registry=self.registry
        )
        self.predictions = Counter(
            "penguins_predictions", "answers given, by species", ["species"], registry=self.registry
        )
        self.refusals = Counter("penguins_refusals", "values refused, by code", ["code"], registry=self.registry)
        self.warnings = Counter(
            "penguins_warnings", "warnings given with answers, by code", ["code"], registry=self.registry
        )
        self.model = Gauge(
            "penguins_model_info",
            "the model that answers (always 1)",
            ["model_version", "sha256", "backend"],
            registry=self.registry,
        )
        # Each series' child, looked up by its labels once: `.labels()` checks and locks on every
        # call, about two thirds of what counting a request costs (measured in process).
        self._species = {species: self.predictions.labels(species) for species in CLASSES}
        self._warned = {code: self.warnings.labels(code) for code in WARNINGS}
        self._by_request: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        for refusal in REFUSALS:
            self.refusals.labels(refusal)

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        children = self._by_request.get(key)
        if children is None:
            children = self._by_request[key] = (
                self.requests.labels(route, method, str(status)),
                self.seconds.labels(route),
            )
        children[0].inc()
        children[1].observe(seconds)

    def answered(self, species: Iterable[str], warnings: Iterable[tuple[FieldWarning, ...]]) -> None:
        for name in species:
            child = self._species.get(name)
            if child is None:  # a model trained on other classes than contract.CLASSES
                child = self._species[name] = self.predictions.labels(name)
            child.inc()
        for notes in warnings:
            for note in notes:
                self._warned[note.code].inc()

    def refused(self, error: CleaningError) -> None:
        for problem in error.problems:
            self.refusals.labels(problem.code).inc()

    def serving(self, model_version: str, sha256: str, backend: str) -> None:
        self.model.clear()
        self.model.labels(model_version, sha256, backend).set(1)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class NoMetrics:
    """What counts when metrics are off (PENGUINS_METRICS=false): nothing, so that no caller
    has to ask whether metrics are on."""

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        pass

    def answered(self, species: Iterable[str], warnings: Iterable[tuple[FieldWarning, ...]]) -> None:
        pass

    def refused(self, error: CleaningError) -> None:
        pass

    def serving(self, model_version: str, sha256: str, backend: str) -> None:
        pass


Meter = Metrics | NoMetrics
