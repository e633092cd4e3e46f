"""The capstone (solutions/99_blank_folder.ipynb): every stage from a blank folder, judged by the stages' own checks.

Why it is built this way:
- No check of its own: each step is judged by the very function that judges that stage's
  exercise (ex01 ... ex06), so passing the capstone means what passing the six exercises means,
  and a fix to one check reaches both.
- All steps run every time, in order, and each gets one line: a student who runs the cell
  early sees which steps are done, which are not yet, and the reason of the first thing wrong in
  each, instead of stopping at step 1.
- A step's own output is held back while it runs and its one line printed with the others, so
  that the summary reads as a table; the build log a check clears once it passes goes with it
  (so a first `docker build`, a minute or two, shows nothing until it ends).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
SERVICE = "my_service.py"  # the module step 5 writes into the folder, as exercise 05's task names it


@dataclass(frozen=True)
class Step:
    """One step's verdict: its number and name, whether it passed, and its check's one line."""

    number: int
    name: str
    passed: bool
    line: str

    @property
    def not_done(self) -> bool:
        return not self.passed and self.line.startswith(NOT_DONE)

    def __str__(self) -> str:
        return f"{'✓' if self.passed else '✗'} {self.number} {self.name:<8} {self.line}"


def run_step(number: int, name: str, check: Callable[..., None], *args: Any) -> Step:
    """Run one stage's check; its ✓ line, or the message it failed with."""
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
    """Each step judged by its stage's check, in order, one line each; fails unless all pass.
    `folder` is the capstone's own folder, relative to the notebook's: the service's home and
    the build context."""
    steps = [
        run_step(1, "train", check_two_feature_model, model),
        run_step(2, "pickle", check_save_and_verify, save, verify, model),
        run_step(3, "ONNX", check_onnx_file, onnx_path, net),
        run_step(4, "wrapper", check_predictor, make_predictor),
        run_step(5, "FastAPI", check_service, Path(folder) / SERVICE),
        run_step(6, "Docker", check_container, build, run, folder),
    ]
    for step in steps:
        print(step)
    report(steps)


def report(steps: list[Step]) -> None:
    """Raise unless every step passed: "not done yet" while no step is wrong, only unfinished."""
    failed = [step for step in steps if not step.passed]
    if not failed:
        print(f"✓ all {len(steps)} steps pass, each judged by its stage's own check")
        return
    numbers = ", ".join(str(step.number) for step in failed)
    if all(step.not_done for step in failed):
        raise CheckFailed(f"{NOT_DONE}: step {numbers} of {len(steps)} (the lines above say what each asks for)")
    wrong = [step for step in failed if not step.not_done]
    raise CheckFailed(
        f"{len(failed)} of {len(steps)} steps do not pass yet ({numbers}); start with step {wrong[0].number}: "
        "its line above says what was expected, what was found and what to try"
    )
