"""The exercise checks: a blank is "not done yet", a wrong answer fails with its hint, a right one passes."""

from __future__ import annotations

import importlib.util
import re
import shutil
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat
import pytest

from penguins.client import PenguinClient
from penguins.serving.cleaning import DEFAULT_CLEANER, Cleaner
from penguins.serving.examples import CLEAN_RECORD
from penguins.serving.predictor import PenguinPredictor
from tests.conftest import ROOT
from workshop import checks, container_context, docker
from workshop.checks import CheckFailed, ex06
from workshop.server import Server, start


def fails(message: str) -> pytest.RaisesExc[CheckFailed]:
    return pytest.raises(CheckFailed, match=message)


def test_check_failed_is_an_assertion_shown_in_one_line() -> None:
    error = CheckFailed("not done yet: x")
    assert isinstance(error, AssertionError)
    assert error._render_traceback_() == ["\x1b[31mCheckFailed\x1b[0m: not done yet: x"]


# 04 · the wrapper class


@pytest.fixture(scope="module")
def onnx_backend(artifact_dir: Path) -> Path:
    return artifact_dir / "mlp.onnx"


def kilograms_to_grams(record: dict) -> dict:
    mass = record.get("body_mass_g")
    if isinstance(mass, (int, float)) and not isinstance(mass, bool) and mass < 100:
        record["body_mass_g"] = mass * 1000
    return record


def floats_only(record: dict) -> dict:
    mass = record.get("body_mass_g")
    if isinstance(mass, float) and mass < 100:
        record["body_mass_g"] = mass * 1000
    return record


def careless(record: dict) -> dict:
    if record["body_mass_g"] < 100:
        record["body_mass_g"] *= 1000
    return record


def with_rule(path: Path, rule) -> PenguinPredictor:
    return PenguinPredictor.load("mlp-onnx", path, cleaner=DEFAULT_CLEANER.with_pre_rule(rule))


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (lambda record: ..., "^not done yet: finish <lambda>: it still returns ..."),
        (
            floats_only,
            r"^a record with the body mass in kilograms was refused \(record \d+, field 'body_mass_g': .*got \d+\)",
        ),
        (careless, r"^your rule crashed on a body mass of '3750' \(TypeError"),
        (
            lambda record: {**kilograms_to_grams(record), "island": "Dream"},
            r"^island '\w+' cleans to 'Dream', expected '\w+'",
        ),
        (
            lambda record: {**kilograms_to_grams(record), "sex": "female"},
            r"^sex .* cleans to 'female', expected .*: leave the other fields",
        ),
    ],
)
def test_a_wrong_kilogram_rule_fails_with_its_reason(onnx_backend: Path, rule, message: str) -> None:
    with fails(message):
        checks.check_kilograms_rule(with_rule(onnx_backend, rule))


def test_kilogram_check_blank_and_without_a_rule(onnx_backend: Path) -> None:
    with fails("^not done yet: load my_predictor"):
        checks.check_kilograms_rule(...)
    with fails("^the predictor's cleaner has no pre-rule"):
        checks.check_kilograms_rule(PenguinPredictor.load("mlp-onnx", onnx_backend))


def test_a_right_kilogram_rule_passes(onnx_backend: Path, capsys: pytest.CaptureFixture[str]) -> None:
    checks.check_kilograms_rule(with_rule(onnx_backend, kilograms_to_grams))
    assert capsys.readouterr().out.startswith("✓ 22 penguins weighed in kilograms clean to the same grams")


def asserts_nothing_in_kilograms(cleaner: Cleaner) -> None:
    assert cleaner.clean([CLEAN_RECORD])["body_mass_g"][0] == 3750.0


def round_kilograms_only(cleaner: Cleaner) -> None:
    assert cleaner.clean([{**CLEAN_RECORD, "body_mass_g": 4.0}])["body_mass_g"][0] == 4000.0


def expects_the_wrong_grams(cleaner: Cleaner) -> None:
    assert cleaner.clean([{**CLEAN_RECORD, "body_mass_g": 3.75}])["body_mass_g"][0] == 375.0


