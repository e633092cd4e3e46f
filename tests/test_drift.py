"""The drift check: held-out data looks like training; the same penguins 2 kg heavier do not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from penguins import cli
from penguins.monitoring import drift
from penguins.serving.artifacts import read_metadata
from penguins.serving.contract import FEATURES
from penguins.training import data


@pytest.fixture(scope="module")
def reference(artifact_dir: Path) -> dict[str, Any]:
    """What the trained model's sidecar carries: the training split's clean features."""
    meta = read_metadata(artifact_dir / "mlp.onnx")
    assert meta.reference is not None, "build.train writes the reference into every sidecar"
    return meta.reference


@pytest.fixture(scope="module")
def held_out() -> list[dict[str, Any]]:
    """The test split as raw records: penguins the model never saw, from the same population."""
    _, test_rows = data.split(data.raw_as_contract(data.load_penguins_raw()))
    return data.to_records(test_rows)


def heavier(records: list[dict[str, Any]], grams: float) -> list[dict[str, Any]]:
    return [{**r, "body_mass_g": r["body_mass_g"] + grams if r["body_mass_g"] is not None else None} for r in records]


def test_the_reference_is_the_training_split(reference: dict[str, Any]) -> None:
    train_rows, _ = data.split(data.raw_as_contract(data.load_penguins_raw()))
    masses = train_rows["body_mass_g"].dropna()
    assert len(reference["numeric"]["body_mass_g"]) == len(masses)
    assert sorted(reference["numeric"]["body_mass_g"]) == sorted(masses.astype(float).tolist())
    assert set(reference["categorical"]["island"]) == {"Biscoe", "Dream", "Torgersen"}
    assert sum(reference["categorical"]["island"].values()) == len(train_rows)


def test_held_out_data_is_not_flagged(reference: dict[str, Any], held_out: list[dict[str, Any]]) -> None:
    report = drift.check_records(reference, held_out)
    assert report.drifted == [], report.describe()
    assert [f.feature for f in report.features] == list(FEATURES)
    assert all(f.threshold == pytest.approx(0.01 / 6) for f in report.features)


def test_two_kilograms_more_is_flagged_on_body_mass_only(
    reference: dict[str, Any], held_out: list[dict[str, Any]]
) -> None:
    report = drift.check_records(reference, heavier(held_out, 2000))
    assert report.drifted == ["body_mass_g"], report.describe()
    mass = next(f for f in report.features if f.feature == "body_mass_g")
    assert mass.test == "KS" and mass.statistic > 0.5 and mass.p_value < 1e-20


def test_a_changed_mix_of_islands_is_flagged(reference: dict[str, Any], held_out: list[dict[str, Any]]) -> None:
    only_biscoe = [r for r in held_out if r["island"] == "Biscoe"]
    report = drift.check_records(reference, only_biscoe)
    assert "island" in report.drifted
    island = next(f for f in report.features if f.feature == "island")
    assert island.test == "chi2"


def test_records_the_service_would_refuse_are_left_out(
    reference: dict[str, Any], held_out: list[dict[str, Any]]
) -> None:
    report = drift.check_records(reference, [*held_out, {"bill_length_mm": "forty"}])
    assert report.records == len(held_out)


def test_the_report_reads_as_one_line_per_feature(reference: dict[str, Any], held_out: list[dict[str, Any]]) -> None:
    lines = drift.check_records(reference, heavier(held_out, 2000)).describe().splitlines()
    assert lines[0].startswith(f"{len(held_out)} recent records")
    assert len(lines) == 2 + len(FEATURES)
    assert "body_mass_g" in lines[-1] and "DRIFTED" in next(line for line in lines if "body_mass_g" in line)


def test_recent_records_come_from_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "recent.jsonl"
    path.write_text('{"island": "Dream"}\n\n{"island": "Biscoe", "bill_length_mm": "46,5"}\n')
    assert drift.read_records(path) == [{"island": "Dream"}, {"island": "Biscoe", "bill_length_mm": "46,5"}]
    path.write_text('{"island": "Dream"}\n[1, 2]\n')
    with pytest.raises(ValueError, match=r"line 2: a record is a JSON object, got list"):
        drift.read_records(path)
    path.write_text("{oops\n")
    with pytest.raises(ValueError, match=r"line 1: not JSON"):
        drift.read_records(path)


def test_the_reference_survives_the_sidecar(reference: dict[str, Any], artifact_dir: Path) -> None:
    on_disk = json.loads((artifact_dir / "mlp.onnx.json").read_text())
    assert on_disk["reference"] == reference


def station_lines(path: Path, records: list[dict[str, Any]]) -> Path:
    """The records as the room's station keeps them: one {"time", "request_id", "record"} per line."""
    lines = [{"time": "2026-12-01T10:00:00Z", "request_id": f"r{i}", "record": r} for i, r in enumerate(records)]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def test_the_station_lines_give_back_the_records(tmp_path: Path, held_out: list[dict[str, Any]]) -> None:
    assert drift.read_records(station_lines(tmp_path / "recent.jsonl", held_out)) == held_out


def test_the_cli_passes_the_held_out_split(
    tmp_path: Path, artifact_dir: Path, held_out: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    recent = station_lines(tmp_path / "recent.jsonl", held_out)
    assert cli.main(["drift", str(recent), "--artifacts", str(artifact_dir)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{len(held_out)} recent records") and out.rstrip().endswith("no feature drifted"), out
    assert "DRIFTED" not in out


def test_the_cli_flags_two_kilograms_more_on_body_mass_only(
    tmp_path: Path, artifact_dir: Path, held_out: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    recent = station_lines(tmp_path / "recent.jsonl", heavier(held_out, 2000))
    assert cli.main(["drift", str(recent), "--artifacts", str(artifact_dir)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "drifted: body_mass_g"
    assert [line.split()[0] for line in lines if "DRIFTED" in line] == ["body_mass_g"]


def test_the_cli_names_a_broken_file(tmp_path: Path, artifact_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recent = tmp_path / "recent.jsonl"
    recent.write_text('{"island": "Dream"}\n{oops\n', encoding="utf-8")
    assert cli.main(["drift", str(recent), "--artifacts", str(artifact_dir)]) == 2
    assert "recent.jsonl, line 2: not JSON" in capsys.readouterr().err
