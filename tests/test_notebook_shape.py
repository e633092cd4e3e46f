"""Every lecture notebook fits a live slot and shows its stage's real code (issue 12).

A slot is 10-15 minutes: at most MAX_CELLS cells and MAX_WORDS words of markdown. The time a
notebook takes under nbval is not asserted here: on a shared 2-core machine the same notebook
took 15 s alone and 58 s beside other jobs, so a timed test would fail for reasons outside the
notebook (and the house keeps speed targets out of tests). `make test` prints each notebook's
nbval time (`--durations`), and `make notebooks` names any notebook over
`scripts.execute.LIVE_SLOT_SECONDS`.

The second half parses each notebook's code cells with `ast` and requires real calls (not words
in a comment or a string) for its stage's list, so the lesson cannot be wrapped away into the
package again. A `%%writefile x.py` cell is Python a student reads, so it is parsed too; shell
lines (`!docker build ...`) are read as the commands IPython runs.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from scripts.execute import lecture_notebooks
from scripts.slots import code_lines
from tests.conftest import ROOT
from workshop.stages import STAGES

NOTEBOOKS = ROOT / "notebooks"
LECTURE = lecture_notebooks(NOTEBOOKS)
MAX_CELLS = 24
MAX_WORDS = 650


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def markdown_words(nb: nbformat.NotebookNode) -> int:
    """Words of the markdown cells: whitespace-separated tokens with a letter or digit (so a
    table's `|` and `---` are not words)."""
    text = " ".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    return sum(1 for token in text.split() if re.search(r"[^\W_]", token))


@pytest.mark.parametrize("path", LECTURE, ids=lambda p: p.stem)
def test_fits_a_live_slot(path: Path) -> None:
    nb = _read(path)
    assert len(nb.cells) <= MAX_CELLS, f"{path.name}: {len(nb.cells)} cells, a live slot holds {MAX_CELLS}"
    words = markdown_words(nb)
    assert words <= MAX_WORDS, f"{path.name}: {words} words of markdown, a live slot holds {MAX_WORDS}"


def test_word_count_counts_words_not_table_rules() -> None:
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("| a | b |\n|---|---|\n| pickle.dump | 02 |"),
            nbformat.v4.new_code_cell("print('code is not counted')"),
        ]
    )
    assert markdown_words(nb) == 4


# --- the real calls of each stage --------------------------------------------------------------


def code_of(path: Path) -> ast.Module:
    """All code cells of a notebook as one Python module, magics turned into what IPython runs."""
    transform = TransformerManager().transform_cell
    bodies = []
    for cell in _read(path).cells:
        if cell.cell_type != "code":
            continue
        first, _, rest = cell.source.partition("\n")
        if first.startswith("%%writefile") and first.rstrip().endswith(".py"):
            bodies.append(rest)
        elif first.startswith("%%needs_docker"):  # runs its body as written where Docker runs
            bodies.append(transform(rest))
        elif not first.startswith("%%"):
            bodies.append(transform(cell.source))
    return ast.parse("\n".join(bodies))


def _dotted(node: ast.AST) -> str:
    """`torch.onnx.export` for the callee of `torch.onnx.export(...)`; `f()` for a call in between."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return f"{_dotted(node.func)}()"
    return "?"


def _calls(tree: ast.AST) -> list[ast.Call]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


def _named(call_node: ast.Call, name: str) -> bool:
    dotted = _dotted(call_node.func)
    return dotted == name or dotted.endswith(f".{name}")


def shell_commands(tree: ast.AST) -> list[str]:
    """What the notebook runs in a shell: `!cmd` and `x = !cmd` lines, and subprocess calls with a list."""
    commands = []
    for node in _calls(tree):
        dotted = _dotted(node.func)
        if dotted in {"get_ipython().system", "get_ipython().getoutput"} and node.args:
            argument = node.args[0]
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                commands.append(argument.value)
        elif dotted.startswith("subprocess.") and node.args and isinstance(node.args[0], ast.List):
            commands.append(" ".join(str(getattr(item, "value", "{...}")) for item in node.args[0].elts))
    return commands


@dataclass(frozen=True)
class Shows:
    """One thing a stage's notebooks must show as real code, and how to find it in the tree."""

    what: str
    found: Callable[[ast.Module], bool]