def exact_grams(cleaner: Cleaner) -> None:
    assert cleaner.clean([{**CLEAN_RECORD, "body_mass_g": 3.75}])["body_mass_g"][0] == 3750.0


@pytest.mark.parametrize(
    ("test", "cleaner", "message"),
    [
        (lambda cleaner: ..., DEFAULT_CLEANER, "^not done yet: write the test's body"),
        (exact_grams, ..., "^not done yet: finish task 2 first"),
        (asserts_nothing_in_kilograms, None, "^your test passes with DEFAULT_CLEANER too"),
        (round_kilograms_only, None, "^your test passes with a wrong rule that rounds 3.75 kg down"),
        (expects_the_wrong_grams, None, r"^your test fails with your own cleaner \(AssertionError"),
    ],
)
def test_a_test_that_cannot_fail_is_not_a_test(test, cleaner, message: str) -> None:
    with fails(message):
        checks.check_rule_test(test, DEFAULT_CLEANER.with_pre_rule(kilograms_to_grams) if cleaner is None else cleaner)


def test_a_test_that_pins_the_grams_passes(capsys: pytest.CaptureFixture[str]) -> None:
    checks.check_rule_test(exact_grams, DEFAULT_CLEANER.with_pre_rule(kilograms_to_grams))
    assert capsys.readouterr().out.startswith("✓ your test passes with your rule and fails without it")


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


def written_file(folder: str, name: str, target: str) -> str:
    """The text that a %%writefile cell of a solution or exercise notebook writes to `target`."""
    notebook = nbformat.read(ROOT / folder / name, as_version=4)
    magic = f"%%writefile {target}\n"
    (source,) = [cell.source for cell in notebook.cells if cell.source.startswith(magic)]
    return source.removeprefix(magic) + "\n"


SERVICE = "05_service.ipynb"
BLANK_BODY = "    return ...  # TODO\n"


def service_with(body: str | None = None, **replace: str) -> str:
    """species_service.py as the exercise writes it, with `body` in place of the blank endpoint
    body (None: the solution's), and any other text replaced."""
    text = (
        written_file("solutions", SERVICE, "species_service.py")
        if body is None
        else written_file("exercises", SERVICE, "species_service.py").replace(BLANK_BODY, textwrap.indent(body, "    "))
    )
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    return text


