"""The exercise checks: a blank is "not done yet", a wrong answer fails with its hint, a right one passes."""

from __future__ import annotations

import textwrap
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
from workshop import checks
from workshop.checks import CheckFailed
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
