"""Self-checks for the exercises: one function per task, one line when it passes, and a
`CheckFailed` that says what was expected, what was found and what to try when it does not.

Why it is built this way:
- A blank answer is the placeholder `...` that `workshop.exercises` leaves in place of the
  solution. Every check looks for it first and answers "not done yet: <what to do>", so a
  student who runs a check early reads the task, not a NameError.
- Every check works out what it expects on its own: from the data, or by running the
  student's function or file on inputs it makes itself. A check that trusts the numbers it is
  checking passes on a wrong answer.
- Heavy libraries are imported inside the check that needs them: every exercise imports this
  module, and a stage without torch should not pay for it.
"""

from __future__ import annotations

import functools
import math
import re
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from penguins.serving.contract import CLASSES

if TYPE_CHECKING:
    from penguins.serving.cleaning import CleanBatch, Cleaner
    from penguins.training.data import Dataset
    from penguins.training.mlp import PenguinMLP
    from workshop.server import Server

PLACEHOLDER = ...
ACCURACY_THRESHOLD = 0.95
PARITY_ROWS = (1, 7, 200)


class CheckFailed(AssertionError):
    """A check that did not pass; its message is all a student reads, so it says what to do.

    An AssertionError, so pytest reports it as a failed assertion; in a notebook it shows as
    one red line instead of a traceback through this module.
    """

    def _render_traceback_(self) -> list[str]:
        """IPython shows this instead of the traceback: the message is the whole story."""
        return [f"\x1b[31mCheckFailed\x1b[0m: {self}"]


def require(value: object, todo: str) -> None:
    """Stop with "not done yet" while `value` is still the placeholder `...`."""
    if value is PLACEHOLDER:
        raise CheckFailed(f"not done yet: {todo}")


def passed(message: str) -> None:
    """The one line a passing check prints."""
    print(f"✓ {message}")


@functools.cache
def held_out() -> Dataset:
    """The held-out penguins, split from the data here, so no answer can bring its own."""
    from penguins.training import data

    _, test_rows = data.split(data.raw_as_contract(data.load_penguins_raw()))
    return data.prepare(test_rows)


def _first_line(error: BaseException) -> str:
    """An error as one short line: its type, and the first line of its message if it has one."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


# 01 · a model in a notebook


def check_model_beats(model: Any, threshold: float = ACCURACY_THRESHOLD) -> None:
    """Another kind of model than the lecture's reaches `threshold` on the held-out rows."""
    require(model, "train another kind of model (e.g. k-nearest neighbours) on train.features, "
                   "train.labels and assign it to `model`")
    if not hasattr(model, "predict"):
        raise CheckFailed(f"expected a fitted scikit-learn model (it has .predict), found {type(model).__name__}")
    name = type(_last_step(model)).__name__
    if name == "LogisticRegression":
        raise CheckFailed("that is the lecture's logistic regression: train another kind of model, "
                          "e.g. sklearn.neighbors.KNeighborsClassifier")
    test = held_out()
    accuracy = float(np.mean(_predict_held_out(model, test) == test.labels))
    if accuracy < threshold:
        hint = ("try other hyper-parameters or another model" if _scales(model) else
                "did you scale the numeric columns? Body mass in grams swamps bill depth in "
                "millimetres; logreg.build_preprocessor() imputes, scales and encodes them")
        raise CheckFailed(f"held-out accuracy {accuracy:.2f} < {threshold:.2f}: {hint}")
    passed(f"{name} scores {accuracy:.3f} on the {len(test)} held-out penguins (at least {threshold:.2f})")


def _last_step(model: Any) -> Any:
    """The estimator at the end of a Pipeline, or the model itself."""
    steps = getattr(model, "steps", None)
    return steps[-1][1] if steps else model


def _scales(model: Any) -> bool:
    """Whether a scaler sits anywhere inside the model (StandardScaler, MinMaxScaler, ...)."""
    params = model.get_params(deep=True) if hasattr(model, "get_params") else {}
    return any(type(value).__name__.endswith("Scaler") for value in params.values())


def _predict_held_out(model: Any, test: Dataset) -> np.ndarray:
    from sklearn.exceptions import NotFittedError

    try:
        return np.asarray(model.predict(test.features))
    except NotFittedError:
        raise CheckFailed("the model is not fitted yet: call model.fit(train.features, train.labels)") from None
    except Exception as error:  # whatever the student's model raises, the student needs the reason
        raise CheckFailed(
            f"model.predict failed on the held-out rows ({_first_line(error)}): fit it on "
            "train.features (text columns, missing values) inside a Pipeline that starts with "
            "logreg.build_preprocessor()"
        ) from None