@pytest.fixture
def serve(tmp_path: Path, artifact_dir: Path) -> Iterator[Callable[[str], Server]]:
    """Start species_service.py with the given text, as the notebook does; stopped after the test."""
    started: list[Server] = []

    def start_with(text: str) -> Server:
        folder = tmp_path / f"service{len(started)}"
        folder.mkdir()
        (folder / "species_service.py").write_text(text, encoding="utf-8")
        started.append(start("species_service:app", app_dir=folder))
        return started[-1]

    yield start_with
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def solved_service(artifact_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("solved-service")
    (folder / "species_service.py").write_text(service_with(), encoding="utf-8")
    with start("species_service:app", app_dir=folder) as server:
        yield server


NO_422 = """\
predictor = request.app.state.predictor
predictions = predictor.predict([record.model_dump(exclude_unset=True) for record in records])
return SpeciesOut(species=[p.species for p in predictions], model_version=predictor.model_version)
"""
# Refusals turned into another exception: the app's CleaningError handler never sees them.
WRAPPED_500 = """\
predictor = request.app.state.predictor
try:
    predictions = predictor.predict([record.model_dump(exclude_unset=True) for record in records])
except CleaningError as error:
    raise RuntimeError(str(error)) from None
return SpeciesOut(species=[p.species for p in predictions], model_version=predictor.model_version)
"""
PLAIN_422 = """\
predictor = request.app.state.predictor
try:
    predictions = predictor.predict([record.model_dump(exclude_unset=True) for record in records])
except CleaningError as error:
    raise HTTPException(422, str(error)) from None
return SpeciesOut(species=[p.species for p in predictions], model_version=predictor.model_version)
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("service", "message"),
    [
        (
            lambda: service_with(BLANK_BODY.strip()),
            "^not done yet: write the body of predict_species in species_service.py",
        ),
        (
            lambda: service_with(WRAPPED_500),
            r"^a batch with bad values .* crashed your endpoint \(500; the server's log "
            r"says RuntimeError: record 1",
        ),
        (
            lambda: "from fastapi import HTTPException\n" + service_with(PLAIN_422),
            r"^the 422's detail is \"record 1, .*\", expected FastAPI's list of \{loc, msg, input\}",
        ),
        (
            lambda: service_with(
                NO_422.replace("[p.species for p in predictions]", "[p.species for p in predictions][::-1]")
            ),
            r"^record 0 \(\{'island': 'Torgersen'.*\}\) is Adelie in process, "
            r"your endpoint says '\w+': predict all records",
        ),
        (
            lambda: service_with(NO_422.replace("model_version=predictor.model_version", "model_version='v1'")),
            r"^the answer says model_version 'v1', the service serves 'mlp-",
        ),
        (
            lambda: service_with(**{"Field(min_length=1, max_length=BATCH_LIMIT)": "Field(min_length=1)"}),
            r"^21 records got 200, but the service takes at most 20 \(GET /model says batch_limit\)",
        ),
        (
            lambda: service_with(**{'@app.post("/predict/species"': '@app.post("/species"'}),
            r"^your service has no POST /predict/species \(404\): declare it with @app.post",
        ),
    ],
)
def test_a_wrong_endpoint_fails_with_its_reason(serve, service, message: str) -> None:
    with fails(message):
        checks.check_species_endpoint(serve(service()))


@pytest.mark.slow
def test_refusals_left_to_the_apps_handler_pass(serve, capsys: pytest.CaptureFixture[str]) -> None:
    """create_app answers a CleaningError with a 422 naming each field, so an endpoint that lets
    the wrapper's refusal through is right: it is the one path, not a shortcut."""
    checks.check_species_endpoint(serve(service_with(NO_422)))
    assert "✓ POST /predict/species: 19 penguins get their in-process species" in capsys.readouterr().out


def test_species_endpoint_check_without_a_running_server() -> None:
    with fails(r'^not done yet: start your service: server = start\("species_service:app"\)'):
        checks.check_species_endpoint(...)
    with fails("^expected the Server that start.* returns, found str"):
        checks.check_species_endpoint("http://127.0.0.1:8004")
    stopped = Server("species_service:app")
    with fails("^your server is not running"):
        checks.check_species_endpoint(stopped)


@pytest.mark.slow
def test_the_solved_endpoint_passes(solved_service: Server, capsys: pytest.CaptureFixture[str]) -> None:
    checks.check_species_endpoint(solved_service)
    assert capsys.readouterr().out == (
        "✓ POST /predict/species: 19 penguins get their in-process species, bad values a 422 naming 3 fields, "
        "21 records a 422 (the limit is 20)\n"
    )


class SpeciesClient(PenguinClient):
    def species(self, records: list[dict]) -> list[str]:
        return self._call("POST", "/predict/species", json=list(records))["species"]


def in_chunks(url: str, records: list[dict], size: int | None = None, keep_last: bool = True) -> dict[str, int]:
    with SpeciesClient(url) as client:
        size = size or client.model()["batch_limit"]
        counts: Counter[str] = Counter()
        for first in range(0, len(records), size):
            if keep_last or first + size <= len(records):
                counts.update(client.species(records[first : first + size]))
    return dict(counts)


def in_process(url: str, records: list[dict]) -> dict[str, int]:
    return dict(Counter(p.species for p in PenguinPredictor.load().predict(records)))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("species_counts", "message"),
    [
        (lambda url, records: ..., "^not done yet: write the body of species_counts"),
        (
            lambda url, records: SpeciesClient(url).species(records),
            r"^the service refused a call of species_counts \(the request body: List should have at most 20 items",
        ),
        (
            lambda url, records: in_chunks(url, records, size=1),
            r"^species_counts made 50 calls for 50 penguins, where 3 calls of up to 20 carry them all",
        ),
        (
            lambda url, records: in_chunks(url, records, keep_last=False),
            r"^species_counts says \{.*\} for these 50 penguins, expected \{.*\}: add up the names of every chunk",
        ),
        (in_process, r"^species_counts made no call to POST /predict/species"),
        (lambda url, records: list(in_chunks(url, records)), "^species_counts must return a dict of species -> count"),
        (lambda url, records: 1 / 0, r"^species_counts raised ZeroDivisionError: division by zero"),
    ],
)
def test_a_client_that_breaks_the_limit_or_miscounts_fails(
    solved_service: Server, species_counts, message: str
) -> None:
    with fails(message):
        checks.check_species_counts(species_counts, solved_service)


