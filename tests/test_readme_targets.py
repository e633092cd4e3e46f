"""Every target `make help` lists has a row in the README's "Make targets" table, and where the
target's recipe is a `python -m ...` call, the row gives that form (Windows has no make)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.conftest import ROOT

MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
# `$(PY) -m workshop serve $*` -> ("workshop", " serve"): the module and its command word, if any.
PYTHON_CALL = re.compile(r"\$\(PY\) -m ([\w.]+)((?: [a-z0-9][\w-]*)?)")


def _help_targets() -> list[str]:
    if shutil.which("make") is None:
        pytest.skip("no make here")
    shown = subprocess.run(["make", "help"], capture_output=True, text=True, timeout=60, cwd=ROOT, check=True)
    return re.findall(r"^  make (\S+)\s", shown.stdout, re.M)


def _readme_rows(readme: str) -> dict[str, str]:
    """The "Make targets" table: target -> its "without make" cell."""
    section = readme.split("## Make targets", 1)[1].split("\n## ", 1)[0]
    return {m[0]: m[1].strip() for m in re.findall(r"^\| `make ([\w-]+)[^`]*` \|.*?\|(.*)\|$", section, re.M)}


def _recipe(target: str, makefile: str) -> str:
    """The recipe lines of `target`, or of the pattern rule it matches (`$*` filled in)."""
    for rule, stem in (
        (target, ""),
        *((p + "%", target[len(p) :]) for p in re.findall(r"^([\w-]+)%:", makefile, re.M) if target.startswith(p)),
    ):
        found = re.search(rf"^{re.escape(rule)}:.*\n((?:\t.*\n)*)", makefile, re.M)
        if found:
            return found.group(1).replace("$*", stem)
    raise AssertionError(f"no rule for {target} in the Makefile")


def missing_forms(targets: list[str], makefile: str, readme: str) -> list[str]:
    """What the README lacks: a target without a row, or a row without the recipe's python -m form."""
    rows = _readme_rows(readme)
    problems = []
    for target in targets:
        if target not in rows:
            problems.append(f"make {target}: no row")
            continue
        call = PYTHON_CALL.search(_recipe(target, makefile))
        if call and f"python -m {call[1]}{call[2]}" not in rows[target]:
            problems.append(f"make {target}: the row lacks `python -m {call[1]}{call[2]}`")
    return problems


def test_every_make_help_target_has_its_row_and_python_form() -> None:
    targets = _help_targets()
    assert {"setup", "prep", "lint", "serve-04", "docker-run", "slides", "help"} <= set(targets)
    assert missing_forms(targets, MAKEFILE, README) == []


def test_a_missing_row_or_form_is_named() -> None:
    without_prep = re.sub(r"^\| `make prep` .*\n", "", README, flags=re.M)
    without_form = README.replace("`python -m workshop serve 03`", "`make it so`")
    assert missing_forms(["prep"], MAKEFILE, without_prep) == ["make prep: no row"]
    assert missing_forms(["serve-03"], MAKEFILE, without_form) == [
        "make serve-03: the row lacks `python -m workshop serve`"
    ]