# 02 · save the model


def check_saved_with_metadata(path: Path | str, meta: Any) -> None:
    """A pickle with a sidecar whose hash, classes, libraries and accuracy are all true."""
    require(meta, "save `model` at saved_path with artifacts.write_artifact and keep what it returns in `meta`")
    from penguins.serving import artifacts
    from penguins.training import pickles

    path = Path(path)
    if not path.exists():
        raise CheckFailed(f"no file {path.name}: write it with artifacts.write_artifact(saved_path, pickle.dumps(model), ...)")
    if not artifacts.sidecar(path).exists():
        raise CheckFailed(f"{path.name} has no metadata beside it (expected {artifacts.sidecar(path).name}): "
                          "artifacts.write_artifact writes both")
    try:
        model, on_disk = pickles.load_pickle(path)
    except artifacts.ArtifactError as error:
        raise CheckFailed(f"loading {path.name} was refused: {error}") from None
    if meta != on_disk:
        raise CheckFailed(f"`meta` is not what write_artifact wrote for {path.name}: assign meta = artifacts.write_artifact(...)")
    _check_metadata_is_true(model, meta)
    passed(f"{path.name}: sha256 {meta.sha256[:12]} verified, model version {meta.model_version}, "
           f"test accuracy {meta.metrics['test_accuracy']:.3f} is what the saved model scores")


def _check_metadata_is_true(model: Any, meta: Any) -> None:
    """Compare what the sidecar claims with what the loaded model does on the held-out rows."""
    if not hasattr(model, "predict"):
        raise CheckFailed(f"the pickle holds a {type(model).__name__}, not a model: save pickle.dumps(model)")
    if meta.classes != list(CLASSES):
        raise CheckFailed(f"the metadata lists classes {meta.classes}, expected {list(CLASSES)}: pass classes=list(model.classes_)")
    if not meta.model_version or not isinstance(meta.model_version, str):
        raise CheckFailed("the metadata has no model_version: name the training run, e.g. with artifacts.model_version(...)")
    if "scikit-learn" not in meta.libraries:
        raise CheckFailed("the metadata does not say which scikit-learn made the pickle: pass "
                          "libraries=artifacts.library_versions('scikit-learn'); another version may load it differently")
    recorded = meta.metrics.get("test_accuracy")
    if not isinstance(recorded, (int, float)):
        raise CheckFailed(f"expected metrics={{'test_accuracy': ...}}, found metrics={meta.metrics}: "
                          "measure the accuracy on the held-out rows (logreg.accuracy(model, test))")
    test = held_out()
    actual = float(np.mean(model.predict(test.features) == test.labels))
    if abs(recorded - actual) > 1e-9:
        raise CheckFailed(f"the metadata says test_accuracy {recorded:.4f} but the saved model scores "
                          f"{actual:.4f} on the held-out rows: record the accuracy you measured on `test`")


def check_tamper_detected(is_intact: Callable[[Path], bool]) -> None:
    """`is_intact` passes an untouched artifact and catches every kind of damage."""
    require(is_intact, "define is_intact(path) -> bool")
    with tempfile.TemporaryDirectory() as tmp:
        for damage, path in _damaged_copies(Path(tmp)).items():
            verdict = _ask(is_intact, path, damage)
            expected = damage == "untouched"
            if verdict != expected:
                raise CheckFailed(f"is_intact says {verdict} for {damage}, expected {expected}: {_TAMPER_HINTS[expected]}")
    passed("is_intact accepts an untouched file and catches a changed byte, a file cut short and an added byte")


_TAMPER_HINTS = {
    True: "an untouched file must pass; compare hashlib.sha256(path.read_bytes()).hexdigest() "
          "with artifacts.read_metadata(path).sha256",
    False: "compare the hash of the bytes with the recorded sha256, not the size or the name",
}


