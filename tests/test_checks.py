"""The exercise checks: a blank is "not done yet", a wrong answer fails with its hint, a right one passes."""

from __future__ import annotations

import hashlib
import pickle
import textwrap
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from penguins.client import PenguinClient
from penguins.serving import artifacts
from penguins.serving.cleaning import DEFAULT_CLEANER, Cleaner
from penguins.serving.contract import CATEGORICAL_FEATURES, CLASSES, NUMERIC_FEATURES
from penguins.serving.examples import CLEAN_RECORD
from penguins.serving.predictor import PenguinPredictor
from penguins.training import data, export, logreg, mlp
from tests.conftest import ROOT
from workshop import checks, docker
from workshop.checks import CheckFailed, ex06
from workshop.server import Server, start


def fails(message: str) -> pytest.RaisesExc[CheckFailed]:
    return pytest.raises(CheckFailed, match=message)


def test_check_failed_is_an_assertion_shown_in_one_line() -> None:
    error = CheckFailed("not done yet: x")
    assert isinstance(error, AssertionError)
    assert error._render_traceback_() == ["\x1b[31mCheckFailed\x1b[0m: not done yet: x"]


# 01 · a model in a notebook


@pytest.fixture(scope="module")
def train() -> data.Dataset:
    return data.prepare(data.split(data.raw_as_contract(data.load_penguins_raw()))[0])


def unscaled_knn() -> Pipeline:
    """Imputed and encoded, but not scaled: distances in grams drown everything else."""
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(missing_values="", strategy="most_frequent")),
            ("onehot", OneHotEncoder(handle_unknown="ignore")),
        ]
    )
    preprocess = ColumnTransformer(
        [
            ("numeric", SimpleImputer(strategy="median"), list(NUMERIC_FEATURES)),
            ("categorical", categorical, list(CATEGORICAL_FEATURES)),
        ]
    )
    return Pipeline([("preprocess", preprocess), ("model", KNeighborsClassifier())])


def scaled_knn() -> Pipeline:
    return Pipeline([("preprocess", logreg.build_preprocessor()), ("model", KNeighborsClassifier())])


def test_model_check_blank_unfitted_and_lecture_model(train: data.Dataset) -> None:
    with fails("^not done yet: train another kind of model"):
        checks.check_model_beats(...)
    with fails("^the model is not fitted yet: call model.fit"):
        checks.check_model_beats(scaled_knn())
    with fails("^that is the lecture's logistic regression"):
        checks.check_model_beats(logreg.fit_pipeline(train))
    with fails("^expected a fitted scikit-learn model"):
        checks.check_model_beats("knn")


def test_an_unscaled_knn_is_asked_about_scaling(train: data.Dataset) -> None:
    with fails(r"^held-out accuracy 0\.\d\d < 0\.95: did you scale the numeric columns\?"):
        checks.check_model_beats(unscaled_knn().fit(train.features, train.labels))


@pytest.mark.filterwarnings("ignore:X has feature names")
def test_a_model_that_cannot_read_the_raw_columns_is_told_why(train: data.Dataset) -> None:
    bare = KNeighborsClassifier().fit(np.zeros((3, 6)), ["Adelie", "Gentoo", "Chinstrap"])
    with fails("^model.predict failed on the held-out rows .*logreg.build_preprocessor"):
        checks.check_model_beats(bare)


def test_a_scaled_knn_passes_with_its_score(train: data.Dataset, capsys: pytest.CaptureFixture[str]) -> None:
    checks.check_model_beats(scaled_knn().fit(train.features, train.labels))
    assert (
        capsys.readouterr().out == "✓ KNeighborsClassifier scores 0.988 on the 86 held-out penguins (at least 0.95)\n"
    )


# 02 · save the model


@pytest.fixture(scope="module")
def model(train: data.Dataset) -> Pipeline:
    return logreg.fit_pipeline(train)


def save(path: Path, model: Pipeline, **changes: object) -> artifacts.Metadata:
    fields = {
        "format": "pickle",
        "kind": "sklearn-pipeline",
        "classes": list(CLASSES),
        "metrics": {"test_accuracy": 1.0},
        "model_version": "logreg-test",
        "libraries": artifacts.library_versions("scikit-learn"),
        **changes,
    }
    return artifacts.write_artifact(path, pickle.dumps(model), **fields)


