"""The service's settings read PENGUINS_* themselves (no pydantic-settings): the prefix in any
case, given values over the environment, a bad value refused by name, other variables ignored."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from penguins.serving.settings import Settings


def test_a_prefixed_variable_in_any_case_sets_its_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("penguins_batch_limit", "7")
    monkeypatch.setenv("PENGUINS_Log_Level", "warning")
    settings = Settings()
    assert (settings.batch_limit, settings.log_level) == (7, "warning")


def test_a_given_value_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PENGUINS_BATCH_LIMIT", "7")
    assert Settings(batch_limit=9).batch_limit == 9


def test_variables_without_the_prefix_or_of_other_programs_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATCH_LIMIT", "5")
    monkeypatch.setenv("PENGUINS_ARTIFACTS", "/elsewhere")  # penguins.serving.paths', not a field
    assert Settings().batch_limit == 1000


def test_a_bad_value_is_refused_by_its_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PENGUINS_BATCH_LIMIT", "0")
    with pytest.raises(ValidationError, match="batch_limit"):
        Settings()