def _damaged_copies(folder: Path) -> dict[str, Path]:
    """An artifact of the check's own, copied untouched and with three kinds of damage."""
    from penguins.serving import artifacts

    original = folder / "model.bin"
    artifacts.write_artifact(original, bytes(range(256)) * 8, format="pickle", kind="sklearn-pipeline",
                             classes=list(CLASSES), metrics={}, model_version="check-0")
    damages: dict[str, Callable[[bytes], bytes]] = {
        "untouched": lambda data: data,
        "a file with one byte changed": lambda data: data[:100] + bytes([data[100] ^ 1]) + data[101:],
        "a file cut short": lambda data: data[:-10],
        "a file with one byte added": lambda data: data + b"\0",
    }
    copies = {}
    for index, (damage, change) in enumerate(damages.items()):
        copy = folder / f"copy{index}" / original.name
        copy.parent.mkdir()
        shutil.copyfile(artifacts.sidecar(original), artifacts.sidecar(copy))
        copy.write_bytes(change(original.read_bytes()))
        copies[damage] = copy
    return copies


def _ask(is_intact: Callable[[Path], bool], path: Path, damage: str) -> bool:
    """The student's verdict on one file; a blank, a crash or a non-bool is the message."""
    try:
        verdict = is_intact(path)
    except Exception as error:  # any crash of the student's function is the finding
        raise CheckFailed(f"is_intact raised {_first_line(error)} for {damage}: return True or False instead") from None
    require(verdict, "write the body of is_intact: compare the file's sha256 with the one in its sidecar")
    if not isinstance(verdict, (bool, np.bool_)):
        raise CheckFailed(f"is_intact must return True or False, it returned {verdict!r} for {damage}")
    return bool(verdict)


# 03 · ONNX


def check_onnx_parity(onnx_path: Path | str, net: PenguinMLP, max_diff: float) -> None:
    """The exported file takes any batch size and gives the network's probabilities."""
    require(onnx_path, "export mlp.WithSoftmax(net) with torch.onnx.export and assign the file's path to onnx_path")
    require(max_diff, "run the ONNX file and the network on the same rows; assign the largest "
                      "absolute difference of their probabilities to max_diff")
    from penguins.training.build import PARITY_TOLERANCE

    session = _onnx_session(Path(onnx_path))
    batch_axis = session.get_inputs()[0].shape[0]
    if not isinstance(batch_axis, str):
        raise CheckFailed(f"the batch axis is frozen at {batch_axis} rows: declare it with "
                          "dynamic_shapes=({0: 'batch'},) so one row or a thousand both work")
    measured = _measured_difference(session, net)
    if measured > PARITY_TOLERANCE:
        raise CheckFailed(f"ONNX and torch differ by {measured:.1e} on the same rows (tolerance "
                          f"{PARITY_TOLERANCE:.0e}): export the trained `net` itself, in eval mode")
    _check_reported_difference(max_diff, PARITY_TOLERANCE)
    rows = ", ".join(map(str, PARITY_ROWS))
    passed(f"{Path(onnx_path).name}: batch axis '{batch_axis}'; {rows} rows match torch within "
           f"{measured:.1e} (you measured {max_diff:.1e})")


def _onnx_session(path: Path) -> Any:
    """Open the file, and insist on the names the service and the other stages rely on."""
    import onnxruntime as ort

    if not path.exists():
        raise CheckFailed(f"no file {path.name}: pass the same path to torch.onnx.export and to onnx_path")
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as error:  # ONNX Runtime has its own error types; the reason is what counts
        raise CheckFailed(f"ONNX Runtime cannot open {path.name} ({_first_line(error)})") from None
    names = [i.name for i in session.get_inputs()], [o.name for o in session.get_outputs()]
    if names != (["features"], ["probabilities"]):
        raise CheckFailed(f"expected input ['features'] and output ['probabilities'], found {names[0]} and "
                          f"{names[1]}: name them with input_names=... and output_names=...")
    return session


def _measured_difference(session: Any, net: PenguinMLP) -> float:
    """The largest difference from torch over batches of several sizes of the check's own rows."""
    from penguins.training import mlp

    rng = np.random.default_rng(0)
    worst = 0.0
    for rows in PARITY_ROWS:
        features = rng.normal(size=(rows, net.n_features)).astype(np.float32)
        try:
            (answer,) = session.run(["probabilities"], {"features": features})
        except Exception as error:  # ONNX Runtime's own error types
            raise CheckFailed(f"ONNX Runtime refused a batch of {rows} ({_first_line(error)})") from None
        if answer.shape != (rows, net.n_classes) or not np.allclose(answer.sum(axis=1), 1.0, atol=1e-4):
            raise CheckFailed(f"for a batch of {rows} the file gives shape {answer.shape}, not {rows} row(s) of "
                              f"{net.n_classes} probabilities summing to 1: export mlp.WithSoftmax(net), not the bare network")
        worst = max(worst, float(np.abs(answer - mlp.predict_proba(net, features)).max()))
    return worst


