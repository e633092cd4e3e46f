"""requirements/*.txt are generated from pyproject.toml by pip-compile (`make lock`), offline checks.

Compiling needs the package index, so no test compiles. Instead: every requirement pyproject.toml
declares has a pin in the compiled file that must carry it, inside the declared range and with
its platform marker; the pins pip-compile marked as pyproject's own are exactly those; and each
file's header names the very command `make lock` runs. Change a dependency without running
`make lock`, and one of these fails. torch stays out of the compiled files (on Linux PyPI's torch
pulls the CUDA packages) and keeps its own pin, the Makefile's, which pyproject.toml repeats.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bench import pins
from tests.conftest import ROOT

REQUIREMENTS = ROOT / "requirements"
TORCH = "torch"
HASHED = ("serve.txt", "compose.txt")  # installed with --require-hashes: the container, .venv-serve, CI's compose


def declared(pyproject: str) -> dict[str, list[Requirement]]:
    """pyproject's requirements by the compiled file that must pin them."""
    project = tomllib.loads(pyproject)["project"]
    serving = [Requirement(text) for text in project["dependencies"]]
    extras = [Requirement(text) for extra in project["optional-dependencies"].values() for text in extra]
    return {pins.SERVE: serving, pins.DEV: serving + extras}


def unpinned(pyproject: str, root: Path) -> list[str]:
    """Each requirement without a pin that fits it, as `file: what is wrong`; torch is not pinned there."""
    found = []
    for file, requirements in declared(pyproject).items():
        pinned = pins.read(root / file)
        direct = {canonicalize_name(r.name) for r in requirements}
        for requirement in requirements:
            name = canonicalize_name(requirement.name)
            pin = pinned.get(name)
            if name == TORCH:
                if pin:
                    found.append(f"{file}: pins torch, which make setup installs on its own (the CPU build)")
            elif pin is None:
                found.append(f"{file}: no pin for {requirement}")
            elif not requirement.specifier.contains(pin.version, prereleases=True):
                found.append(f"{file}: {pin.line} is outside {requirement}")
            elif str(requirement.marker or "") != pin.marker:
                found.append(f"{file}: {pin.line} lost the marker of {requirement}")
        stale = sorted(name for name, pin in pinned.items() if pins.DIRECT in pin.via and name not in direct)
        found += [f"{file}: {name} is pinned as pyproject's, which no longer asks for it" for name in stale]
    return found


def lock_commands() -> list[str]:
    """The pip-compile commands `make lock` runs, as pip-compile writes them into a header."""
    dry = subprocess.run(["make", "--dry-run", "--always-make", "lock"], capture_output=True, text=True, cwd=ROOT)
    assert dry.returncode == 0, dry.stderr
    return [
        re.sub(r"^\S*pip-compile", "pip-compile", line) for line in dry.stdout.splitlines() if "pip-compile" in line
    ]


def test_every_requirement_of_pyproject_has_a_pin_in_its_range() -> None:
    problems = unpinned((ROOT / "pyproject.toml").read_text(encoding="utf-8"), ROOT)
    assert not problems, "run `make lock`:\n" + "\n".join(problems)


def test_a_dependency_added_without_make_lock_is_caught() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    added = text.replace('"requests>=2.31",', '"requests>=2.31",\n    "tenacity>=8",', 1)
    narrowed = text.replace('"fastapi>=0.115"', '"fastapi>=0.200"', 1)
    dropped = text.replace('    "psutil>=5.9",', "", 1)
    assert added != text != narrowed and dropped != text
    assert unpinned(added, ROOT) == [f"{pins.SERVE}: no pin for tenacity>=8", f"{pins.DEV}: no pin for tenacity>=8"]
    assert f"{pins.SERVE}: fastapi==0.165.0 is outside fastapi>=0.200" in unpinned(narrowed, ROOT)
    assert f"{pins.SERVE}: psutil is pinned as pyproject's, which no longer asks for it" in unpinned(dropped, ROOT)


def test_each_file_says_the_command_that_made_it_and_make_lock_runs_it() -> None:
    commands = lock_commands()
    files = sorted(REQUIREMENTS.glob("*.txt"))
    assert [pins.command(path) for path in files] == sorted(
        commands,
        key=lambda line: re.search(r"--output-file=(\S+)", line).group(1),  # type: ignore[union-attr]
    ), "a header no longer matches `make lock` (or a file is not generated): run `make lock`"


def test_a_header_from_another_command_is_caught(tmp_path: Path) -> None:
    text = (REQUIREMENTS / "serve.txt").read_text(encoding="utf-8").replace(" --generate-hashes", "", 1)
    (tmp_path / "serve.txt").write_text(text, encoding="utf-8")
    assert pins.command(tmp_path / "serve.txt") not in lock_commands()
    (tmp_path / "by-hand.txt").write_text("fastapi==0.165.0\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no pip-compile header"):
        pins.command(tmp_path / "by-hand.txt")


@pytest.mark.parametrize("name", HASHED)
def test_what_is_installed_with_require_hashes_has_a_hash_for_every_pin(name: str) -> None:
    pinned = pins.read(REQUIREMENTS / name)
    assert pinned and all(pin.hashes for pin in pinned.values())


def test_the_container_runs_the_versions_the_tests_ran_with() -> None:
    serve, dev = pins.read(REQUIREMENTS / "serve.txt"), pins.read(REQUIREMENTS / "dev.txt")
    assert {name: pin.version for name, pin in serve.items()} == {name: dev[name].version for name in serve}


def test_torch_keeps_its_own_pin_and_no_cuda_package_is_pinned() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    torch_pin = re.search(r"^TORCH\s*:=\s*(\S+)", makefile, re.M)
    assert torch_pin, "the Makefile pins torch (TORCH := torch==...)"
    train = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert torch_pin.group(1) in train["train"], "pyproject's train extra pins the torch make setup installs"
    compiled = " ".join(pins.read(REQUIREMENTS / "dev.txt"))
    assert not re.search(r"\b(torch|triton|nvidia-\S+|cuda-\S+)\b", compiled), (
        "compiled against PyPI's CUDA torch: compile where pip finds the CPU build (make setup installs it)"
    )