@pytest.mark.slow
def test_a_client_that_sends_full_chunks_passes(solved_service: Server, capsys: pytest.CaptureFixture[str]) -> None:
    with fails("^not done yet: finish task 2 first"):
        checks.check_species_counts(in_chunks, ...)
    checks.check_species_counts(in_chunks, solved_service)
    assert capsys.readouterr().out.startswith("✓ 50 penguins counted in 3 calls of at most 20 records: ")


# 06 · the container (the variants in tests/exercise_variants/ex06 prove the check fair; here, its parts)

CONTAINER = "06_container.ipynb"


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lint only, whether or not an engine runs here."""
    monkeypatch.setattr(docker, "engine", lambda: docker.Engine(None, "the docker command is not installed"))


@pytest.fixture(scope="module")
def context_06(tmp_path_factory: pytest.TempPathFactory, artifact_dir: Path) -> Path:
    """Exercise 06's build context, as its starter cell writes it."""
    return container_context.prepare(tmp_path_factory.mktemp("ex06") / "06_context", artifact_dir)


def test_the_build_context_sends_the_service_the_wrapper_the_model_and_the_pins(context_06: Path) -> None:
    (context_06 / "Dockerfile").write_text("FROM python:3.11-slim\n", encoding="utf-8")
    (context_06 / "notes.txt").write_text("mine", encoding="utf-8")
    (context_06 / "penguins" / "serving" / "__pycache__").mkdir(exist_ok=True)
    (context_06 / "penguins" / "serving" / "__pycache__" / "api.cpython-311.pyc").write_bytes(b"")
    serving = sorted(f"penguins/serving/{p.name}" for p in (ROOT / "src/penguins/serving").glob("*.py"))
    assert docker.sent_to_build(context_06) == sorted(
        [
            "artifacts/mlp.onnx",
            "artifacts/mlp.onnx.json",
            "my_service.py",
            "penguins/__init__.py",
            *serving,
            "requirements.txt",
        ]
    )
    pins = (context_06 / "requirements.txt").read_text(encoding="utf-8")
    assert "onnxruntime==" in pins and "fastapi==" in pins and "uvicorn==" in pins
    assert not re.search(r"^(torch|scikit-learn|pandas|jupyterlab)\b", pins, re.MULTILINE)
    assert all("==" in line for line in pins.splitlines() if line[:1].isalnum())


def test_the_context_service_answers_in_exercise_05s_shape(context_06: Path) -> None:
    from fastapi.testclient import TestClient

    spec = importlib.util.spec_from_file_location("context_06_service", context_06 / "my_service.py")
    assert spec is not None and spec.loader is not None
    service = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(service)
    wrapper = PenguinPredictor.load("mlp-onnx", context_06 / "artifacts" / "mlp.onnx")
    with TestClient(service.app) as client:
        assert client.get("/health").status_code == 200
        answer = client.post("/predict", json=CLEAN_RECORD)
        assert answer.json() == {"species": wrapper.predict_one(CLEAN_RECORD).species}
        refused = client.post("/predict", json={**CLEAN_RECORD, "bill_length_mm": "forty"})
        assert refused.status_code == 422 and "bill_length_mm" in refused.text