def _check_reported_difference(max_diff: object, tolerance: float) -> None:
    """The student's own parity figure must be a real measurement that shows parity."""
    if isinstance(max_diff, bool) or not isinstance(max_diff, (int, float, np.floating)):
        raise CheckFailed(f"max_diff must be a number, found {type(max_diff).__name__}: use float(np.abs(a - b).max())")
    if not math.isfinite(max_diff) or max_diff < 0:
        raise CheckFailed(f"max_diff is {max_diff}: a largest absolute difference is a finite number >= 0")
    if max_diff > tolerance:
        raise CheckFailed(f"your max_diff is {max_diff:.1e}, above the tolerance {tolerance:.0e}: compare "
                          "probabilities with probabilities for the same rows in the same order")


# 04 · the wrapper class


def check_kilograms_rule(predictor: Any) -> None:
    """The wrapper reads a mass in kilograms as grams, and nothing else changes."""
    require(predictor, "load my_predictor = PenguinPredictor.load(cleaner=my_cleaner) with your rule")
    from penguins.serving.cleaning import DEFAULT_CLEANER
    from penguins.serving.predictor import PenguinPredictor

    if not isinstance(predictor, PenguinPredictor):
        raise CheckFailed(f"expected a PenguinPredictor, found {type(predictor).__name__}")
    cleaner = predictor.cleaner
    if not cleaner.pre_rules:
        raise CheckFailed("the predictor's cleaner has no pre-rule: pass cleaner=DEFAULT_CLEANER.with_pre_rule(kilograms_to_grams)")
    grams = _weighed_records()
    kilograms = [{**record, "body_mass_g": _kilograms(record["body_mass_g"])} for record in grams]
    _check_rules_are_written(cleaner, kilograms[0])
    _compare_cleaning(cleaner, kilograms, DEFAULT_CLEANER.clean(grams))
    for value in _MASSES_TO_KEEP:
        _check_mass_kept(cleaner, value)
    got = [p.species for p in predictor.predict(kilograms)]
    expected = [p.species for p in predictor.predict_clean(DEFAULT_CLEANER.clean(grams))]
    if got != expected:
        raise CheckFailed("the same penguins get other species in kilograms than in grams: compare your cleaned masses")
    passed(f"{len(kilograms)} penguins weighed in kilograms clean to the same grams and get the same species; "
           "grams, text, 'NA', None and a missing mass are left as they were")


# Raw masses a kilogram rule must leave alone: grams, grams as text, the data set's missing markers.
_MASSES_TO_KEEP: tuple[object, ...] = (3750, 3750.0, "3750", "NA", "", None, "missing field")


def _check_rules_are_written(cleaner: Cleaner, record: dict[str, object]) -> None:
    """A pre-rule whose body is still the placeholder returns `...`: that is "not done yet"."""
    for rule in cleaner.pre_rules:
        name = getattr(rule, "__name__", "your rule")
        try:
            result = rule(dict(record))
        except Exception as error:  # a crash inside the student's rule
            raise CheckFailed(f"{name} crashed on a record with the mass in kilograms ({_first_line(error)})") from None
        require(result, f"finish {name}: it still returns ...")


@functools.cache
def _weighed_penguins() -> tuple[tuple[tuple[str, object], ...], ...]:
    from penguins.training import data

    records = data.to_records(data.raw_as_contract(data.load_penguins_raw()))
    weighed = [record for record in records if record["body_mass_g"] is not None][::17]
    return tuple(tuple(record.items()) for record in weighed)


def _weighed_records() -> list[dict[str, object]]:
    """Real raw records with a body mass, spread over the data set, plus one of exactly 4000 g
    (4 kg, an int); fresh dicts every call."""
    records = [dict(items) for items in _weighed_penguins()]
    return [*records, {**records[0], "body_mass_g": 4000.0}]


