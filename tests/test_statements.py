"""Statements the course makes that were once wrong (issue 22), each held against what is true.

- "The service never unpickles" was said while `make serve-02` serves the pickle: wherever the
  course says a service never unpickles, the same paragraph names the one that does.
- "ONNX files carry no such risk" (of version mismatch) was said while notebook 03 pins the opset:
  the README names the opset and the versions the sidecar records, and the sidecar records them.
- Notebook 03 printed "620x faster" for another comparison than the README's 151x under the same
  label: the speed comparison (appendix 98) times what `make bench` times, under the bench's
  labels, and says what each side is given; no lecture notebook prints a speed-up of its own.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import nbformat

from bench import model_speed
from tests.conftest import ROOT
from workshop import stages

NOTEBOOKS = ROOT / "notebooks"
SPEED = NOTEBOOKS / "98_onnx_in_node_and_speed.ipynb"


def paragraphs() -> list[tuple[str, str]]:
    """(where, paragraph) for every paragraph of the README, the guide and every notebook's markdown."""
    texts = [("README.md", (ROOT / "README.md").read_text(encoding="utf-8"))]
    texts.append(("INSTRUCTOR.md", (NOTEBOOKS / "INSTRUCTOR.md").read_text(encoding="utf-8")))
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        texts += [(path.name, cell.source) for cell in cells if cell.cell_type == "markdown"]
    # A paragraph, or one item of a list: each bullet is a statement of its own.
    return [(where, part) for where, text in texts for part in re.split(r"\n\s*\n|\n(?=\s*- )", text)]


def test_where_the_course_says_a_service_never_unpickles_it_names_the_one_that_does() -> None:
    assert stages.service(2).backend == "sklearn-pickle", "make serve-02 serves the pickled pipeline"
    unqualified = [
        (where, part)
        for where, part in paragraphs()
        if re.search(r"\bnever unpickles\b|no service unpickles", part, re.I) and "serve-02" not in part
    ]
    assert not unqualified, f"said without naming make serve-02, which serves the pickle: {unqualified}"


def test_notebook_02b_says_which_service_serves_the_pickle() -> None:
    cells = nbformat.read(NOTEBOOKS / "02b_is_it_safe.ipynb", as_version=4).cells
    markdown = "\n".join(cell.source for cell in cells if cell.cell_type == "markdown")
    assert "`make serve-02` serves the pickle" in markdown and "load_pickle" in markdown


def test_the_readme_says_onnx_files_depend_on_versions_and_the_sidecar_records_them(artifact_dir: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "no such risk" not in readme
    onnx_risk = next(part for where, part in paragraphs() if where == "README.md" and "ONNX files carry" in part)
    assert "opset" in onnx_risk and "target_opset" in onnx_risk
    for name in ("pipeline.onnx", "mlp.onnx"):
        libraries = json.loads((artifact_dir / f"{name}.json").read_text(encoding="utf-8"))["libraries"]
        assert {"onnx", "skl2onnx", "onnxruntime"} <= set(libraries), f"{name}'s sidecar: {libraries}"


def speed_cell() -> nbformat.NotebookNode:
    cells = nbformat.read(SPEED, as_version=4).cells
    return next(cell for cell in cells if cell.cell_type == "code" and "speed.compare" in cell.source)


def test_the_speed_comparison_times_what_the_bench_times() -> None:
    """The same two calls on the same inputs, under the bench's own labels, at its batch sizes."""
    source = speed_cell().source
    call = next(
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "speed.compare"
    )
    cases = call.args[0]
    assert isinstance(cases, ast.Dict)
    compared = {
        ast.literal_eval(key): ast.unparse(value.body)
        for key, value in zip(cases.keys, cases.values, strict=True)
        if key is not None and isinstance(value, ast.Lambda)
    }
    assert compared == {
        model_speed.BASELINE: "pipeline.predict_proba(frame)",  # the unpickled pipeline, a clean DataFrame
        "ONNX Runtime: pipeline.onnx": "onnx_pipeline.predict_proba(columns)",  # OnnxBackend, clean columns
    }
    bench = (ROOT / "bench" / "model_speed.py").read_text(encoding="utf-8")
    assert "lambda: pipeline.predict_proba(frame)" in bench and "lambda: onnx_pipeline.predict_proba(batch)" in bench
    assert 'onnx_pipeline = OnnxBackend(folder / "pipeline.onnx")' in bench
    assert 'onnx_pipeline = OnnxBackend(models / "pipeline.onnx")' in source
    assert "for rows in (1, 10_000)" in source and set(model_speed.SIZES.values()) == {1, 10_000}


def test_the_speed_comparison_says_what_it_compares_and_what_the_bench_measured() -> None:
    printed = "".join(output.get("text", "") for output in speed_cell().outputs)
    assert re.search(
        r"1 row, ONNX Runtime: pipeline\.onnx \(clean columns\) vs scikit-learn pipeline \(pickle\) "
        r"\(clean DataFrame\): \d+x faster in this run; make bench measured [\d.]+× \(bench/results/bench\.md\)",
        printed,
    ), printed
    table = (ROOT / "bench" / "results" / "bench.md").read_text(encoding="utf-8")
    assert f"| {model_speed.BASELINE} | clean DataFrame |" in table
    assert "| ONNX Runtime: pipeline.onnx | clean columns |" in table


def test_no_lecture_notebook_prints_a_speed_up_of_its_own() -> None:
    for name in stages.NOTEBOOKS:
        cells = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4).cells
        printed = "".join(o.get("text", "") for cell in cells if cell.cell_type == "code" for o in cell.outputs)
        assert not re.search(r"\d+x faster", printed), f"{name} prints a speed-up; appendix 98 times it as the bench"


def test_exercise_05_states_the_pickle_path_from_where_the_service_runs(monkeypatch) -> None:
    """The service runs in the notebook's folder (as `uvicorn my_service:app` typed there), so the
    task gives exercise 04's pickle relative to it, as the starter computes and prints it."""
    from penguins.serving.paths import ENV_VAR, artifacts_dir
    from workshop.notebook import near

    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir(ROOT / "exercises")
    stated = f"`{near(artifacts_dir() / 'scratch' / 'exercise-04' / 'penguin_model.pkl').as_posix()}`"
    assert stated == "`../artifacts/scratch/exercise-04/penguin_model.pkl`"
    cells = nbformat.read(ROOT / "solutions" / "05_service.ipynb", as_version=4).cells
    assert stated in next(cell.source for cell in cells if cell.source.startswith("## Task"))
    starter = next(cell.source for cell in cells if "starter" in cell.metadata.get("tags", []))
    assert 'near(artifacts_dir() / "scratch" / "exercise-04" / "penguin_model.pkl")' in starter
