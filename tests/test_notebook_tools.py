"""The workshop helpers the lecture notebooks call, and `make lab`, `make notebooks`, `make serve-env`."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from contextlib import redirect_stdout
from pathlib import Path

import nbformat
import numpy as np
import pytest

from penguins import ports
from penguins.serving.examples import CLEAN_RECORD, MESSY_RECORDS
from penguins.serving.paths import ENV_VAR
from scripts import execute, glossary
from tests.conftest import ROOT
from workshop import (
    fresh,
    lab,
    notebook,
    onnx_graph,
    other_runtime,
    plots,
    serve_env,
    speed,
    stages,
)
from workshop.server import stop_process

# --- glossary -------------------------------------------------------------------------------


def test_glossary_has_terms_for_every_stage_and_one_row_each() -> None:
    assert {term.stage for term in glossary.GLOSSARY} == {stage.number for stage in stages.STAGES}
    rows = glossary.markdown_table().splitlines()
    assert len(rows) == 2 + len(glossary.GLOSSARY)
    assert len({term.polish for term in glossary.GLOSSARY}) == len(glossary.GLOSSARY)
    assert "| obraz | image (what a container is started from) | 06 |" in rows


def test_stage_line_lists_its_terms_and_links_to_the_table() -> None:
    line = glossary.stage_line(2)
    assert "*zapisać model* = save (serialise) the model" in line
    assert glossary.FULL_GLOSSARY_LINK in line
    with pytest.raises(ValueError, match="no terms for stage 10"):
        glossary.stage_line(10)
    assert "sonda gotowości" in glossary.stage_line(7, "07c_kubernetes") and "sonda" not in glossary.stage_line(7)


def _stale(source: str) -> str:
    """A markdown cell as an older glossary left it: another top line, a table of one row."""
    lines = [
        f"{glossary.LINE_START} *old* = old" if line.startswith(glossary.LINE_START) else line
        for line in source.split("\n")
        if not line.startswith("| ") or line == glossary.TABLE_HEADER
    ]
    return "\n".join(
        f"{line}\n|---|---|---|\n| old | old | 00 |" if line == glossary.TABLE_HEADER else line for line in lines
    )


def test_glossary_rewrites_the_notebooks_markdown_only(tmp_path: Path) -> None:
    names = ("04_wrapper_class", "06_container")
    for name in names:
        nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = _stale(cell.source)
        nbformat.write(nb, tmp_path / f"{name}.ipynb")
    before = nbformat.read(tmp_path / "04_wrapper_class.ipynb", as_version=4)
    assert glossary.stage_line(4) not in before.cells[0].source
    assert sorted(path.stem for path in glossary.write_notebooks(tmp_path)) == list(names)
    wrapper, container = (nbformat.read(tmp_path / f"{name}.ipynb", as_version=4) for name in names)
    assert glossary.stage_line(6) in container.cells[0].source
    assert glossary.stage_line(4) in wrapper.cells[0].source
    assert [c.get("outputs") for c in wrapper.cells] == [c.get("outputs") for c in before.cells]
    assert [c.source for c in wrapper.cells[1:]] == [c.source for c in before.cells[1:]]
    assert glossary.write_notebooks(tmp_path) == []


# --- notebook: environment check and paths --------------------------------------------------


def test_check_environment_prints_relative_paths_only() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        notebook.check_environment(ROOT / "notebooks")
    text = out.getvalue()
    assert "penguins:  0.1.0 from src/penguins, this checkout" in text
    assert str(ROOT) not in text and "Python 3.11" in text


def test_check_environment_refuses_a_notebook_from_another_checkout(tmp_path: Path) -> None:
    with pytest.raises(notebook.WrongEnvironment, match=r"another checkout.*make setup"):
        notebook.check_environment(tmp_path)


def test_shown_never_prints_an_absolute_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert notebook.shown(ROOT / "artifacts" / "mlp.onnx") == "artifacts/mlp.onnx"
    assert notebook.shown(ROOT) == "."
    assert notebook.shown(tmp_path / "x.pkl").startswith("<temp>/")
    assert notebook.shown("/definitely/elsewhere/model.onnx") == ".../model.onnx"
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert notebook.shown(tmp_path / "mlp.onnx") == f"${ENV_VAR}/mlp.onnx"


def test_scratch_folder_is_empty_relative_and_inside_the_artifacts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "models"))
    monkeypatch.chdir(ROOT / "notebooks")
    folder = notebook.scratch_folder("demo")
    (folder / "left-over").write_text("x")
    folder = notebook.scratch_folder("demo")
    assert not folder.is_absolute() and list(folder.iterdir()) == []
    assert folder.resolve() == (tmp_path / "models" / "scratch" / "demo").resolve()


def test_tidy_output_is_harmless_outside_ipython() -> None:
    notebook.tidy_output()


def test_tidy_output_keeps_ipythons_full_tracebacks() -> None:
    """A typo in a live demo must show where it happened, not one line with no location."""
    import matplotlib
    from IPython.core.interactiveshell import InteractiveShell

    backend = matplotlib.get_backend()
    shell = InteractiveShell.instance()
    shell.enable_gui = lambda gui=None: None  # the base shell has no event loop to hook into
    try:
        before = shell.InteractiveTB.mode
        notebook.tidy_output()
        assert shell.InteractiveTB.mode == before == "Context"
    finally:
        InteractiveShell.clear_instance()
        matplotlib.use(backend)


# --- fresh: another process -----------------------------------------------------------------


def test_fresh_process_does_not_see_this_one() -> None:
    model = object()  # noqa: F841 - the point: the other process cannot see it
    result = fresh.run("print(model)")
    assert not result.ok and result.error == "NameError: name 'model' is not defined"
    assert str(result) == "exit code 1: NameError: name 'model' is not defined"


def test_fresh_process_reads_stdin_and_inherits_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PENGUINS_TEST_MARK", "inherited")
    result = fresh.run("import os, sys; print(sys.stdin.read(), os.environ['PENGUINS_TEST_MARK'])", stdin="hello")
    assert result.ok and str(result) == "hello inherited"


# --- speed and plots -------------------------------------------------------------------------


def test_median_seconds_times_enough_calls_within_budget() -> None:
    calls = []
    started = time.perf_counter()
    seconds = speed.median_seconds(lambda: calls.append(1), budget=0.05)
    assert time.perf_counter() - started < 1.0
    assert len(calls) >= speed.MIN_RUNS + 1 and 0 < seconds < 0.01
    assert list(speed.compare({"b": lambda: None, "a": lambda: None}, budget=0.01)) == ["b", "a"]


@pytest.mark.parametrize(
    ("seconds", "text"), [(3.55e-3, "3.55 ms"), (2.1e-5, "21 µs"), (1.5, "1.5 s"), (5e-8, "50 ns")]
)
def test_readable_picks_the_unit(seconds: float, text: str) -> None:
    assert speed.readable(seconds) == text


def test_speed_bars_label_every_bar_on_a_log_scale() -> None:
    timings = {"1 row": {"a": 1e-3, "b": 2e-5}, "1000 rows": {"a": 3e-3, "b": 2e-4}}
    fig = plots.speed_bars(timings)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    labels = {text.get_text() for text in ax.texts}
    assert {"1 ms", "20 µs", "3 ms", "200 µs"} <= labels
    with pytest.raises(ValueError, match="same cases"):
        plots.speed_bars({"1 row": {"a": 1.0}, "2 rows": {"b": 1.0}})


def test_species_scatter_counts_the_penguins_it_leaves_out() -> None:
    from penguins.training import data

    table = data.raw_as_contract(data.load_penguins_raw())
    fig = plots.species_scatter(table, "bill_length_mm", "flipper_length_mm")
    ax = fig.axes[0]
    assert ax.get_title() == "342 penguins (2 without bill_length_mm or flipper_length_mm left out)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Adelie (151)", "Chinstrap (68)", "Gentoo (123)"]


def test_describe_shows_typed_inputs_operators_and_outputs(artifact_dir: Path) -> None:
    import onnx

    text = onnx_graph.describe(onnx.load(artifact_dir / "pipeline.onnx"))
    assert "island: string[?, 1]" in text and "bill_length_mm: float[?, 1]" in text
    assert "LinearClassifier" in text and "probabilities: float" in text


# --- make notebooks ---------------------------------------------------------------------------


def test_normalise_drops_volatile_metadata_and_names_the_project_kernel_keeping_its_language_info() -> None:
    cell = nbformat.v4.new_code_cell("1")
    cell.metadata["execution"] = {"iopub.status.busy": "2026-11-25T12:00:00"}
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    execute.normalise(nb)
    assert "execution" not in nb.cells[0].metadata
    assert nb.metadata["kernelspec"] == execute.KERNELSPEC
    # as the kernel reports it: JupyterLab marks a notebook modified when they differ
    assert nb.metadata["language_info"] == {"name": "python", "version": "3.11.7"}


def test_lecture_notebooks_come_in_stage_order() -> None:
    names = [path.name for path in execute.lecture_notebooks(ROOT / "notebooks")]
    assert names == sorted(names) and names[0] == "00_big_picture.ipynb"


def test_execute_runs_a_notebook_in_place_and_allows_only_tagged_errors(tmp_path: Path) -> None:
    ok = nbformat.v4.new_code_cell("1 / 0")
    ok.metadata["tags"] = ["raises-exception"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import os; print(os.getcwd())"), ok])
    path = tmp_path / "demo.ipynb"
    nbformat.write(nb, path)
    execute.execute(path)
    done = nbformat.read(path, as_version=4)
    assert done.cells[0].outputs[0].text.strip() == str(tmp_path)
    assert done.cells[1].outputs[0].ename == "ZeroDivisionError"
    done.cells[1].metadata["tags"] = []
    nbformat.write(done, path)
    with pytest.raises(Exception, match="ZeroDivisionError"):
        execute.execute(path)


# --- make serve-env and the other runtime -----------------------------------------------------


def test_serve_env_is_stale_when_requirements_change(tmp_path: Path) -> None:
    (tmp_path / "requirements").mkdir()
    (tmp_path / serve_env.REQUIREMENTS).write_text("numpy==2.4.6\n")
    (tmp_path / serve_env.PROJECT).write_text('[project]\ndependencies = ["numpy"]\n')
    before = serve_env.fingerprint(tmp_path)
    assert not serve_env.is_ready(tmp_path)
    serve_env.python(tmp_path).parent.mkdir(parents=True)
    serve_env.python(tmp_path).write_text("")
    (serve_env.folder(tmp_path) / serve_env.STAMP).write_text(before)
    assert serve_env.is_ready(tmp_path)
    (tmp_path / serve_env.PROJECT).write_text('[project]\ndependencies = ["numpy", "fastapi-offline"]\n')
    assert serve_env.fingerprint(tmp_path) != before and not serve_env.is_ready(tmp_path)
    (serve_env.folder(tmp_path) / serve_env.STAMP).write_text(serve_env.fingerprint(tmp_path))
    assert serve_env.is_ready(tmp_path)
    (tmp_path / serve_env.REQUIREMENTS).write_text("numpy==2.4.6\nonnxruntime==1.32.0\n")
    assert not serve_env.is_ready(tmp_path)


@pytest.mark.parametrize("uv", ["/opt/venv/bin/uv", None], ids=["uv beside python", "pip without it"])
def test_serve_env_installs_the_pins_with_uv_where_make_setup_put_it_else_pip(
    uv: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Which installer builds .venv-serve (the environment itself is built for real in CI by make serve-env)."""
    (tmp_path / "requirements").mkdir()
    (tmp_path / serve_env.REQUIREMENTS).write_text("numpy==2.4.6\n")
    (tmp_path / serve_env.PROJECT).write_text("[project]\n")
    created, ran = [], []
    monkeypatch.setattr(serve_env, "project_root", lambda: tmp_path)
    monkeypatch.setattr(serve_env.shutil, "which", lambda name, path=None: uv if name == "uv" else None)

    def create(builder: serve_env.venv.EnvBuilder, where: Path) -> None:
        created.append(builder.with_pip)
        where.mkdir(parents=True)

    monkeypatch.setattr(serve_env.venv.EnvBuilder, "create", create)
    monkeypatch.setattr(serve_env.subprocess, "run", lambda command, **options: ran.append(command))
    assert serve_env.ensure(say=lambda line: None) == serve_env.python(tmp_path)
    python = str(serve_env.python(tmp_path))
    first = [uv, "pip", "install", "--python", python, "--quiet"] if uv else [python, "-m", "pip", "install", "--quiet"]
    assert created == [uv is None]  # pip only inside the environment that needs it
    assert [command[: len(first)] for command in ran] == [first, first]
    assert ran[0][-3:] == ["--require-hashes", "-r", str(tmp_path / serve_env.REQUIREMENTS)]
    assert ran[1][-3:] == ["--no-deps", "-e", str(tmp_path)]
    assert serve_env.is_ready(tmp_path) is False  # no interpreter was made here: the stamp alone does not count