def _kilograms(grams: float) -> float | int:
    """A mass as a client writing kilograms sends it: 3.75, or 4 for a round number."""
    return int(grams // 1000) if grams % 1000 == 0 else grams / 1000


def _clean(cleaner: Cleaner, records: list[dict[str, object]], what: str) -> CleanBatch:
    """Clean with the student's cleaner; a refusal or a crash becomes the message."""
    from penguins.serving.cleaning import CleaningError

    try:
        return cleaner.clean(records)
    except CleaningError as error:
        raise CheckFailed(f"{what} was refused ({error.problems[0]}): convert kilograms to grams before the range check") from None
    except Exception as error:  # a crash inside the student's rule
        raise CheckFailed(f"your rule crashed on {what} ({_first_line(error)}): a pre-rule sees raw values, "
                          "so check the type before comparing") from None


def _compare_cleaning(cleaner: Cleaner, kilograms: list[dict[str, object]], expected: CleanBatch) -> None:
    """Masses in kilograms must clean to the grams the default cleaner makes of the same birds."""
    got = _clean(cleaner, kilograms, "a record with the body mass in kilograms")
    for name, column in expected.items():
        if column.dtype == object:
            differs = got[name] != column
        else:
            differs = ~np.isclose(got[name], column, rtol=1e-6, equal_nan=True)
        if differs.any():
            index = int(np.flatnonzero(differs)[0])
            found, wanted = _shown(got[name][index]), _shown(column[index])
            hint = "multiply a mass below 100 by 1000" if name == "body_mass_g" else "leave the other fields as they are"
            raise CheckFailed(f"{name} {kilograms[index][name]!r} cleans to {found}, expected {wanted}: {hint}")


def _shown(value: object) -> str:
    """A cleaned value as a person writes it: 3750 rather than np.float32(3750.0)."""
    return f"{float(value):g}" if isinstance(value, np.floating) else repr(value)


def _check_mass_kept(cleaner: Cleaner, value: object) -> None:
    """A value that is not a number of kilograms cleans exactly as it would without the rule."""
    from penguins.serving.cleaning import DEFAULT_CLEANER, CleaningError
    from penguins.serving.examples import CLEAN_RECORD

    record = {key: val for key, val in CLEAN_RECORD.items() if key != "body_mass_g"}
    if value != "missing field":
        record["body_mass_g"] = value
    try:
        expected = DEFAULT_CLEANER.clean([record])["body_mass_g"]
    except CleaningError:
        expected = None
    try:
        got = cleaner.clean([dict(record)])["body_mass_g"]
    except CleaningError:
        got = None
    except Exception as error:  # a crash inside the student's rule
        raise CheckFailed(f"your rule crashed on a body mass of {value!r} ({_first_line(error)}): a pre-rule "
                          "sees raw values (text, None, no field at all); convert only numbers below 100") from None
    if (got is None) != (expected is None) or (got is not None and not np.array_equal(got, expected, equal_nan=True)):
        raise CheckFailed(f"a body mass of {value!r} cleans differently with your rule: convert only numbers "
                          "(int or float) below 100 and leave everything else to the cleaner")


def check_rule_test(test: Callable[[Cleaner], None], cleaner: Cleaner) -> None:
    """The student's test passes with their rule and fails without it or with a wrong one."""
    from penguins.serving.cleaning import DEFAULT_CLEANER

    without_rule = _run_test(test, DEFAULT_CLEANER)
    require(cleaner, "finish task 1 first: my_cleaner is still ...")
    mine = _run_test(test, cleaner)
    if mine is not None:
        raise CheckFailed(f"your test fails with your own cleaner ({_first_line(mine)}): fix the test or the rule")
    if without_rule is None:
        raise CheckFailed("your test passes with DEFAULT_CLEANER too, which has no kilogram rule: it would not "
                          "notice the rule going missing. Clean a mass in kilograms and assert the grams")
    if _run_test(test, DEFAULT_CLEANER.with_pre_rule(_rounding_kilograms)) is None:
        raise CheckFailed("your test passes with a wrong rule that rounds 3.75 kg down to 3000 g: use a mass "
                          "with decimals and assert the exact grams (3.75 kg is 3750 g)")
    passed("your test passes with your rule and fails without it and with a rule that rounds kilograms down")


def _run_test(test: Callable[[Cleaner], None], cleaner: Cleaner) -> Exception | None:
    """None if the test passed, else what it raised; a blank test is "not done yet"."""
    try:
        outcome = test(cleaner)
    except Exception as error:  # a failing test may raise anything, AssertionError or not
        return error
    require(outcome, "write the test's body: clean a record with the mass in kilograms and assert the grams")
    return None


def _rounding_kilograms(record: dict[str, object]) -> dict[str, object]:
    """A wrong rule for check_rule_test: kilograms rounded down before they become grams."""
    mass = record.get("body_mass_g")
    if isinstance(mass, (int, float)) and not isinstance(mass, bool) and mass < 100:
        record["body_mass_g"] = int(mass) * 1000
    return record


# 05 · the service

SPECIES_PATH = "/predict/species"
_SPECIES_LOGGED = re.compile(r"\bPOST /predict/species \d{3} [\d.]+ ms")  # penguins.serving.api's request log
_HEALTH_LOGGED = re.compile(r"\bGET /health \d{3} [\d.]+ ms")
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception)\b.*")  # a traceback's last line
_RESTART = ("then run that cell and the cell that starts the server again: a running server keeps "
            "the my_service.py it started with")


