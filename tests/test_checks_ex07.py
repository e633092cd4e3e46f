"""Exercise 07's check against students' answers: every right one passes, every wrong one fails
with its own message (what was expected, what was found, one thing to try), never the answer.

The answers are tests/exercise_variants/07/{right,wrong}_*.yaml: a whole compose file and a whole
nginx file each, written into a folder of their own beside a classroom certificate. The wrong
ones are refused before any room starts, except the one marked `needs: engine` (only `nginx -t`
finds it). The right ones pass the rules and `nginx -t`; one of them, in another style than the
solution's (the solution notebook runs the solution's room under nbval), runs its room for real:
the golden set at the domain and a replica killed under load. The parts that start containers
take the room_images fixture, so `make test-fast` (DOCKER_ENGINE=off) leaves them out; without an
engine or Compose v2 they skip and say why; under CI=true they must run. Without them, a right
answer still passes the rules and says what did not run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
import yaml

from tests.conftest import ROOT, unavailable
from workshop import docker, exercises, room
from workshop.checks import CheckFailed, ex07

VARIANTS = ROOT / "tests" / "exercise_variants" / "07"
SOLUTION = ROOT / "solutions" / "07_server_room.ipynb"
FILES = ("room/compose.yaml", "room/proxy.conf")
RUN_FOR_REAL = "right_variable_proxy_pass"


def solution_files() -> dict[str, str]:
    """The solution's %%writefile cells of the room, by the file they write."""
    cells = nbformat.read(SOLUTION, as_version=4).cells
    return {
        name: cell.source.partition("\n")[2]
        for cell in cells
        if cell.cell_type == "code"
        for name in FILES
        if cell.source.startswith(f"{exercises.WRITEFILE} {name}\n")
    }


