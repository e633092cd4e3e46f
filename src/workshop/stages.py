"""The stage table: per lecture stage, its notebooks, titles, make target, port and server.

This is the one home of these facts. `python -m workshop serve 04` (what `make serve-04` runs)
turns a stage into the service's PENGUINS_* settings; the diagram draws the stages' titles;
`make doctor` checks their ports; `make help` lists the stage servers from here; the stage
tables of the README and notebook 00 are checked against `markdown_table()` by a test. The
capstone exercise, which has no stage of its own, is listed here too, as the table's last row.
A stage may have several notebooks, and rows for later stages are added at the end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from penguins.serving.contract import Backend
from penguins.serving.settings import PREFIX, Mode


@dataclass(frozen=True)
class Service:
    """What a stage's own server runs, and the one line its start-up banner says about it."""

    backend: Backend
    mode: Mode
    what: str


@dataclass(frozen=True)
class Stage:
    """One row of the table; `port` is where the stage's make target listens on 127.0.0.1."""

    number: int
    notebooks: tuple[str, ...]
    title: str
    polish: str
    teaches: str
    make_target: str
    port: int | None = None
    service: Service | None = None
    # The exercises, where they are not named like the stage's first notebook: a lesson split over
    # several notebooks keeps the stage's own name (07 adds Kubernetes' own, 07c).
    exercise: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The stage as people write it: "04"."""
        return f"{self.number:02d}"

    @property
    def exercises(self) -> tuple[str, ...]:
        """The stage's exercises (named like its first notebook unless said); 00 has none, nor has
        a stage whose exercise is still being written (exercise=(""))."""
        if not self.number or self.exercise == ("",):
            return ()
        return tuple(f"exercises/{name}.ipynb" for name in self.exercise or (self.notebooks[0],))


_WRAPPER = Stage(
    4,
    ("04_wrapper_class",),
    "your code: the wrapper class",
    "wasz kod / klasa wrapująca",
    "the wrapper class: raw messy records in, prediction out",
    "serve-04",
    8004,
    Service("mlp-onnx", "raw", "the wrapper over ONNX: raw, messy records in"),
)

STAGES: tuple[Stage, ...] = (
    Stage(
        0,
        ("00_big_picture",),
        "the big picture",
        "wdrożenie na produkcję z lotu ptaka",
        "what deploying to production means; the bird's-eye picture; the glossary",
        "lab",
        8888,
    ),
    Stage(
        1,
        ("01_model_in_a_notebook",),
        "model in a notebook",
        "model w notebooku",
        "a model lives in a notebook: it predicts, but nobody else can use it",
        "train",
    ),
    Stage(
        2,
        ("02a_save_and_load", "02b_is_it_safe"),
        "saved model: pickle / ONNX",
        "zapisany model",
        "save it: pickle, skops, torch.save; metadata and a hash; what pickle cannot save",
        "serve-02",
        8002,
        Service("sklearn-pickle", "raw", "the pickled scikit-learn pipeline behind the wrapper"),
        exercise=("02_save_the_model",),
    ),
    Stage(
        3,
        ("03_onnx",),
        "ONNX: another runtime",
        "format ONNX",
        "ONNX: export from scikit-learn and PyTorch, run without the training stack",
        "serve-03",
        8003,
        Service("sklearn-onnx", "features", "the bare ONNX model: clean typed features only"),
    ),
    _WRAPPER,
    # Stage 05 puts stage 04's server behind an address: it has no server of its own.
    Stage(
        5,
        ("05a_first_service", "05b_addresses_and_async"),
        "server: FastAPI + uvicorn",
        "serwer",
        "the service: an address, FastAPI + uvicorn, clients with requests",
        _WRAPPER.make_target,
        _WRAPPER.port,
        exercise=("05_service",),
    ),
    Stage(
        6,
        ("06_container",),
        "container: code + model as one isolated unit",
        "kontener",
        "the container: code and model as one isolated unit",
        "docker-run",
        8006,
    ),
    Stage(
        7,
        ("07_server_room", "07a_faults", "07b_new_versions", "07c_kubernetes"),
        "server room: a proxy at the domain, replicas",
        "serwerownia",
        "the server room: a proxy with TLS at the domain, an API key, 3 replicas that survive a crash; new versions; "
        "the same on Kubernetes",
        "room-up",
        8443,
        exercise=("07_server_room", "07c_kubernetes"),
    ),
    # Stage 08's notebook runs its own service and Prometheus; `make room-up` starts the room's
    # Prometheus (and, with the compose profile `grafana`, Grafana) beside the replicas.
    Stage(
        8,
        ("08_running_it",),
        "running it: metrics and drift",
        "monitorowanie",
        "running it: a service counts with prometheus_client, Prometheus scrapes it, PromQL rates and p95 "
        "plotted, a drift check (KS, chi-square)",
        "room-up",
        9090,
    ),
    # Stage 09 ships new model versions into the room of stage 07 by itself: `make release`.
    Stage(
        9,
        ("09_pipeline",),
        "the pipeline: script, pins, release",
        "potok wdrożeniowy",
        "the pipeline: the notebook's training as train.py, pins generated by pip-compile, a release that tests, "
        "builds, pushes, switches, checks and rolls back by itself; the same on GitHub",
        "release",
        exercise=("",),  # exercise 09 comes with the release cells of notebook 09
    ),
)

# The capstone goes through stages 01-06 again from a blank folder, judged by their exercises'
# checks: an exercise without a stage (or a lecture notebook) of its own.
CAPSTONE = "exercises/99_blank_folder.ipynb"
CAPSTONE_ROW = (
    "01-06",
    "the capstone: from a blank folder, train → pickle → ONNX → wrapper → FastAPI → Dockerfile, "
    "judged by the checks of exercises 01-06",
)

# Stage 06's registry on 127.0.0.1 (`make registry-up`), where images are pushed to and pulled
# from: not the registry's usual 5000, which macOS's AirPlay receiver holds.
REGISTRY_PORT = 5001

NOTEBOOKS: tuple[str, ...] = tuple(notebook for stage in STAGES for notebook in stage.notebooks)
# Optional appendix notebooks, outside the 15-minute slots: what is worth keeping but not live.
APPENDICES: tuple[str, ...] = ("98_onnx_in_node_and_speed", "99_from_notebook_to_package")
EXERCISES: tuple[str, ...] = (*(exercise for stage in STAGES for exercise in stage.exercises), CAPSTONE)
PORTS: tuple[int, ...] = tuple(sorted({REGISTRY_PORT, *(stage.port for stage in STAGES if stage.port)}))


class UnknownStage(ValueError):
    """A stage number the table does not have, or one without a server of its own."""


def stage(number: int | str) -> Stage:
    """The row of stage `number` (4, "4" or "04")."""
    for row in STAGES:
        if str(number).isdigit() and row.number == int(number):
            return row
    raise UnknownStage(f"there is no stage {number!r}: the stages are {', '.join(s.name for s in STAGES)}")


def service(number: int | str) -> Service:
    """What the server of stage `number` runs; a clear error for a stage without one."""
    row = stage(number)
    if row.service is None:
        others = ", ".join(s.name for s in STAGES if s.service)
        how = f" (`make {row.make_target}` serves it)" if row.make_target.startswith("serve-") else ""
        raise UnknownStage(f"stage {row.name} has no server of its own{how}; the stage servers are {others}")
    return row.service


def port(number: int | str) -> int:
    """The port of a stage that listens on one."""
    row = stage(number)
    if row.port is None:
        raise UnknownStage(f"stage {row.name} listens on no port")
    return row.port


def environment(number: int | str, given: Mapping[str, str]) -> dict[str, str]:
    """`given` (an environment) with the stage's PENGUINS_* settings added beneath it: a
    variable already set wins over the stage, so `PENGUINS_PORT=9004` still moves stage 04."""
    served = service(number)
    settings = {"BACKEND": served.backend, "MODE": served.mode, "PORT": str(port(number))}
    return {**{PREFIX + key: value for key, value in settings.items()}, **given}


def banner(number: int | str) -> str:
    """The first line a stage's server prints: which stage, and what it serves."""
    return f"stage {stage(number).name}: {service(number).what}"


