"""The capstone's verdict: one line per step, and "not done yet" only while no step is wrong."""

from __future__ import annotations

import pytest

from workshop.checks import CheckFailed, capstone
from workshop.checks.common import passed, require


def done(value: object) -> None:
    require(value, "assign it")
    passed(f"{value} is right")


def wrong(value: object) -> None:
    require(value, "assign it")
    raise CheckFailed(f"expected 2, found {value}: add one")


def crashes(value: object) -> None:
    raise KeyError(value)


def test_a_step_is_its_checks_line_whatever_the_check_did() -> None:
    assert str(capstone.run_step(1, "train", done, 1)) == "✓ 1 train    1 is right"
    assert str(capstone.run_step(2, "pickle", done, ...)) == "✗ 2 pickle   not done yet: assign it"
    assert str(capstone.run_step(3, "ONNX", wrong, 1)) == "✗ 3 ONNX     expected 2, found 1: add one"
    assert str(capstone.run_step(4, "wrapper", crashes, "x")) == "✗ 4 wrapper  the check stopped with KeyError: 'x'"


def test_blank_steps_are_not_done_but_one_wrong_step_is_failing(capsys: pytest.CaptureFixture[str]) -> None:
    blank = [capstone.run_step(n, "step", done, ...) for n in (1, 2)]
    with pytest.raises(CheckFailed, match=r"^not done yet: step 1, 2 of 2 "):
        capstone.report(blank)
    mixed = [capstone.run_step(1, "step", done, 1), blank[1], capstone.run_step(3, "step", wrong, 1)]
    with pytest.raises(CheckFailed, match=r"^2 of 3 steps do not pass yet \(2, 3\); start with step 3:"):
        capstone.report(mixed)
    capstone.report([capstone.run_step(1, "step", done, 1)])
    assert capsys.readouterr().out == "✓ all 1 steps pass, each judged by its stage's own check\n"