def check_species_endpoint(server: Server) -> None:
    """POST /predict/species gives the in-process species, a 422 naming each bad field, and
    keeps the service's batch limit; everything over HTTP, against the student's own server."""
    require(server, 'start your service: server = start("my_service:app")')
    from penguins.client import InvalidInput
    from penguins.serving.examples import BAD_RECORD, CLEAN_RECORD

    info = _service_model(server)
    limit = info["batch_limit"]
    records = _served_records()[:limit]
    response = _post_species(server, records, "real penguins")
    if response.status_code != 200:
        raise CheckFailed(f"real penguins got {response.status_code} ({response.text[:150]}), expected 200 "
                          "with their species: predict with request.app.state.predictor")
    _check_species_body(response.json(), records, info)

    bad = [CLEAN_RECORD, BAD_RECORD]
    response = _post_species(server, bad, "a batch with bad values ([CLEAN_RECORD, BAD_RECORD])")
    if response.status_code != 422:
        raise CheckFailed(f"a batch with bad values ([CLEAN_RECORD, BAD_RECORD]) got {response.status_code}, "
                          "expected 422 naming each bad field: catch CleaningError, raise RequestValidationError")
    detail = response.json().get("detail")
    if not isinstance(detail, list) or not all(isinstance(error, dict) for error in detail):
        raise CheckFailed(f"the 422's detail is {detail!r}, expected FastAPI's list of {{loc, msg, input}}: "
                          "raise RequestValidationError([...]), so that clients learn which field to fix")
    expected = _problems_named(bad)
    named = [where for where, _, _ in InvalidInput(detail).problems]
    if sorted(named) != sorted(expected):
        raise CheckFailed(f"the 422 names {named}, expected {expected}: one error per problem of "
                          'error.problems, with loc ["body", problem.record, problem.field]')

    too_many = _post_species(server, [CLEAN_RECORD] * (limit + 1), f"{limit + 1} records")
    if too_many.status_code != 422:
        raise CheckFailed(f"{limit + 1} records got {too_many.status_code}, but the service takes at most "
                          f"{limit} (GET /model says batch_limit): keep Field(max_length=BATCH_LIMIT) on the list")
    passed(f"POST {SPECIES_PATH}: {len(records)} penguins get their in-process species, bad values a 422 "
           f"naming {len(expected)} fields, {limit + 1} records a 422 (the limit is {limit})")


def check_species_counts(species_counts: Callable[[str, list[dict]], Mapping[str, int]], server: Server) -> None:
    """The client counts species through the endpoint in as few calls as the batch limit allows."""
    require(server, "finish task 1 first: server is still ...")
    from penguins.client import InvalidInput, ServiceError

    info = _service_model(server)
    limit = info["batch_limit"]
    records = _counted_records(limit)
    expected = Counter(_in_process_species(info["backend"], records))
    since = len(server.logs())
    try:
        counts = species_counts(server.url, [dict(record) for record in records])
    except InvalidInput as error:
        where, why, _ = error.problems[0]
        raise CheckFailed(f"the service refused a call of species_counts ({where}: {why}): it takes at most "
                          f"{limit} records per call (client.model()['batch_limit']): send them in chunks") from None
    except ServiceError as error:
        raise CheckFailed(f"species_counts failed talking to the service ({_first_line(error)})") from None
    except Exception as error:  # whatever the student's function raises, the student needs the reason
        raise CheckFailed(f"species_counts raised {_first_line(error)}") from None
    require(counts, "write the body of species_counts: ask the service in chunks of at most batch_limit "
                    "records and add up the names")
    calls = _logged_species_calls(server, since)
    if not isinstance(counts, Mapping):
        raise CheckFailed(f"species_counts must return a dict of species -> count, it returned a {type(counts).__name__}")
    if calls == 0:
        raise CheckFailed(f"species_counts made no call to POST {SPECIES_PATH}: ask the service "
                          "(SpeciesClient(url).species(...)), not a model of your own")
    if dict(counts) != dict(expected):
        raise CheckFailed(f"species_counts says {_sorted(counts)} for these {len(records)} penguins, expected "
                          f"{_sorted(expected)}: add up the names of every chunk, the last (shorter) one too")
    needed = math.ceil(len(records) / limit)
    if calls > needed:
        raise CheckFailed(f"species_counts made {calls} calls for {len(records)} penguins, where {needed} calls of "
                          f"up to {limit} carry them all: send chunks of batch_limit records, not a few at a time")
    counted = ", ".join(f"{count} {name}" for name, count in _sorted(counts).items())
    passed(f"{len(records)} penguins counted in {calls} calls of at most {limit} records: {counted}")