def test_saved_model_check_passes_only_when_every_claim_is_true(tmp_path: Path, model: Pipeline) -> None:
    path = tmp_path / "m.pkl"
    with fails("^not done yet: save `model` at saved_path"):
        checks.check_saved_with_metadata(path, ...)
    meta = save(path, model, metrics={"test_accuracy": 0.9})
    with fails("^the metadata says test_accuracy 0.9000 but the saved model scores 1.0000"):
        checks.check_saved_with_metadata(path, meta)
    meta = save(path, model, libraries={})
    with fails("^the metadata does not say which scikit-learn made the pickle"):
        checks.check_saved_with_metadata(path, meta)
    meta = save(path, model)
    with fails("^`meta` is not what write_artifact wrote"):
        checks.check_saved_with_metadata(path, save(tmp_path / "other.pkl", model, model_version="other"))
    path.write_bytes(path.read_bytes() + b"\0")
    with fails("^loading m.pkl was refused: .*does not match its sha256"):
        checks.check_saved_with_metadata(path, meta)
    with fails("^no file missing.pkl"):
        checks.check_saved_with_metadata(tmp_path / "missing.pkl", meta)


def test_saved_model_check_passes(tmp_path: Path, model: Pipeline, capsys: pytest.CaptureFixture[str]) -> None:
    meta = save(tmp_path / "m.pkl", model)
    checks.check_saved_with_metadata(tmp_path / "m.pkl", meta)
    assert capsys.readouterr().out.startswith(f"✓ m.pkl: sha256 {meta.sha256[:12]} verified")


def hash_matches(path: Path) -> bool:
    return hashlib.sha256(path.read_bytes()).hexdigest() == artifacts.read_metadata(path).sha256


@pytest.mark.parametrize(
    ("is_intact", "message"),
    [
        (lambda path: ..., "^not done yet: write the body of is_intact"),
        (
            lambda path: path.exists(),
            "^is_intact says True for a file with one byte changed, expected False: compare the hash",
        ),
        (
            lambda path: not hash_matches(path),
            "^is_intact says False for untouched, expected True: an untouched file must pass",
        ),
        (
            lambda path: bool(artifacts.read_artifact(path)),
            "^is_intact raised ArtifactError: .* for a file with one byte changed",
        ),
        (lambda path: "yes", "^is_intact must return True or False, it returned 'yes' for untouched"),
    ],
)
def test_a_tamper_detector_that_misses_damage_fails(is_intact, message: str) -> None:
    with fails(message):
        checks.check_tamper_detected(is_intact)


def test_a_hash_comparison_detects_every_damage(capsys: pytest.CaptureFixture[str]) -> None:
    checks.check_tamper_detected(hash_matches)
    assert capsys.readouterr().out.startswith("✓ is_intact accepts an untouched file")


# 03 · ONNX


@pytest.fixture(scope="module")
def net() -> mlp.PenguinMLP:
    torch.manual_seed(0)
    return mlp.PenguinMLP(9, 3).eval()


def export_to(path: Path, module: torch.nn.Module, *, dynamic: bool = True, names: bool = True) -> Path:
    """Export like a student might, right or wrong: frozen batch, no softmax, default names."""
    options = {"input_names": ["features"], "output_names": ["probabilities"]} if names else {}
    if dynamic:
        options["dynamic_shapes"] = ({0: "batch"},)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module.eval(), (torch.zeros(2, 9),), path, dynamo=True, external_data=False, verbose=False, **options
        )
    return path


def test_onnx_check_blank(tmp_path: Path, net: mlp.PenguinMLP) -> None:
    with fails("^not done yet: export mlp.WithSoftmax"):
        checks.check_onnx_parity(..., net, ...)
    good = tmp_path / "good.onnx"
    good.write_bytes(export.net_to_onnx(net).SerializeToString())
    with fails("^not done yet: run the ONNX file and the network"):
        checks.check_onnx_parity(good, net, ...)


def test_onnx_check_catches_each_export_mistake(tmp_path: Path, net: mlp.PenguinMLP) -> None:
    with fails(r"^the batch axis is frozen at 2 rows: declare it with dynamic_shapes"):
        checks.check_onnx_parity(export_to(tmp_path / "frozen.onnx", mlp.WithSoftmax(net), dynamic=False), net, 0.0)
    with fails(r"^for a batch of 1 the file gives shape \(1, 3\), not 1 row\(s\) of 3 probabilities summing to 1"):
        checks.check_onnx_parity(export_to(tmp_path / "logits.onnx", net), net, 0.0)
    with fails(r"^expected input \['features'\] and output \['probabilities'\], found"):
        checks.check_onnx_parity(export_to(tmp_path / "names.onnx", mlp.WithSoftmax(net), names=False), net, 0.0)
    other = mlp.PenguinMLP(9, 3)
    with fails("^ONNX and torch differ by"):
        checks.check_onnx_parity(export_to(tmp_path / "other.onnx", mlp.WithSoftmax(other)), net, 0.0)
    with fails("^no file nowhere.onnx"):
        checks.check_onnx_parity(tmp_path / "nowhere.onnx", net, 0.0)