def call(name: str, **keywords: object) -> Shows:
    """A call of `name` (or `something.name`) with these constant keyword arguments."""

    def found(tree: ast.Module) -> bool:
        return any(
            _named(node, name)
            and all(
                any(
                    k.arg == key and isinstance(k.value, ast.Constant) and k.value.value == value for k in node.keywords
                )
                for key, value in keywords.items()
            )
            for node in _calls(tree)
        )

    shown = ", ".join(f"{key}={value!r}" for key, value in keywords.items())
    return Shows(f"{name}({shown})", found)


def subclass(base: str) -> Shows:
    def found(tree: ast.Module) -> bool:
        return any(
            isinstance(node, ast.ClassDef) and any(_dotted(b).endswith(base) for b in node.bases)
            for node in ast.walk(tree)
        )

    return Shows(f"a subclass of {base}", found)


def method(name: str) -> Shows:
    def found(tree: ast.Module) -> bool:
        return any(
            isinstance(node, ast.ClassDef)
            and any(isinstance(item, ast.FunctionDef) and item.name == name for item in node.body)
            for node in ast.walk(tree)
        )

    return Shows(f"a class defining {name}()", found)


def in_a_loop(name: str) -> Shows:
    def found(tree: ast.Module) -> bool:
        loops = [node for node in ast.walk(tree) if isinstance(node, ast.For | ast.While)]
        return any(_named(node, name) for loop in loops for node in _calls(loop))

    return Shows(f"{name}() inside a training loop", found)


def shell(command: str) -> Shows:
    def found(tree: ast.Module) -> bool:
        return any(command in line for line in shell_commands(tree))

    return Shows(f"the shell command `{command}`", found)


FRESH_PROCESS = shell("{sys.executable} ")
# Item 1 of issue 12, per stage.
REQUIRED: dict[int, tuple[Shows, ...]] = {
    1: (call("Pipeline"), subclass("nn.Module"), in_a_loop("backward"), in_a_loop("step")),
    2: (
        call("pickle.dump"),
        call("pickle.load"),
        FRESH_PROCESS,
        call("torch.save"),
        call("torch.load", weights_only=True),
        call("hashlib.sha256"),
        method("__reduce__"),
        call("sio.dump"),
        call("sio.load"),
        call("load_pickle"),
    ),
    3: (
        call("convert_sklearn"),
        call("torch.onnx.export", dynamo=True, external_data=False),
        call("InferenceSession"),
    ),
    4: (call("InferenceSession"), method("predict"), call("PenguinPredictor.load")),
    5: (call("FastAPI"), call("app.post"), subclass("BaseModel"), call("requests.post"), shell("curl ")),
    6: tuple(shell(f"docker {verb}") for verb in ("build", "run", "ps", "exec", "logs", "tag", "push", "rmi", "pull")),
    # The room typed out: its certificate, compose up and ps, curl at the domain, a kill under load;
    # 07c drives a real cluster with kubectl.
    7: (
        shell("openssl req -x509"),
        shell("openssl x509 -req"),
        shell("docker compose --progress plain up --wait"),
        shell("docker compose ps"),
        shell("curl --resolve www.mojadomena.zmodelami.pl:"),
        shell("--cacert room/tls/ca.crt"),
        call("requests.Session"),
        shell("docker kill"),
        shell("kubectl apply -f"),
        shell("kubectl rollout status"),
        shell("kubectl set image"),
        shell("kubectl rollout undo"),
        shell("kubectl set selector"),
        shell("kubectl apply -k"),
    ),
    # prometheus_client in the service, Prometheus run with compose, its HTTP API with plain
    # requests; the drift tests with scipy.
    8: (
        call("Histogram"),
        call("generate_latest"),
        shell("docker compose"),
        call("requests.get"),
        call("stats.ks_2samp"),
        call("stats.chi2_contingency"),
    ),
    # The notebook's training as a script: nbconvert once, then train.py by hand, run in a fresh process.
    9: (
        shell("jupyter nbconvert --to script"),
        call("argparse.ArgumentParser"),
        call("artifacts.write_artifact"),
        shell("{sys.executable} 09_work/train.py"),
    ),
}