def test_dockerignore_patterns_as_docker_reads_them(tmp_path: Path) -> None:
    for path in ("a.py", "keep/b.py", "keep/deep/c.py", "keep/__pycache__/d.pyc", "drop/e.py", "notes.md"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("x", encoding="utf-8")
    (tmp_path / ".dockerignore").write_text("# a comment\n*\n!keep\n!*.py\n**/__pycache__\n", encoding="utf-8")
    assert docker.sent_to_build(tmp_path) == ["a.py", "keep/b.py", "keep/deep/c.py"]
    (tmp_path / ".dockerignore").unlink()
    assert len(docker.sent_to_build(tmp_path)) == 6


@pytest.mark.parametrize(
    ("line", "options", "rest"),
    [
        (
            "docker run -dp 127.0.0.1:8000:8000 --name=x img cmd --port 1",
            (("--detach", None), ("--publish", "127.0.0.1:8000:8000"), ("--name", "x")),
            ("img", "cmd", "--port", "1"),
        ),
        (
            "docker container run --rm -it --publish=127.0.0.1::8000 -e A=1 img",
            (
                ("--rm", None),
                ("--interactive", None),
                ("--tty", None),
                ("--publish", "127.0.0.1::8000"),
                ("--env", "A=1"),
            ),
            ("img",),
        ),
    ],
)
def test_a_run_line_is_read_as_docker_reads_it(line: str, options: tuple, rest: tuple) -> None:
    parsed = ex06.run_line(line)
    assert parsed.options == options and parsed.rest == rest


def test_a_build_line_is_read_as_docker_reads_it() -> None:
    parsed = ex06.build_line("docker build --tag=a:1 -f '06_context/Dockerfile' --no-cache ./06_context/")
    assert parsed.value("--tag") == "a:1" and parsed.value("--file") == "06_context/Dockerfile"
    assert parsed.has("--no-cache") and parsed.rest == ("./06_context/",)
    assert ex06.build_line("docker build 06_context -t a").value("--tag") == "a"  # options after the context
    with fails(r"^expected the build line to start with docker build; found docker run x"):
        ex06.build_line("docker run x")
    with fails(r"^expected a build command line; found one the shell cannot split"):
        ex06.build_line("docker build -t 'x 06_context")


@pytest.mark.parametrize(
    ("text", "ip", "host", "port"),
    [
        ("8000:8000", "", "8000", 8000),
        ("8000", "", "", 8000),
        ("127.0.0.1:8080:8000/tcp", "127.0.0.1", "8080", 8000),
        ("127.0.0.1::8000", "127.0.0.1", "", 8000),
        ("[::1]:8000:8000", "::1", "8000", 8000),
        ("0.0.0.0:8000:8000", "0.0.0.0", "8000", 8000),
    ],
)
def test_a_publish_spec_is_read_as_docker_reads_it(text: str, ip: str, host: str, port: int) -> None:
    publish = ex06.Publish.parse(text)
    assert (publish.ip, publish.host_port, publish.container_port) == (ip, host, port)
    assert publish.loopback == (ip in ("127.0.0.1", "::1"))


def solved_dockerfile() -> str:
    return written_file("solutions", CONTAINER, "06_context/Dockerfile")


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        (
            {"FROM python:3.11-slim": "FROM python:3.11"},
            r"^expected the slim Python base, python:3\.11-slim; found python:3\.11, about 1 GB",
        ),
        (
            {"COPY . .": "COPY . .\nCOPY notes.txt ."},
            r"^expected every source of COPY \(line \d+\) in the build context; "
            r"found notes.txt, kept out of the build by its \.dockerignore",
        ),
        (
            {"-r requirements.txt": "fastapi uvicorn onnxruntime"},
            r"installs packages by name, at whatever version is newest",
        ),
        ({"USER penguin": "USER root"}, r"found USER \(line \d+\) root: the service runs as root"),
        (
            {'"my_service:app"': '"service:app"'},
            r"^expected uvicorn to serve the app of a module in the folder \(my_service:app\); found service:app",
        ),
        (
            {'"--port", "8000"': '"--port", "80"'},
            r"found -p 127.0.0.1:8000:8000 publishes container port 8000; try the container port last in -p$",
        ),
        (
            {'CMD ["uvicorn"': 'CMD ["python", "my_service.py"'},
            r"^expected the container to start the service with uvicorn; found a CMD that starts no uvicorn",
        ),
        ({"COPY . .": "COPY . /srv/"}, r"^expected uvicorn to start in /srv, where my_service.py lands"),
    ],
)
def test_more_lint_rules_say_expected_found_and_what_to_try(
    tmp_path: Path, context_06: Path, no_engine: None, replace: dict[str, str], message: str
) -> None:
    text = solved_dockerfile()
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    shutil.copytree(context_06, tmp_path / "06_context")
    (tmp_path / "06_context" / "notes.txt").write_text("mine", encoding="utf-8")
    (tmp_path / "06_context" / "Dockerfile").write_text(text, encoding="utf-8")
    with fails(message):
        checks.check_container(
            "docker build -t ex06-lint 06_context", "docker run -d -p 127.0.0.1:8000:8000 ex06-lint", folder=tmp_path
        )