def test_onnx_check_wants_a_true_parity_figure(
    tmp_path: Path, net: mlp.PenguinMLP, capsys: pytest.CaptureFixture[str]
) -> None:
    good = export_to(tmp_path / "good.onnx", mlp.WithSoftmax(net))
    with fails(r"^your max_diff is 5\.0e-01, above the tolerance 1e-05"):
        checks.check_onnx_parity(good, net, 0.5)
    with fails("^max_diff must be a number, found str"):
        checks.check_onnx_parity(good, net, "tiny")
    with fails("^max_diff is -1.0"):
        checks.check_onnx_parity(good, net, -1.0)
    checks.check_onnx_parity(good, net, 1e-7)
    assert capsys.readouterr().out.startswith("✓ good.onnx: batch axis 'batch'; 1, 7, 200 rows match torch")


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
        (exact_grams, ..., "^not done yet: finish task 1 first"),
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


def written_file(folder: str, name: str, target: str) -> str:
    """The text that a %%writefile cell of a solution or exercise notebook writes to `target`."""
    notebook = nbformat.read(ROOT / folder / name, as_version=4)
    magic = f"%%writefile {target}\n"
    (source,) = [cell.source for cell in notebook.cells if cell.source.startswith(magic)]
    return source.removeprefix(magic) + "\n"


SERVICE = "05_service.ipynb"
BLANK_BODY = "    return ...  # TODO\n"


def service_with(body: str | None = None, **replace: str) -> str:
    """my_service.py as the exercise writes it, with `body` in place of the blank endpoint
    body (None: the solution's), and any other text replaced."""
    text = (
        written_file("solutions", SERVICE, "my_service.py")
        if body is None
        else written_file("exercises", SERVICE, "my_service.py").replace(BLANK_BODY, textwrap.indent(body, "    "))
    )
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    return text