def markdown_table() -> str:
    """The stage map as the README and notebook 00 show it."""
    rows = ["| stage | what it teaches | notebook | exercise | make target | port |", "|---|---|---|---|---|---|"]
    for row in STAGES:
        notebooks = ", ".join(f"`notebooks/{notebook}.ipynb`" for notebook in row.notebooks)
        exercises = ", ".join(f"`{exercise}`" for exercise in row.exercises) or "-"
        rows.append(
            f"| {row.name} | {row.teaches} | {notebooks} | {exercises} | `make {row.make_target}` | {row.port or '-'} |"
        )
    stages, teaches = CAPSTONE_ROW
    rows.append(f"| {stages} | {teaches} | - | `{CAPSTONE}` | `make my-exercises` | - |")
    return "\n".join(rows)


def servers_table() -> str:
    """The stage servers as the README's "Serving" section lists them."""
    rows = ["| target | stage | port | what answers | without make |", "|---|---|---|---|---|"]
    for row in STAGES:
        if row.service:
            rows.append(
                f"| `make {row.make_target}` | {_served_stages(row)} | {row.port} | {row.service.what} "
                f"| `python -m workshop serve {row.name}` |"
            )
    return "\n".join(rows)


def make_help() -> str:
    """The stage servers' lines of `make help`, in its format (the Makefile has one rule for them)."""
    return "\n".join(
        f"  make {row.make_target:<16} stage {_served_stages(row)} on 127.0.0.1:{row.port}: {row.service.what}"
        for row in STAGES
        if row.service
    )


def _served_stages(server: Stage) -> str:
    """The stages a server is for: "02", or "04-05" when a later stage uses stage 04's server."""
    users = [row.name for row in STAGES if row.make_target == server.make_target]
    return "-".join(dict.fromkeys((users[0], users[-1])))