def test_container_check_blank_and_missing(tmp_path: Path, context_06: Path, no_engine: None) -> None:
    lines = "docker build -t ex06-blank 06_context", "docker run -d -p 127.0.0.1:8000:8000 ex06-blank"
    with fails(r"^expected the folder 06_context here; found none; try running the cells above first$"):
        checks.check_container(*lines, folder=tmp_path)
    shutil.copytree(context_06, tmp_path / "06_context")
    (tmp_path / "06_context" / "Dockerfile").unlink(missing_ok=True)
    with fails(r"^expected a Dockerfile at 06_context/Dockerfile; found no file there"):
        checks.check_container(*lines, folder=tmp_path)
    blank = written_file("exercises", CONTAINER, "06_context/Dockerfile")
    (tmp_path / "06_context" / "Dockerfile").write_text(blank, encoding="utf-8")
    with fails(r"^not done yet: write the Dockerfile in place of the line # TODO"):
        checks.check_container(*lines, folder=tmp_path)
    with fails(r"^not done yet: write the build and the run command lines"):
        checks.check_container(..., ..., folder=tmp_path)  # type: ignore[arg-type]


def test_the_build_context_holds_the_allow_list_with_the_model_in_use(tmp_path: Path, artifact_dir: Path) -> None:
    context = docker.build_context(tmp_path / "context", artifact_dir, ROOT)
    files = sorted(p.relative_to(context).as_posix() for p in context.rglob("*") if p.is_file())
    serving = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "src/penguins/serving").glob("*.py"))
    assert files == sorted(
        [
            ".dockerignore",
            "docker/Dockerfile",
            "requirements/serve.txt",
            "artifacts/mlp.onnx",
            "artifacts/mlp.onnx.json",
            "src/penguins/__init__.py",
            *serving,
        ]
    )
    assert (context / "artifacts/mlp.onnx").read_bytes() == (artifact_dir / "mlp.onnx").read_bytes()


@pytest.fixture
def engine(base_image: str) -> None:
    """A running engine: reused, or started under CI by the session fixture (which skips, or
    under CI fails, where none may be started)."""
    assert docker.engine().running


@pytest.mark.slow
def test_with_an_engine_a_container_that_stops_is_reported_with_its_log(
    tmp_path: Path, engine: None, context_06: Path
) -> None:
    """A tampered model passes any lint; the service refuses it at start-up, and the check shows why."""
    shutil.copytree(context_06, tmp_path / "06_context")
    (tmp_path / "06_context" / "Dockerfile").write_text(solved_dockerfile(), encoding="utf-8")
    with (tmp_path / "06_context" / "artifacts" / "mlp.onnx").open("ab") as model:
        model.write(b"tampered")
    started = time.monotonic()
    with fails(r"^expected the container to keep serving; found it exited, its log ends:\n(.|\n)*sha256"):
        checks.check_container(
            "docker build -t ex06-tampered 06_context",
            "docker run --rm -d -p 127.0.0.1:8000:8000 ex06-tampered",
            folder=tmp_path,
            say=lambda line: None,
        )
    assert time.monotonic() - started < 60, "a container that stops is reported at once, not after a timeout"
    assert not docker.has_image("ex06-tampered"), "the check removes the image it built"