@pytest.mark.parametrize("stage", sorted(REQUIRED), ids=lambda stage: f"stage-{stage:02d}")
def test_each_stage_shows_its_real_calls(stage: int) -> None:
    names = next(s.notebooks for s in STAGES if s.number == stage)
    trees = [code_of(NOTEBOOKS / f"{name}.ipynb") for name in names]
    missing = [needed.what for needed in REQUIRED[stage] if not any(needed.found(tree) for tree in trees)]
    assert not missing, f"notebooks {', '.join(names)} do not show {missing} as real code"


def test_the_node_appendix_runs_the_file_in_node() -> None:
    assert call("node_runtime.run").found(code_of(NOTEBOOKS / "98_onnx_in_node_and_speed.ipynb"))


def test_every_stage_with_a_lesson_has_a_list() -> None:
    assert set(REQUIRED) == {s.number for s in STAGES if s.number >= 1}


def test_a_call_in_a_comment_or_string_does_not_count(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell('# pickle.dump(model, file)\nprint("torch.onnx.export(net)")'),
            nbformat.v4.new_code_cell("%%writefile notes.txt\nconvert_sklearn(pipeline)"),
            nbformat.v4.new_code_cell("torch.load(path)"),
            nbformat.v4.new_code_cell("%%writefile app.py\nfrom fastapi import FastAPI\napp = FastAPI()"),
            nbformat.v4.new_code_cell("!python predict.py\nout = !{sys.executable} predict.py"),
        ]
    )
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, path)
    tree = code_of(path)
    assert not call("pickle.dump").found(tree) and not call("torch.onnx.export").found(tree)
    assert not call("convert_sklearn").found(tree)
    assert call("torch.load").found(tree) and not call("torch.load", weights_only=True).found(tree)
    assert call("FastAPI").found(tree)
    assert shell_commands(tree) == ["python predict.py", "{sys.executable} predict.py"]


@pytest.mark.parametrize("path", LECTURE, ids=lambda p: p.stem)
def test_a_fresh_process_runs_this_kernels_python_never_a_bare_python(path: Path) -> None:
    bare = [line for line in shell_commands(code_of(path)) if re.match(r"(python3?|pip)\b", line)]
    assert not bare, f"{path.name} runs {bare}: use {{sys.executable}} (this kernel's Python)"


@pytest.mark.parametrize("path", LECTURE, ids=lambda p: p.stem)
def test_no_cell_installs_anything(path: Path) -> None:
    lines = shell_commands(code_of(path))
    installs = [line for line in lines if re.search(r"\b(pip|npm|apt-get|conda)\b.*\binstall\b|\bnpm ci\b", line)]
    magics = [
        cell.source
        for cell in _read(path).cells
        if cell.cell_type == "code" and re.search(r"^%(pip|conda)\b", cell.source, re.M)
    ]
    assert not installs and not magics, f"{path.name} installs from a cell: {installs or magics}"


# --- at most one cell on the package (issue 22) -----------------------------------------------------

PACKAGE_CELL = re.compile(r"^### \d+ · The package's version", re.M)
ABOUT_THE_PACKAGE = re.compile(r"what (the package|it) adds|the package's version", re.I)


def package_cells(nb: nbformat.NotebookNode) -> tuple[list[int], list[int]]:
    """The markdown cells headed "N · The package's version", and every markdown cell about the package."""
    markdown = [(index, cell.source) for index, cell in enumerate(nb.cells) if cell.cell_type == "markdown"]
    return (
        [index for index, source in markdown if PACKAGE_CELL.search(source)],
        [index for index, source in markdown if ABOUT_THE_PACKAGE.search(source)],
    )