@pytest.fixture
def serve(tmp_path: Path, artifact_dir: Path) -> Iterator[Callable[[str], Server]]:
    """Start my_service.py with the given text, as the notebook does; stopped after the test."""
    started: list[Server] = []

    def start_with(text: str) -> Server:
        folder = tmp_path / f"service{len(started)}"
        folder.mkdir()
        (folder / "my_service.py").write_text(text, encoding="utf-8")
        started.append(start("my_service:app", app_dir=folder))
        return started[-1]

    yield start_with
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def solved_service(artifact_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("solved-service")
    (folder / "my_service.py").write_text(service_with(), encoding="utf-8")
    with start("my_service:app", app_dir=folder) as server:
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
        (lambda: service_with(BLANK_BODY.strip()), "^not done yet: write the body of predict_species in my_service.py"),
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
    with fails(r'^not done yet: start your service: server = start\("my_service:app"\)'):
        checks.check_species_endpoint(...)
    with fails("^expected the Server that start.* returns, found str"):
        checks.check_species_endpoint("http://127.0.0.1:8004")
    stopped = Server("my_service:app")
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
    with fails("^not done yet: finish task 1 first"):
        checks.check_species_counts(in_chunks, ...)
    checks.check_species_counts(in_chunks, solved_service)
    assert capsys.readouterr().out.startswith("✓ 50 penguins counted in 3 calls of at most 20 records: ")


# 06 · the container


CONTAINER = "06_container.ipynb"


def dockerfile(tmp_path: Path, text: str | None = None, **replace: str) -> Path:
    """The solution's Dockerfile (or `text`), with any text replaced, written to tmp_path."""
    text = written_file("solutions", CONTAINER, "Dockerfile") if text is None else text
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "Dockerfile"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lint only, whether or not an engine runs here."""
    monkeypatch.setattr(docker, "engine", lambda: docker.Engine(None, "the docker command is not installed"))


START = 'CMD ["uvicorn", "penguins.serving.app:app", "--host", "0.0.0.0", "--port", "8000"]'
HEALTHCHECK = """HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \\
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
"""


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        (
            {"FROM python:3.11-slim": "FROM python:3.11"},
            r"^FROM python:3\.11 starts from about 1 GB .*: start from python:3\.11-slim$",
        ),
        (
            {"WORKDIR /app": "COPY . /app\nWORKDIR /app"},
            r"^COPY \. \(line \d+\) copies the whole project \(notebooks, data, \.venv: gigabytes, and maybe secrets\)",
        ),
        (
            {"COPY src/penguins/serving /app/penguins/serving": "COPY src /app/src"},
            r"^COPY src \(line \d+\) copies something serving does not need: "
            r"copy only requirements/serve.txt, .*mlp.onnx.json$",
        ),
        (
            {"-r /build/requirements/serve.txt": "-r /build/requirements/serve.txt torch"},
            r"^RUN \(line \d+\) installs the training stack \(torch, scikit-learn, pandas, JupyterLab: gigabytes\)",
        ),
        (
            {" -c /build/requirements/constraints.txt": ""},
            r"^RUN \(line \d+\) installs serve.txt without -c requirements/constraints.txt",
        ),
        (
            {"COPY artifacts/mlp.onnx artifacts/mlp.onnx.json /app/artifacts/\n": ""},
            r"^nothing copies artifacts/mlp.onnx and artifacts/mlp.onnx.json: the image needs the model",
        ),
        (
            {"COPY src/penguins/serving /app/penguins/serving\n": ""},
            r"^nothing copies src/penguins/serving: the image needs the serving package",
        ),
        (
            {"COPY src/penguins/__init__.py /app/penguins/\n": "", "COPY src/penguins/serving": "COPY src/penguins"},
            r"^COPY src/penguins \(line \d+\) copies something serving does not need",
        ),
        (
            {'"penguins.serving.app:app"': '"app:app"'},
            r"^CMD serves app:app, but the service's app is penguins.serving.app:app: "
            r"uvicorn penguins.serving.app:app$",
        ),
        ({"USER penguin\n": ""}, r"^no USER: the service runs as root.*USER penguin before CMD$"),
        ({"USER penguin\n": "USER 0:0\n"}, r"^USER 0:0 \(line \d+\) runs the service as root"),
        ({HEALTHCHECK: ""}, r"^no HEALTHCHECK: Docker cannot tell a service that hangs from a healthy one"),
        (
            {HEALTHCHECK: "HEALTHCHECK CMD curl -f http://127.0.0.1:8000/health\n"},
            r"^HEALTHCHECK \(line \d+\) calls curl, which a slim image does not have",
        ),
        (
            {START: "CMD uvicorn penguins.serving.app:app --host 0.0.0.0"},
            r"^CMD uvicorn penguins.serving.app:app --host 0.0.0.0 \(line \d+\) is in shell form: "
            r".* CMD \[\"uvicorn\", \.\.\.\]$",
        ),
        (
            {'"--host", "0.0.0.0", ': ""},
            r'^uvicorn listens on 127.0.0.1 unless told otherwise.*add "--host", "0.0.0.0"',
        ),
    ],
)
def test_each_lint_rule_says_what_to_do(tmp_path: Path, no_engine: None, replace: dict[str, str], message: str) -> None:
    with fails(message):
        checks.check_dockerfile(dockerfile(tmp_path, **replace))


def test_dockerfile_check_blank_missing_and_naive(tmp_path: Path, no_engine: None) -> None:
    with fails(r"^not done yet: write your Dockerfile in place of the line # TODO in the %%writefile Dockerfile cell"):
        checks.check_dockerfile(dockerfile(tmp_path, written_file("exercises", CONTAINER, "Dockerfile")))
    with fails(r"^no file Nowhere: run the %%writefile Nowhere cell first"):
        checks.check_dockerfile(tmp_path / "Nowhere")
    naive = dockerfile(tmp_path, written_file("solutions", CONTAINER, "naive.Dockerfile"))
    with fails(r"^FROM python:3\.11 starts from about 1 GB .* \(5 more after this one\)$"):
        checks.check_dockerfile(naive)
    assert len(ex06.lint_file(naive)) == 6


def test_a_hardened_dockerfile_passes_the_lint_alone_without_an_engine(
    tmp_path: Path, no_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    checks.check_dockerfile(dockerfile(tmp_path))
    assert capsys.readouterr().out == (
        "✓ Dockerfile passes the lint (from python:3.11-slim, serving requirements only, user penguin, "
        "HEALTHCHECK, exec form); not built: the docker command is not installed\n"
    )


def test_the_build_context_holds_the_allow_list_with_the_model_in_use(tmp_path: Path, artifact_dir: Path) -> None:
    context = docker.build_context(tmp_path / "context", artifact_dir, ROOT)
    files = sorted(p.relative_to(context).as_posix() for p in context.rglob("*") if p.is_file())
    serving = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "src/penguins/serving").glob("*.py"))
    assert files == sorted(
        [
            ".dockerignore",
            "docker/Dockerfile",
            "requirements/serve.txt",
            "requirements/constraints.txt",
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
    tmp_path: Path, engine: None, artifact_dir: Path
) -> None:
    stops = dockerfile(
        tmp_path,
        **{START: 'CMD ["python", "-c", "raise SystemExit(\'no service in here\')"]'},
    )
    warm = docker.build(
        "penguins-exercise-06:warm-cache", dockerfile=stops, artifacts=artifact_dir, say=lambda line: None
    )
    docker.remove_image(warm.image)  # the layers stay in the cache: the timed check below builds in seconds
    started = time.monotonic()
    with fails(r"^the container stopped; its log ends:\nno service in here$"):
        checks.check_dockerfile(stops)
    assert time.monotonic() - started < 60, "a container that stops is reported at once, not after a timeout"