@pytest.mark.slow
def test_serve_env_has_the_serving_path_and_no_training_stack() -> None:
    python = serve_env.ensure(say=lambda line: None)
    probe = (
        "import importlib.util, json, penguins.serving.predictor, penguins.serving.cleaning\n"
        "print(json.dumps({n: importlib.util.find_spec(n) is not None for n in "
        "('torch', 'sklearn', 'pandas', 'onnxruntime', 'numpy')}))"
    )
    result = fresh.run(probe, python=python)
    assert result.ok, result.stderr
    assert json.loads(result.stdout) == {
        "torch": False,
        "sklearn": False,
        "pandas": False,
        "onnxruntime": True,
        "numpy": True,
    }


def test_other_runtime_never_builds_and_names_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    def must_not_build(*_: object, **__: object) -> Path:
        raise AssertionError("a notebook cell must not install anything")

    monkeypatch.setattr(serve_env, "is_ready", lambda root=None: False)
    monkeypatch.setattr(serve_env, "ensure", must_not_build)
    with pytest.raises(other_runtime.NotBuilt, match="make serve-env"):
        other_runtime.ask(["mlp.onnx"], [CLEAN_RECORD])


@pytest.mark.slow
def test_other_runtime_answers_like_this_environment(artifact_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from penguins.serving.cleaning import clean_records
    from penguins.serving.predictor import OnnxBackend

    serve_env.ensure(say=lambda line: None)  # what `make serve-env` does before `make test`
    monkeypatch.setenv(ENV_VAR, str(artifact_dir))
    records = [CLEAN_RECORD, *MESSY_RECORDS]
    answer = other_runtime.ask(["mlp.onnx"], records)
    assert answer.importable["torch"] is False and answer.importable["onnxruntime"] is True
    here = OnnxBackend(artifact_dir / "mlp.onnx").predict_proba(clean_records(records))
    np.testing.assert_allclose(answer.probabilities["mlp.onnx"], here, atol=1e-7)


# --- make lab -----------------------------------------------------------------------------------


def test_lab_listens_on_loopback_only_and_allows_root_only_as_root() -> None:
    cmd = lab.command(8899, token="t")
    assert "--ServerApp.ip=127.0.0.1" in cmd and "--ServerApp.port=8899" in cmd
    assert f"--ServerApp.root_dir={ROOT}" in cmd and "--LabApp.default_url=/lab/tree/notebooks" in cmd
    assert ("--allow-root" in cmd) == (hasattr(os, "geteuid") and os.geteuid() == 0)


def test_makefile_runs_the_notebooks_in_the_one_pytest_call() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    test_recipe = re.search(r"^test:.*\n\t(.*)$", makefile, re.M).group(1)
    assert "-m pytest" in test_recipe and " notebooks " in f"{test_recipe} " and "--nbval-lax" in test_recipe
    assert re.search(r"^lab:.*\n\t\$\(PY\) -m workshop lab", makefile, re.M)


def _get(url: str) -> tuple[int, dict]:
    with urllib.request.urlopen(url, timeout=2) as response:
        return response.status, json.loads(response.read())


@pytest.mark.slow
def test_make_lab_starts_jupyterlab_on_loopback_with_the_project_kernel(tmp_path: Path) -> None:
    port, token = ports.free_port(), "penguins-test-token"
    jupyter_dirs = {
        name: str(tmp_path / name.lower()) for name in ("JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR")
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "workshop", "lab", "--port", str(port), "--token", token],
        cwd=ROOT,
        env={**os.environ, **jupyter_dirs},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _ = _get(f"{base}/api/status?token={token}")
                break
            except OSError:
                assert server.poll() is None, "JupyterLab exited"
                assert time.monotonic() < deadline, "JupyterLab did not answer within 30 s"
                time.sleep(0.25)
        assert status == 200
        _, contents = _get(f"{base}/api/contents?token={token}")
        assert {"notebooks", "exercises", "solutions", "bench"} <= {item["name"] for item in contents["content"]}
        _, specs = _get(f"{base}/api/kernelspecs?token={token}")
        assert notebook.KERNEL_NAME in specs["kernelspecs"]
        registered = json.loads(
            (Path(jupyter_dirs["JUPYTER_DATA_DIR"]) / "kernels" / notebook.KERNEL_NAME / "kernel.json").read_text()
        )
        assert registered["argv"][0] == sys.executable
    finally:
        stop_process(server, timeout=15)


def test_needs_docker_runs_the_cell_where_docker_answers_and_says_what_it_shows_elsewhere(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        notebook.load_ipython_extension(shell)
        monkeypatch.setattr(notebook, "docker_missing", lambda: "the docker command is not installed")
        shell.run_cell("%%needs_docker this prints the replicas.\nran = True")
        assert "ran" not in shell.user_ns
        assert "Not run: the docker command is not installed" in capsys.readouterr().out
        monkeypatch.setattr(notebook, "docker_missing", lambda: "")
        assert shell.run_cell("%%needs_docker this prints the replicas.\nran = True").success and shell.user_ns["ran"]
        assert not shell.run_cell("%%needs_docker a failing command fails the cell.\nraise OSError('docker')").success
    finally:
        InteractiveShell.clear_instance()  # the tests after this one run outside IPython again


def test_replay_writes_the_files_notebook_07_writes_in_its_cells(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """07a runs 07's room: the files come from 07's own cells, so there is one copy to read."""
    monkeypatch.chdir(tmp_path)
    firsts = notebook.replay("07_server_room.ipynb", "room-files")
    written = {
        cell.source.partition("\n")[0].split()[-1]: cell.source.partition("\n")[2]
        for cell in nbformat.read(ROOT / "notebooks" / "07_server_room.ipynb", as_version=4).cells
        if "room-files" in cell.metadata.get("tags", []) and cell.source.startswith("%%writefile")
    }
    assert {"room/compose.yaml", "room/proxy.conf"} <= set(written)
    assert all((tmp_path / name).read_text(encoding="utf-8").strip() == body.strip() for name, body in written.items())
    assert (tmp_path / "room" / "tls" / "server.crt").exists()  # the `!openssl` lines ran too
    assert [first for first in firsts if first.startswith("%%writefile")] == [f"%%writefile {n}" for n in written]
