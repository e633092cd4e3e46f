"""PenguinPredictor: the wrapper class. Raw records in, species and probabilities out.

Clients send raw, messy values: the wrapper cleans them (`penguins.serving.cleaning`), refuses
what it will not answer (CleaningError, each problem with its code), feeds the model and names
the answer with its warnings, so a notebook, the command line, the service and the container
get the same answers from one class: `predict_one(record)` -> Prediction, `predict(records)`
-> Predictions. Any backend sits behind one interface (`ModelBackend`); serving opens the ONNX
files (numpy and onnxruntime only); the pickle of stage 02 needs scikit-learn, so its backend
lives with training (penguins.training.pickles).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, overload

import numpy as np

from penguins.serving.artifacts import ArtifactError, Metadata, read_artifact
from penguins.serving.cleaning import (
    DEFAULT_CLEANER,
    RECORD_FIELD,
    CleanBatch,
    Cleaner,
    CleaningError,
    FieldWarning,
    Prepared,
    Problem,
)
from penguins.serving.contract import (
    BACKEND_FILES,
    DEFAULT_BACKEND,
    FEATURES,
    NUMERIC_FEATURES,
    ONNX_BACKENDS,
    OUTPUT,
    Backend,
)
from penguins.serving.paths import artifacts_dir

Record = Mapping[str, object]
NO_FINITE_ODDS = (
    "the model gave no finite probabilities for these values: they are far outside anything it was trained on"
)


@dataclass(frozen=True)
class Prediction:
    """One answer: the species, every class's probability, which model said so, and what it
    answered despite (a field it filled in, a category it did not know)."""

    species: str
    probabilities: dict[str, float]
    model_version: str
    warnings: tuple[FieldWarning, ...] = ()


@dataclass(frozen=True, eq=False, repr=False)
class Predictions(Sequence[Prediction]):
    """The answers for a batch, held as arrays: `species`, the n×3 `probabilities` (columns in
    `classes` order), per-record `warnings`, and the `model_version`. Indexing or iterating
    builds a Prediction per record, only when asked: a batch of 10,000 costs no 10,000 objects."""

    classes: tuple[str, ...]
    probabilities: np.ndarray
    warnings: Sequence[tuple[FieldWarning, ...]]
    model_version: str

    @property
    def species(self) -> list[str]:
        """The most probable class of each record (the first one on a tie, as argmax picks)."""
        return [self.classes[index] for index in self.probabilities.argmax(axis=1).tolist()]

    def __len__(self) -> int:
        return len(self.probabilities)

    @overload
    def __getitem__(self, index: int) -> Prediction: ...
    @overload
    def __getitem__(self, index: slice) -> list[Prediction]: ...
    def __getitem__(self, index: int | slice) -> Prediction | list[Prediction]:
        if isinstance(index, slice):
            return [self[position] for position in range(len(self))[index]]
        row: list[float] = self.probabilities[index].tolist()
        best = max(range(len(row)), key=row.__getitem__)
        return Prediction(
            self.classes[best], dict(zip(self.classes, row, strict=True)), self.model_version, self.warnings[index]
        )

    def __repr__(self) -> str:
        return f"Predictions({len(self)} records, model {self.model_version})"


class ModelBackend(Protocol):
    """What the wrapper needs from a model: probabilities for a clean batch."""

    metadata: Metadata

    def predict_proba(self, batch: CleanBatch) -> np.ndarray: ...


class OnnxBackend:
    """An ONNX file run by ONNX Runtime, from bytes that were checked against their sha256."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        import onnxruntime as ort

        data, self.metadata = read_artifact(path, "onnx")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        inputs = [i.name for i in self.session.get_inputs()]
        if inputs != list(FEATURES):
            raise ArtifactError(f"{path} takes inputs {inputs}, the contract says {list(FEATURES)}")

    def predict_proba(self, batch: CleanBatch) -> np.ndarray:
        feeds = {name: batch[name].reshape(-1, 1) for name in FEATURES}
        probabilities: np.ndarray = self.session.run([OUTPUT], feeds)[0]
        return probabilities


class PenguinPredictor:
    """Raw records in, predictions out; see the module docstring for the backends."""

    def __init__(self, backend: ModelBackend, name: str, cleaner: Cleaner = DEFAULT_CLEANER) -> None:
        self.backend, self.backend_name, self.cleaner = backend, name, cleaner
        self.metadata = backend.metadata
        self.classes = tuple(self.metadata.classes)

    @classmethod
    def load(
        cls,
        backend: Backend = DEFAULT_BACKEND,
        path: Path | str | None = None,
        cleaner: Cleaner = DEFAULT_CLEANER,
    ) -> PenguinPredictor:
        """Open an ONNX backend's artifact: `path`, or its default file in the artifacts folder."""
        if backend in ONNX_BACKENDS:
            return cls(OnnxBackend(Path(path) if path else artifacts_dir() / BACKEND_FILES[backend]), backend, cleaner)
        if backend in BACKEND_FILES:
            raise ValueError(
                f"backend {backend!r} needs scikit-learn, which serving does not carry: "
                "load it with penguins.training.pickles.load_predictor"
            )
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(ONNX_BACKENDS)}")

    @property
    def model_version(self) -> str:
        return self.metadata.model_version

    def predict(self, records: Sequence[Record], one_record: bool = False) -> Predictions:
        """Predict for many raw records; any it will not answer raise one CleaningError naming
        every problem (a bad value, no measurement at all, no finite odds). `one_record`: the
        caller asked about one record, so its problems need no index to say where they are."""
        if isinstance(records, Mapping):
            raise TypeError("predict takes a list of records; use predict_one for a single one")
        return self._answer(self.cleaner.prepare(records, one_record), one_record)

    def predict_one(self, record: Record) -> Prediction:
        """Predict for one raw record; refusals as in predict, without an index to say where."""
        return self.predict([record], one_record=True)[0]

    def predict_columns(self, columns: Mapping[str, Sequence[object]]) -> Predictions:
        """Predict for raw values sent column by column, all of one length (the V2 protocol's
        tensors): the same cleaning and answers as `predict`, without a record per row."""
        return self._answer(self.cleaner.prepare_columns(columns))

    def predict_typed(self, records: Sequence[Record], one_record: bool = False) -> Predictions:
        """Predict for records of typed features taken as they are (what the bare model of stage
        03 does once its types are checked): no rule applied, nothing warned about; only values
        without finite odds are refused."""
        batch = {
            name: np.array(
                [record[name] for record in records], dtype=np.float32 if name in NUMERIC_FEATURES else object
            )
            for name in FEATURES
        }
        return self._answer(Prepared(batch, [()] * len(records), records.__getitem__), one_record)

    def _answer(self, prepared: Prepared, one_record: bool = False) -> Predictions:
        """The model's probabilities for a prepared batch; refuse the records it gave no finite
        odds for, each as it was sent."""
        if prepared.warnings:
            probabilities = self.backend.predict_proba(prepared.batch)
        else:  # no records: the model is not asked
            probabilities = np.empty((0, len(self.classes)), dtype=np.float32)
        if not math.isfinite(float(probabilities.sum())):  # one NaN or infinity anywhere makes the sum so
            unanswered = np.flatnonzero(~np.isfinite(probabilities).all(axis=1)).tolist()
            problems = [
                Problem(index, RECORD_FIELD, prepared.sent(index), "no_finite_odds", NO_FINITE_ODDS)
                for index in unanswered
            ]
            raise CleaningError(problems, one_record)
        return Predictions(self.classes, probabilities, prepared.warnings, self.model_version)