@pytest.mark.parametrize(
    "path",
    [path for path in LECTURE if not path.name.startswith("00")],
    ids=lambda p: p.stem,
)
def test_at_most_one_cell_on_the_package(path: Path) -> None:
    """Its heading, three bullets on what the package adds, a link to the module; then one code cell."""
    nb = _read(path)
    headed, about = package_cells(nb)
    assert len(headed) <= 1, f"{path.name} has {len(headed)} cells headed 'The package's version'"
    assert set(about) <= set(headed), f"{path.name}: cells {sorted(set(about) - set(headed))} are about the package too"
    for index in headed:
        text = nb.cells[index].source
        assert len(re.findall(r"^- ", text, re.M)) == 3, f"{path.name}: the package's cell should have three bullets"
        assert "](../src/penguins/" in text, f"{path.name}: the package's cell should link to its module"
        following = nb.cells[index + 1]
        assert following.cell_type == "code" and code_lines(following.source) <= 7, (
            f"{path.name}: one short code cell shows the package answering the same"
        )


# Files a stage's notebooks write with %%writefile, and what each must hold (issue 21: the room typed out).
WRITTEN = {
    6: {
        "06_context/Dockerfile": (
            "FROM ",
            "--no-cache-dir",
            "USER ",
            "HEALTHCHECK",
            "/ready",
            'CMD ["uvicorn"',
            "0.0.0.0",
        )
    },
    7: {
        "deployment.yaml": ("kind: Deployment", "replicas:", "imagePullPolicy: IfNotPresent", "readinessProbe:"),
        "room/compose.yaml": ("deploy:", "replicas: 3", "healthcheck:", "/ready", "image: nginx:1.30", "ports:"),
        "room/proxy.conf": ("server {", "listen 443 ssl", "resolve", "proxy_pass", "proxy_next_upstream"),
    },
    8: {
        "metered_service.py": ("from prometheus_client import", "Counter(", "Histogram(", "generate_latest()"),
        "prometheus.yml": ("scrape_configs:", "targets:"),
        "compose.metrics.yaml": ("prometheus",),
    },
}


@pytest.mark.parametrize("stage", sorted(WRITTEN), ids=lambda stage: f"stage-{stage:02d}")
def test_each_stage_writes_its_files_in_plain_view(stage: int) -> None:
    names = next(s.notebooks for s in STAGES if s.number == stage)
    written = {file: text for name in names for file, text in _written_files(NOTEBOOKS / f"{name}.ipynb").items()}
    for file, needed in WRITTEN[stage].items():
        assert file in written, f"no notebook of stage {stage:02d} writes {file} with %%writefile"
        missing = [text for text in needed if text not in written[file]]
        assert not missing, f"{file} as written does not hold {missing}"


# What exercises 06-08 have students write from scratch: the blank's cell for the file holds only
# comments (a hint may name a thing), TODO or `...`; the solution's holds the real thing.
FROM_SCRATCH = {
    "06_container": {"06_context/Dockerfile": ("FROM ", "USER ", "CMD ")},
    "07_server_room": {"room/compose.yaml": ("services:", "replicas"), "room/proxy.conf": ("server {", "proxy_pass")},
    "08_running_it": {"counted_service.py": ("prometheus_client", "Counter(", "/metrics")},
}


def _written_files(path: Path) -> dict[str, str]:
    """Each file's text as the notebook writes it (`%%writefile -a` appends), without comment lines."""
    files: dict[str, str] = {}
    for cell in _read(path).cells:
        if cell.cell_type == "code" and cell.source.startswith("%%writefile "):
            head, _, body = cell.source.partition("\n")
            lines = [line for line in body.splitlines() if not line.lstrip().startswith("#")]
            files[head.split()[-1]] = files.get(head.split()[-1], "") + "\n".join(lines) + "\n"
    return files


@pytest.mark.parametrize("name", sorted(FROM_SCRATCH))
def test_exercises_06_to_08_have_the_files_written_from_scratch(name: str) -> None:
    blank, solution = (
        _written_files(ROOT / "exercises" / f"{name}.ipynb"),
        _written_files(ROOT / "solutions" / f"{name}.ipynb"),
    )
    for file, needed in FROM_SCRATCH[name].items():
        assert file in blank and file in solution, f"{name}: the exercise should have the student write {file}"
        given = [text for text in needed if text in blank[file]]
        assert not given, f"exercises/{name}: {file} already holds {given}; the student writes it"
        missing = [text for text in needed if text not in solution[file]]
        assert not missing, f"solutions/{name}: {file} does not hold {missing}"