def _service_model(server: Server) -> dict[str, Any]:
    """GET /model of the student's server; a stopped or broken server is the message."""
    from penguins.client import ServiceError
    from workshop.server import Server

    if not isinstance(server, Server):
        raise CheckFailed(f'expected the Server that start("my_service:app") returns, found {type(server).__name__}')
    if not server.running:
        raise CheckFailed("your server is not running (it was stopped, or it crashed: server.logs() says why): "
                          "run the cell that starts it again")
    try:
        with server.client() as client:
            return client.model()
    except ServiceError as error:
        raise CheckFailed(f"GET /model failed ({_first_line(error)}): build app with "
                          "create_app(Settings(...)), which brings /model, /health and /predict") from None


def _post_species(server: Server, records: list[dict[str, object]], what: str) -> Any:
    """POST the records to the endpoint; a missing route or a crash becomes the message."""
    import requests

    since = len(server.logs())
    try:
        response = requests.post(server.url + SPECIES_PATH, json=records, timeout=10)
    except requests.RequestException as error:
        raise CheckFailed(f"your server did not answer POST {SPECIES_PATH} ({_first_line(error)}): "
                          "server.logs() says why") from None
    if response.status_code in (404, 405):
        raise CheckFailed(f"your service has no POST {SPECIES_PATH} ({response.status_code}): declare it with "
                          f'@app.post("{SPECIES_PATH}", ...) in my_service.py, {_RESTART}')
    if response.status_code >= 500:
        logged, reason = _crash(server, since)
        if "Ellipsis" in logged:
            raise CheckFailed(f"not done yet: write the body of predict_species in my_service.py (it still "
                              f"returns ...), {_RESTART}")
        raise CheckFailed(f"{what} crashed your endpoint ({response.status_code}; the server's log says "
                          f"{reason}): server.logs() has the whole traceback")
    return response


def _crash(server: Server, since: int) -> tuple[str, str]:
    """What the server logged after `since` and the last line of its traceback. Uvicorn logs
    the traceback just after it answers 500, so give it a moment to arrive."""
    deadline = time.monotonic() + 3
    while True:
        logged = server.logs()[since:]
        reasons = [line.strip() for line in logged.splitlines() if _EXCEPTION_LINE.match(line)]
        if reasons or time.monotonic() > deadline:
            return logged, reasons[-1] if reasons else "nothing yet"
        time.sleep(0.05)


def _check_species_body(body: Any, records: list[dict[str, object]], info: dict[str, Any]) -> None:
    species = body.get("species") if isinstance(body, dict) else None
    if not isinstance(species, list):
        raise CheckFailed(f'expected {{"species": [...], "model_version": ...}}, found {str(body)[:120]}: '
                          "return SpeciesOut(species=[...], model_version=...)")
    if len(species) != len(records):
        raise CheckFailed(f"{len(records)} records got {len(species)} names: one name per record, in the order sent")
    expected = _in_process_species(info["backend"], records)
    for index, (got, wanted) in enumerate(zip(species, expected)):
        if got != wanted:
            raise CheckFailed(f"record {index} ({records[index]}) is {wanted} in process, your endpoint says {got!r}: "
                              "predict all records with request.app.state.predictor and keep their order")
    if body.get("model_version") != info["model_version"]:
        raise CheckFailed(f"the answer says model_version {body.get('model_version')!r}, the service serves "
                          f"{info['model_version']!r}: take it from the predictor (predictor.model_version)")