def answer_lines() -> list[str]:
    """The solution's answer lines that say something on their own: no message may give them away."""
    return [
        line.strip()
        for body in solution_files().values()
        for line in body.splitlines()
        if " " in line.strip() and not line.strip().startswith("#") and len(line.strip()) > 12
    ]


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A classroom CA and a certificate for the domain, made once (the exercise's starter makes its own)."""
    folder = tmp_path_factory.mktemp("ex07-secrets")
    return room.make_secrets(folder, ex07.DOMAIN, say=lambda line: None).ca.parent


def write_answer(path: Path, folder: Path, tls: Path) -> tuple[Path, Path, Path]:
    """The variant's two files beside a copy of the certificate: what the student's room/ holds."""
    variant = load(path)
    (folder / "compose.yaml").write_text(variant["compose"], encoding="utf-8")
    (folder / "proxy.conf").write_text(variant["nginx"], encoding="utf-8")
    shutil.copytree(tls, folder / "tls")
    return folder / "compose.yaml", folder / "proxy.conf", folder / "tls" / "ca.crt"


def load(path: Path) -> dict[str, str]:
    variant: dict[str, str] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return variant


def test_there_are_enough_variants() -> None:
    assert len(sorted(VARIANTS.glob("right_*.yaml"))) >= 3 and len(sorted(VARIANTS.glob("wrong_*.yaml"))) >= 10


def variants(kind: str, engine: bool) -> list[Path]:
    """The right or wrong answers that need a Docker engine to judge (nginx -t), or those that do not."""
    return [p for p in sorted(VARIANTS.glob(f"{kind}_*.yaml")) if (load(p).get("needs") == "engine") == engine]


def refused(path: Path, folder: Path, tls: Path, image: str | None = None) -> None:
    """The variant fails with its own message, in the form every message has, giving nothing away."""
    compose, conf, ca = write_answer(path, folder, tls)
    with pytest.raises(CheckFailed) as caught:
        ex07.check_server_room(compose, conf, ca, image=image)
    message = str(caught.value)
    assert load(path)["expect"] in message, message
    assert "expected" in message and "found" in message and "Try:" in message, message
    assert not [line for line in answer_lines() if line in message], message


@pytest.mark.parametrize("path", variants("wrong", engine=False), ids=lambda p: p.stem)
def test_a_wrong_answer_fails_with_its_message_before_any_room(path: Path, tmp_path: Path, tls: Path) -> None:
    if load(path).get("needs") == "compose" and room.compose_v2() is None:
        unavailable("no Compose v2: only `docker compose config` finds this one")
    refused(path, tmp_path, tls)


@pytest.mark.parametrize("path", variants("wrong", engine=True), ids=lambda p: p.stem)
def test_a_wrong_answer_only_nginx_t_finds_fails_there(
    path: Path, tmp_path: Path, tls: Path, room_images: dict[str, str]
) -> None:
    refused(path, tmp_path, tls, image=room_images["PENGUINS_IMAGE"])


@pytest.mark.parametrize("path", variants("right", engine=False), ids=lambda p: p.stem)
def test_a_right_answer_keeps_the_rules_and_says_what_did_not_run_without_an_engine(
    path: Path, tmp_path: Path, tls: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(docker, "engine", lambda: docker.Engine(None, "no engine in this test"))
    ex07.check_server_room(*write_answer(path, tmp_path, tls))
    said = capsys.readouterr().out
    assert said.startswith("✓ ") and "the files keep the lesson's rules" in said, said
    assert "nginx -t and the room not run (no engine in this test)" in said, said


@pytest.mark.parametrize("path", variants("right", engine=False), ids=lambda p: p.stem)
def test_a_right_answer_passes_nginx_t(
    path: Path, tmp_path: Path, tls: Path, capsys: pytest.CaptureFixture[str], room_images: dict[str, str]
) -> None:
    ex07.check_server_room(*write_answer(path, tmp_path, tls), image=room_images["PENGUINS_IMAGE"], start=False)
    said = capsys.readouterr().out
    assert said.startswith("✓ ") and "nginx -t passed" in said and "golden" not in said, said


@pytest.mark.slow
def test_a_right_answer_in_another_style_survives_a_killed_replica(
    tmp_path: Path, tls: Path, capsys: pytest.CaptureFixture[str], room_images: dict[str, str]
) -> None:
    ex07.check_server_room(
        *write_answer(VARIANTS / f"{RUN_FOR_REAL}.yaml", tmp_path, tls), image=room_images["PENGUINS_IMAGE"]
    )
    said = capsys.readouterr().out
    assert "golden records at the domain" in said and "a replica killed, 0 failed" in said, said


def test_the_blank_exercise_is_not_done_yet(tmp_path: Path, tls: Path) -> None:
    paths = []
    for name, body in solution_files().items():
        blank = exercises.blank_regions(f"{exercises.WRITEFILE} {name}\n{body}").partition("\n")[2]
        paths.append(tmp_path / Path(name).name)
        paths[-1].write_text(blank, encoding="utf-8")
    with pytest.raises(CheckFailed, match=r"^not done yet: "):
        ex07.check_server_room(*paths, tls / "ca.crt")


@pytest.mark.parametrize(
    ("text", "expected"), [("1s", 1.0), ("500ms", 0.5), ("1m30s", 90.0), ("2", 2.0), ("soon", float("inf"))]
)
def test_durations_read_as_nginx_and_compose_write_them(text: str, expected: float) -> None:
    assert ex07.seconds(text) == expected


def test_the_nginx_reader_nests_blocks_and_skips_comments_and_quoted_braces() -> None:
    conf = ex07.parse_nginx('http { # a comment; {\n  server { return 401 \'{"a": 1}\';\n set $m "x;y"; } }')
    (http,) = conf.block or []
    (server,) = http.block or []
    assert [(d.name, d.args) for d in server.block or []] == [("return", ["401", '{"a": 1}']), ("set", ["$m", "x;y"])]
    with pytest.raises(ValueError):
        ex07.parse_nginx("server { listen 443;")
