"""A drift check: does recent traffic look like the training data, feature by feature?

A model answers confidently whatever it is sent, so a change in the data (a new island's
penguins, a scale that now weighs in kilograms, a sensor that drifts) shows in no error
rate. What shows it is a comparison of distributions: each numeric feature with a two-sample
Kolmogorov-Smirnov test, each category with a chi-square test of the two count tables. With
six tests at once some would fail by chance, so each is held to alpha / 6 (Bonferroni): a
feature is called drifted when its p-value is below that.

The reference is the training split's cleaned features, written into the model's sidecar by
`penguins.training.build` (Metadata.reference), so the check needs no training data at run
time. Recent records are raw, as clients sent them; they are cleaned by the same rules as in
production, so a drift check never disagrees with the service about what a value means.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from penguins.serving.cleaning import CleanBatch, CleaningError, clean_records
from penguins.serving.contract import CATEGORICAL_FEATURES, FEATURES, NUMERIC_FEATURES

ALPHA = 0.01


def reference_from(batch: CleanBatch) -> dict[str, Any]:
    """What the sidecar keeps: every known value of each numeric feature, counts of each category."""
    numeric = {name: [round(float(v), 4) for v in batch[name] if not math.isnan(v)] for name in NUMERIC_FEATURES}
    categorical = {name: dict(Counter(str(v) for v in batch[name] if v)) for name in CATEGORICAL_FEATURES}
    return {"numeric": numeric, "categorical": categorical}


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's test: which test, its statistic and p-value, and the verdict."""

    feature: str
    test: str
    statistic: float
    p_value: float
    threshold: float

    @property
    def drifted(self) -> bool:
        return self.p_value < self.threshold

    def __str__(self) -> str:
        verdict = "DRIFTED" if self.drifted else "as in training"
        return f"{self.feature:<18} {self.test:<9} statistic {self.statistic:8.3f}  p = {self.p_value:.2e}  {verdict}"


@dataclass(frozen=True)
class DriftReport:
    """Every feature's test on `records` recent records."""

    records: int
    features: tuple[FeatureDrift, ...]

    @property
    def drifted(self) -> list[str]:
        """The features whose distribution differs from training."""
        return [f.feature for f in self.features if f.drifted]

    def describe(self) -> str:
        """A few lines a person reads: one per feature, then the verdict."""
        threshold = self.features[0].threshold if self.features else ALPHA
        lines = [f"{self.records} recent records against the training data (each test at p < {threshold:.2g})"]
        lines += [str(feature) for feature in self.features]
        lines.append(f"drifted: {', '.join(self.drifted)}" if self.drifted else "no feature drifted")
        return "\n".join(lines)


def check(reference: Mapping[str, Any], batch: CleanBatch, alpha: float = ALPHA) -> DriftReport:
    """Test every feature of the clean `batch` against the reference (Bonferroni-corrected)."""
    threshold = alpha / len(FEATURES)
    results = []
    for name in FEATURES:
        if name in NUMERIC_FEATURES:
            recent = batch[name][~np.isnan(batch[name])]
            ks = stats.ks_2samp(np.asarray(reference["numeric"][name], dtype=np.float64), recent)
            results.append(FeatureDrift(name, "KS", float(ks.statistic), float(ks.pvalue), threshold))
        else:
            statistic, p_value = _chi_square(reference["categorical"][name], Counter(str(v) for v in batch[name] if v))
            results.append(FeatureDrift(name, "chi2", statistic, p_value, threshold))
    return DriftReport(len(batch[FEATURES[0]]), tuple(results))


def _chi_square(expected: Mapping[str, int], observed: Mapping[str, int]) -> tuple[float, float]:
    """Chi-square test of a 2×k table: training counts against recent counts, per category."""
    categories = sorted(set(expected) | set(observed))
    table = np.array([[expected.get(c, 0) for c in categories], [observed.get(c, 0) for c in categories]])
    if table.shape[1] < 2 or table[1].sum() == 0:
        return 0.0, 1.0  # one category, or nothing recent to compare: no evidence of a change
    result = stats.chi2_contingency(table)
    return float(result.statistic), float(result.pvalue)


def check_records(
    reference: Mapping[str, Any], records: Sequence[Mapping[str, object]], alpha: float = ALPHA
) -> DriftReport:
    """The same check on raw records, cleaned by production's rules first. Records the service
    would refuse are left out: the model never answered them, so they are not its traffic."""
    try:
        batch = clean_records(records)
    except CleaningError as err:
        refused = {problem.record for problem in err.problems}
        batch = clean_records([record for index, record in enumerate(records) if index not in refused])
    return check(reference, batch, alpha)


def read_records(path: Path | str) -> list[dict[str, Any]]:
    """Raw records from a JSON Lines file, one per line: the record itself, or the station's
    line, {"time": ..., "request_id": ..., "record": {...}}, whose record is taken."""
    records = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as err:
            raise ValueError(f"{path}, line {number}: not JSON ({err})") from None
        if isinstance(record, dict) and isinstance(record.get("record"), dict):
            record = record["record"]  # the station's line: when, which request, and the record
        if not isinstance(record, dict):
            raise ValueError(f"{path}, line {number}: a record is a JSON object, got {type(record).__name__}")
        records.append(record)
    return records