def _problems_named(records: list[dict[str, object]]) -> list[str]:
    """Where the wrapper's cleaning finds a problem in these records, as the client names it."""
    from penguins.serving.cleaning import DEFAULT_CLEANER, CleaningError

    try:
        DEFAULT_CLEANER.clean(records)
    except CleaningError as error:
        return [f"record {problem.record}, field {problem.field}" for problem in error.problems]
    return []


def _logged_species_calls(server: Server, since: int) -> int:
    """How many POST /predict/species the server logged after `since`. One more request first,
    GET /health, whose line in the log shows that every earlier request has been logged."""
    with server.client() as client:
        client.health()
    deadline = time.monotonic() + 3
    while not _HEALTH_LOGGED.search(server.logs()[since:]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return len(_SPECIES_LOGGED.findall(server.logs()[since:]))


@functools.cache
def _data_records() -> tuple[tuple[tuple[str, object], ...], ...]:
    from penguins.training import data

    records = data.to_records(data.raw_as_contract(data.load_penguins_raw()))
    return tuple(tuple(record.items()) for record in records)


def _served_records() -> list[dict[str, object]]:
    """Raw records as clients send them: the messy examples, then real penguins of every species."""
    from penguins.serving.examples import CLEAN_RECORD, MESSY_RECORDS

    real = [dict(items) for items in _data_records()[5::23]]
    return [dict(CLEAN_RECORD), *(dict(record) for record in MESSY_RECORDS), *real]


def _counted_records(limit: int) -> list[dict[str, object]]:
    """Real penguins spread over the data set: two and a half batches' worth (all 344 at most)."""
    everything = _data_records()
    wanted = min(len(everything), 2 * limit + max(1, limit // 2))
    return [dict(everything[index * len(everything) // wanted]) for index in range(wanted)]


@functools.cache
def _predictor(backend: str) -> Any:
    from penguins.serving.predictor import PenguinPredictor

    return PenguinPredictor.load(backend)


def _in_process_species(backend: str, records: list[dict[str, object]]) -> list[str]:
    """The species the wrapper gives these records in this process: what the service must say."""
    return [prediction.species for prediction in _predictor(backend).predict(records)]


def _sorted(counts: Mapping[str, int]) -> dict[str, int]:
    return {name: counts[name] for name in sorted(counts)}


# 06 · the container


def check_dockerfile(path: Path | str) -> None:
    """The Dockerfile passes the lint; where an engine answers, it builds, runs and answers /health."""
    from penguins.serving import artifacts
    from penguins.serving.paths import artifacts_dir, project_root
    from workshop import dockerfile_check as docker

    path = Path(path)
    if not path.exists():
        raise CheckFailed(f"no file {path.name}: run the %%writefile {path.name} cell first")
    dockerfile = docker.Dockerfile.parse(path.read_text(encoding="utf-8"))
    if dockerfile.todo:
        raise CheckFailed(f"not done yet: write your Dockerfile in place of the line # TODO in the "
                          f"%%writefile {path.name} cell, then run that cell and this one")
    root = project_root()
    found = docker.problems(dockerfile, docker.allowed_paths(root))
    if found:
        more = f" ({len(found) - 1} more after this one)" if len(found) > 1 else ""
        raise CheckFailed(found[0] + more)
    lint = (f"{path.name} passes the lint (from {dockerfile.bases[-1]}, serving requirements only, "
            f"user {dockerfile.last('USER').value}, HEALTHCHECK, exec form)")
    if not docker.engine_answers():
        passed(f"{lint}; not built: no Docker engine answers here (make docker-engine says how to get one)")
        return
    try:
        trial = docker.try_image(path, dockerfile, root, artifacts_dir())
    except docker.ContainerFailed as error:
        raise CheckFailed(str(error)) from None
    served = trial.health.get("model_version")
    expected = artifacts.read_metadata(artifacts_dir() / "mlp.onnx").model_version
    if served != expected:
        raise CheckFailed(f"the container serves model {served!r}, expected {expected!r} (artifacts/mlp.onnx): "
                          "copy artifacts/mlp.onnx and artifacts/mlp.onnx.json")
    passed(f"{lint}; built on {trial.base} in {trial.build_seconds:.0f} s, adds {trial.added_mb:.0f} MB to its base, ran as "
           f"{trial.user}, /health answered with model {served}; container and image removed")
