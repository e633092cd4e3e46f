"""The exercises' self-checks, one module each, named here where the solutions call them:
`from workshop import checks; checks.check_xxx(...)`."""

from workshop.checks.capstone import check_capstone as check_capstone
from workshop.checks.common import CheckFailed as CheckFailed
from workshop.checks.ex01 import check_two_feature_model as check_two_feature_model
from workshop.checks.ex02 import check_save_and_verify as check_save_and_verify
from workshop.checks.ex03 import check_onnx_file as check_onnx_file
from workshop.checks.ex04 import check_predictor as check_predictor
from workshop.checks.ex05 import check_service as check_service
from workshop.checks.ex06 import check_container as check_container
from workshop.checks.ex07 import check_server_room as check_server_room
from workshop.checks.ex07c import check_kubernetes as check_kubernetes
from workshop.checks.ex08 import check_drift_decision as check_drift_decision
from workshop.checks.ex08 import check_metrics as check_metrics
from workshop.checks.ex09 import check_release as check_release
