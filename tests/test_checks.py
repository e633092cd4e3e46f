"""The exercise checks: a blank is "not done yet", a wrong answer fails with its hint, a right one passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from workshop import checks
from workshop.checks import CheckFailed


def fails(message: str) -> pytest.RaisesExc[CheckFailed]:
    return pytest.raises(CheckFailed, match=message)


def test_check_failed_is_an_assertion_shown_in_one_line() -> None:
    error = CheckFailed("not done yet: x")
    assert isinstance(error, AssertionError)
    assert error._render_traceback_() == ["\x1b[31mCheckFailed\x1b[0m: not done yet: x"]


# 05 · the service


def test_the_service_check_wants_the_file_first(tmp_path: Path) -> None:
    with fails(r"^not done yet: expected the file .*my_service\.py .*run the %%writefile cell"):
        checks.check_service(tmp_path / "my_service.py")


@pytest.mark.slow
def test_a_service_that_cannot_start_is_reported_with_its_last_log_line(tmp_path: Path, artifact_dir: Path) -> None:
    """The rest of the check's verdicts are proved by tests/exercise_variants/ex05."""
    (tmp_path / "my_service.py").write_text("from fastapi import FastAPI\n\nservice = FastAPI()\n", encoding="utf-8")
    with fails(
        r'^expected my_service.py to start a server, .*its log ends: ERROR: +Error loading ASGI app\. Attribute "app"'
    ):
        checks.check_service(tmp_path / "my_service.py")
