"""Exercise 07's check against students' answers: every right one passes, every wrong one fails
with its own message (what was expected, what was found, one thing to try), never the answer.

The answers are tests/exercise_variants/07/*.yaml, put into the solution notebook's own cells.
Where a Docker engine runs, the right ones also pass `nginx -t` and the crash under load;
without one those parts are reported as not run, and the variants that only an engine can
catch skip (under CI=true they must run).
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
import yaml

from tests.conftest import ROOT, unavailable
from workshop import docker, exercises, room
from workshop.checks import ex07

VARIANTS = ROOT / "tests" / "exercise_variants" / "07"
SOLUTION = ROOT / "solutions" / "07_server_room.ipynb"
FILES = {"nginx": "room-nginx.conf", "compose": "room-compose.yaml"}
CI = os.environ.get("CI") == "true"


def cells() -> dict[str, str]:
    """The solution's %%writefile cells by the file they write."""
    notebook = nbformat.read(SOLUTION, as_version=4)
    found = {}
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.source.startswith(exercises.WRITEFILE):
            first, _, body = cell.source.partition("\n")
            found[first.split()[-1]] = body
    return found


def answer_lines() -> list[str]:
    """The solution's own answer lines: no failure message may give them away."""
    lines = []
    for body in cells().values():
        inside = False
        for line in body.splitlines():
            inside = (line.strip() == exercises.BEGIN) or (inside and line.strip() != exercises.END)
            if inside and " " in line.strip() and not line.strip().startswith("###"):  # not a bare key
                lines.append(line.strip())
    return lines


def write_answer(variant: dict[str, str], folder: Path) -> tuple[Path, Path]:
    """The two files as the student's notebook writes them, with this variant's lines."""
    for key, name in FILES.items():
        body = cells()[name]
        begin = body.index(exercises.BEGIN)
        indent = body[body.rindex("\n", 0, begin) + 1 : begin]
        end = body.index("\n", body.index(exercises.END)) + 1
        lines = "".join(f"{indent}{line}\n" for line in variant[key].splitlines())
        (folder / name).write_text(body[: body.rindex("\n", 0, begin) + 1] + lines + body[end:], encoding="utf-8")
    return folder / FILES["nginx"], folder / FILES["compose"]


def load(path: Path) -> dict[str, str]:
    variant: dict[str, str] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return variant


def needs(variant: dict[str, str]) -> None:
    if variant.get("needs") == "engine" and not docker.engine().running:
        unavailable("no Docker engine answers: only nginx -t itself finds this one")
    if variant.get("needs") == "compose" and room.compose_v2() is None:
        unavailable("no Compose v2: only docker compose config finds this one")


def test_there_are_enough_variants() -> None:
    assert len(sorted(VARIANTS.glob("right_*.yaml"))) >= 3 and len(sorted(VARIANTS.glob("wrong_*.yaml"))) >= 3


@pytest.mark.parametrize("path", sorted(VARIANTS.glob("wrong_*.yaml")), ids=lambda p: p.stem)
def test_a_wrong_answer_fails_with_its_message(path: Path, tmp_path: Path) -> None:
    variant = load(path)
    needs(variant)
    conf, compose = write_answer(variant, tmp_path)
    with pytest.raises(ex07.CheckFailed) as caught:
        ex07.check_server_room(conf, compose)
    message = str(caught.value)
    assert variant["expect"] in message, message
    assert "expected" in message and "found" in message and "Try:" in message, message
    assert not [line for line in answer_lines() if line in message], message


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(VARIANTS.glob("right_*.yaml")), ids=lambda p: p.stem)
def test_a_right_answer_passes_and_survives_a_crash(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest
) -> None:
    conf, compose = write_answer(load(path), tmp_path)
    engine = docker.engine().running or CI
    image = request.getfixturevalue("room_images")["PENGUINS_IMAGE"] if engine else None
    ex07.check_server_room(conf, compose, image=image)
    said = capsys.readouterr().out
    assert said.startswith("✓ ") and "re-resolves the replicas and retries" in said, said
    if engine:
        assert "nginx -t passed" in said and ": 0 failed" in said, said
    else:
        assert "nginx -t not run" in said and "crash under load not run" in said, said


def test_the_blank_exercise_is_not_done_yet(tmp_path: Path) -> None:
    for name, body in cells().items():
        blank = exercises.blank_regions(f"{exercises.WRITEFILE} {name}\n{body}")
        (tmp_path / name).write_text(blank.partition("\n")[2], encoding="utf-8")
    with pytest.raises(ex07.CheckFailed, match=r"^not done yet: "):
        ex07.check_server_room(tmp_path / FILES["nginx"], tmp_path / FILES["compose"])


@pytest.mark.parametrize(
    ("text", "expected"), [("1s", 1.0), ("500ms", 0.5), ("1m30s", 90.0), ("2", 2.0), ("1.5s", 1.5)]
)
def test_durations_read_as_nginx_and_compose_write_them(text: str, expected: float) -> None:
    assert ex07.seconds(text) == expected


def test_directives_ignore_comments_and_quoted_braces() -> None:
    conf = "http { # a comment; with 'quotes'\n  server { return 401 '{\"a\": 1}';\n set $m \"x;y\"; } }"
    assert ex07.directives(conf) == [("return", ["401", '{"a": 1}']), ("set", ["$m", "x;y"])]
