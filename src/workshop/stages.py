"""The stage table (`stages.toml`, data an instructor edits) and what reads it: `python -m workshop
serve 04` turns a stage into the service's PENGUINS_* settings; `make help`, `make doctor`, the
diagram and the README's and notebook 00's tables (checked by a test) come from it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    """One row of stages.toml."""

    number: int
    notebooks: tuple[str, ...]
    title: str
    polish: str
    teaches: str
    make_target: str
    port: int | None = None
    service: Service | None = None
    exercise: tuple[str, ...] = ()

    @property
    def name(self) -> str:  # as people write it: "04"
        return f"{self.number:02d}"

    @property
    def exercises(self) -> tuple[str, ...]:
        """The stage's exercise notebooks; 00 has none."""
        names = self.exercise or (self.notebooks[0],) if self.number else ()
        return tuple(f"exercises/{name}.ipynb" for name in names)


def _row(row: dict[str, Any]) -> Stage:
    row["service"] = Service(**row["service"]) if "service" in row else None
    return Stage(**{**row, "notebooks": tuple(row["notebooks"]), "exercise": tuple(row.get("exercise", ()))})


STAGES = tuple(map(_row, tomllib.loads(Path(__file__).with_name("stages.toml").read_text("utf-8"))["stage"]))

# The capstone goes through stages 01-06 again from a blank folder, judged by their exercises'
# checks: an exercise without a stage (or a lecture notebook) of its own.
CAPSTONE = "exercises/99_blank_folder.ipynb"

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
    """`given` (an environment) over the stage's PENGUINS_* settings: `PENGUINS_PORT=9004` still moves 04."""
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
    capstone = "the capstone: from a blank folder, train → pickle → ONNX → wrapper → FastAPI → Dockerfile"
    rows.append(
        f"| 01-06 | {capstone}, judged by the checks of exercises 01-06 | - | `{CAPSTONE}` | `make my-exercises` | - |"
    )
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
    """The stage servers' lines of `make help` (the Makefile has one rule for them)."""
    return "\n".join(
        f"  make {row.make_target:<16} stage {_served_stages(row)} on 127.0.0.1:{row.port}: {row.service.what}"
        for row in STAGES
        if row.service
    )


def _served_stages(server: Stage) -> str:
    """The stages a server is for: "02", or "04-05" (stage 05 uses stage 04's server)."""
    users = [row.name for row in STAGES if row.make_target == server.make_target]
    return "-".join(dict.fromkeys((users[0], users[-1])))
