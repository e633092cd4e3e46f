"""Self-checks for the exercises: `from workshop import checks; checks.check_xxx(...)`.

One module per exercise (ex01 ... ex08, ex07c), `capstone`, which runs those of 01-06 in a row, and
`common` for what they share: CheckFailed, the "not done yet" placeholder test, the one line a
passing check prints. This package's API is the check functions, so they are named here, where
the solutions call them.
"""

from workshop.checks.capstone import check_capstone
from workshop.checks.common import CheckFailed
from workshop.checks.ex01 import check_two_feature_model
from workshop.checks.ex02 import check_save_and_verify
from workshop.checks.ex03 import check_onnx_file
from workshop.checks.ex04 import check_predictor
from workshop.checks.ex05 import check_service
from workshop.checks.ex06 import check_container
from workshop.checks.ex07 import check_server_room
from workshop.checks.ex07c import check_kubernetes
from workshop.checks.ex08 import check_drift_decision, check_metrics

__all__ = [
    "CheckFailed",
    "check_capstone",
    "check_container",
    "check_drift_decision",
    "check_kubernetes",
    "check_metrics",
    "check_onnx_file",
    "check_predictor",
    "check_save_and_verify",
    "check_server_room",
    "check_service",
    "check_two_feature_model",
]
