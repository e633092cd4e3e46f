"""The stage map: for each lecture stage, its notebook, exercise, make target and port.

One table, read by the README check, `make doctor` and notebook 00, so a port or a
target name is written down once.
"""

from __future__ import annotations

from dataclasses import dataclass

from workshop.diagram import STAGES as PICTURE


@dataclass(frozen=True)
class StageInfo:
    number: int
    teaches: str
    notebook: str
    make_target: str
    port: int | None

    @property
    def exercise(self) -> str | None:
        return f"exercises/{self.notebook}.ipynb" if self.number >= 1 else None


_TEACHES = {
    0: "what deploying to production means; the bird's-eye picture; the glossary",
    1: "a model lives in a notebook: it predicts, but nobody else can use it",
    2: "save it: pickle, skops, torch.save; metadata and a hash; what pickle cannot save",
    3: "ONNX: export from scikit-learn and PyTorch, run without the training stack",
    4: "the wrapper class: raw messy records in, prediction out",
    5: "the service: an address, FastAPI + uvicorn, clients with requests",
    6: "the container: code and model as one isolated unit",
}
_TARGETS = {0: ("lab", 8888), 1: ("train", None), 2: ("serve-02", 8002), 3: ("serve-03", 8003),
            4: ("serve-04", 8004), 5: ("serve-04", 8004), 6: ("docker-run", 8006)}

STAGE_MAP: tuple[StageInfo, ...] = (
    StageInfo(0, _TEACHES[0], "00_big_picture", *_TARGETS[0]),
    *(StageInfo(s.number, _TEACHES[s.number], s.notebook, *_TARGETS[s.number]) for s in PICTURE),
    StageInfo(7, "the server room: a reverse proxy with TLS at the domain, an API key, 3 replicas that survive a crash",
              "07_server_room", "room-up", 8443),
)

PORTS: tuple[int, ...] = tuple(sorted({s.port for s in STAGE_MAP if s.port}))


def markdown_table() -> str:
    """The stage map as the README and notebook 00 show it."""
    rows = ["| stage | what it teaches | notebook | exercise | make target | port |",
            "|---|---|---|---|---|---|"]
    for s in STAGE_MAP:
        exercise = f"`{s.exercise}`" if s.exercise else "-"
        port = str(s.port) if s.port else "-"
        rows.append(f"| {s.number:02d} | {s.teaches} | `notebooks/{s.notebook}.ipynb` | {exercise} "
                    f"| `make {s.make_target}` | {port} |")
    return "\n".join(rows)
