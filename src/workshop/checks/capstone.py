"""The capstone (solutions/99_blank_folder.ipynb): each step judged by its stage's own check (ex01 ...
ex06), every step every time, one line each: a student sees which are done and what is wrong first."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from workshop.checks.common import CheckFailed, first_line
from workshop.checks.ex01 import check_two_feature_model
from workshop.checks.ex02 import check_save_and_verify
from workshop.checks.ex03 import check_onnx_file
from workshop.checks.ex04 import check_predictor
from workshop.checks.ex05 import check_service
from workshop.checks.ex06 import check_container

if TYPE_CHECKING:
    import torch

NOT_DONE = "not done yet"


class Step(NamedTuple):
    number: int
    name: str
    passed: bool
    line: str  # its check's ✓ line, or the message it failed with

    def __str__(self) -> str:
        return f"{'✓' if self.passed else '✗'} {self.number} {self.name:<8} {self.line}"


def run_step(number: int, name: str, check: Callable[..., None], *args: Any) -> Step:
    """Run one stage's check, its own output held back."""
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            check(*args)
    except CheckFailed as failure:
        return Step(number, name, False, str(failure))
    except Exception as error:  # a check that crashes on an answer still leaves the other steps their lines
        return Step(number, name, False, f"the check stopped with {first_line(error)}")
    said = [line.removeprefix("✓ ") for line in printed.getvalue().splitlines() if line.startswith("✓ ")]
    return Step(number, name, True, said[-1] if said else "passed")


def check_capstone(
    model: Any,
    save: Callable[[Any, Path], object],
    verify: Callable[[Path], object],
    onnx_path: Path | str,
    net: torch.nn.Module,
    make_predictor: Callable[[], Any],
    build: str,
    run: str,
    folder: Path | str,
) -> None:
    """Each step by its stage's check; `folder` is the service's home (my_service.py) and the build context."""
    steps = [
        run_step(1, "train", check_two_feature_model, model),
        run_step(2, "pickle", check_save_and_verify, save, verify, model),
        run_step(3, "ONNX", check_onnx_file, onnx_path, net),
        run_step(4, "wrapper", check_predictor, make_predictor),
        run_step(5, "FastAPI", check_service, Path(folder) / "my_service.py"),
        run_step(6, "Docker", check_container, build, run, folder),
    ]
    print(*steps, sep="\n")
    report(steps)


def report(steps: list[Step]) -> None:
    """Raise unless every step passed: "not done yet" while no step is wrong, only unfinished."""
    failed = [step for step in steps if not step.passed]
    if not failed:
        print(f"✓ all {len(steps)} steps pass, each judged by its stage's own check")
        return
    numbers = ", ".join(str(step.number) for step in failed)
    wrong = [step for step in failed if not step.line.startswith(NOT_DONE)]
    if not wrong:
        raise CheckFailed(f"{NOT_DONE}: step {numbers} of {len(steps)} (the lines above say what each asks for)")
    raise CheckFailed(
        f"{len(failed)} of {len(steps)} steps do not pass yet ({numbers}); start with step {wrong[0].number}: "
        "its line above says what was expected, what was found and what to try"
    )
