"""The benchmarks' smoke test: every part of `make bench` runs on a tiny budget, so the code
cannot rot while nobody runs the full benchmark. The numbers mean nothing here; only their
presence, sign and the ratios' bookkeeping are checked. Speed targets are never asserted in
tests (a busy CI machine would fail them): they live in the benchmark's output."""

from __future__ import annotations

import collections
import json
import math
import shutil

import pytest

from bench import faults, http_load, load, model_speed, profile, run, sizes, specs, table, targets, validation
from bench.budget import QUICK
from bench.peers import same_client
from bench.peers import specs as peer_specs
from bench.rows import HIGHER, LOWER, Row, against, ratio
from bench.servers import RunningServer
from penguins.serving.contract import FEATURES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report(artifact_dir, tmp_path_factory):
    """One quick run with the Python load generator (wrk may not be installed)."""
    logs = tmp_path_factory.mktemp("bench-logs")
    # The server room's section runs in tests/test_room.py, on the room those tests share; the
    # Kubernetes section in tests/test_k8s_cluster.py.
    quiet = {"say": lambda line: None, "with_room": False, "with_k8s": False}
    return run.run(QUICK, artifact_dir, use_wrk=False, log_dir=logs, **quiet)


def test_every_row_is_measured_once(report):
    keys = [(row.section, row.name, row.case) for row in report.rows]
    assert len(keys) == len(set(keys))
    expected = {(model_speed.SECTION, name, case) for name in model_speed_names() for case in model_speed.SIZES}
    expected |= {
        (http_load.SECTION, spec, http_load.case(n))
        for spec in (specs.BARE, specs.SERVED_ONNX, specs.SERVED_QUIET, specs.SERVED_NO_METRICS, specs.NAIVE)
        for n in http_load.CONNECTIONS
    }
    expected |= {("cold start", name, "") for name in (specs.BARE, specs.SERVED_ONNX, specs.SERVED_PICKLE, specs.NAIVE)}
    expected |= {(sizes.SECTION, name, "") for name in (sizes.SERVING, sizes.TRAINING, sizes.TORCH)}
    assert expected <= set(keys)


def model_speed_names() -> list[str]:
    return [
        model_speed.BASELINE,
        "PyTorch MLP (network only)",
        "ONNX Runtime: pipeline.onnx",
        "ONNX Runtime: mlp.onnx",
        "cleaning alone (penguins.serving.cleaning)",
        "wrapper sklearn-pickle, end to end",
        "wrapper sklearn-onnx, end to end",
        "wrapper mlp-onnx, end to end",
        validation.PYDANTIC,
        validation.PLAIN,
    ]


def test_figures_are_positive_and_error_free(report):
    for row in report.rows:
        assert math.isfinite(row.value) and row.value > 0, row
    for row in (row for row in report.rows if row.section == http_load.SECTION):
        assert row.details["errors"] == 0, row
        assert 0 < row.details["p50_ms"] <= row.details["p99_ms"], row
        assert row.details["requests"] <= QUICK.load_max_requests
        assert row.details[http_load.CPU] > 0, row  # the server's own CPU time was read


def test_ratios_are_taken_against_a_baseline_of_the_same_run(report):
    for section, baselines in run.BASELINES.items():
        for row in (row for row in report.rows if row.section == section and row.section != sizes.SECTION):
            for baseline, _ in baselines:
                value = against(report.rows, row, baseline)
                assert value is not None and value > 0, (row, baseline)
                if row.name == baseline:
                    assert value == pytest.approx(1.0)


def test_targets_say_what_this_run_did_not_measure(report):
    verdicts = {verdict.target: verdict for verdict in report.verdicts}
    peers = [name for name in verdicts if any(peer in name for peer in targets.PEERS)]
    assert peers and all(verdicts[name].met is None for name in peers)
    # the faults run on the server room, which this run leaves out (tests/test_room_faults.py runs them)
    peers += [name for name in verdicts if name.startswith(faults.TARGETED)]
    assert all(v.met is not None for name, v in verdicts.items() if name not in peers)


def test_table_plot_and_json_are_written(report, tmp_path):
    written = report.write(tmp_path, "bench")
    assert sorted(path.name for path in written) == ["bench.json", "bench.md", "bench.png"]
    text = (tmp_path / "bench.md").read_text(encoding="utf-8")
    for row in report.rows:
        assert row.name in text
    assert f"{report.machine.cores} cores" in text and report.machine.cpu in text
    assert (tmp_path / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads((tmp_path / "bench.json").read_text())["rows"]
    assert len(saved) == len(report.rows)
    assert all(http_load.CPU in row["details"] for row in saved if row["section"] == http_load.SECTION)


def test_ratio_points_the_same_way_for_times_and_rates():
    slow, fast = Row("model", "a", "", 4.0, "ms", LOWER), Row("model", "b", "", 1.0, "ms", LOWER)
    few, many = Row("http", "a", "", 100.0, "req/s", HIGHER), Row("http", "b", "", 400.0, "req/s", HIGHER)
    assert ratio(fast, slow) == ratio(many, few) == 4.0


def test_targets_compare_the_served_endpoint_with_the_floor():
    rows = [
        Row("http", specs.BARE, http_load.case(10), 1000.0, "req/s", HIGHER, {"p99_ms": 1.0}),
        Row("http", specs.SERVED_ONNX, http_load.case(10), 700.0, "req/s", HIGHER, {"p99_ms": 2.0}),
    ]
    floor = next(v for v in targets.check(rows) if "bare" in v.target)
    assert floor.met is True and floor.measured.startswith("0.70×")


def test_summary_takes_the_median_cpu_per_request_of_its_rounds():
    def round_of(requests: int, cpu_s: float | None) -> load.Load:
        return load.Load(requests, 1.0, 0, 1.0, 2.0, server_cpu_s=cpu_s)

    row = http_load.summary("a", 10, [round_of(1000, 0.5), round_of(2000, 0.6), round_of(500, 0.2)])
    assert row.details[http_load.CPU] == pytest.approx(400.0)  # rounds of 500, 300 and 400 µs
    # the server room's containers: no CPU read, so no figure rather than a wrong one
    assert http_load.CPU not in http_load.summary("b", 10, [round_of(1000, 0.5), round_of(1000, None)]).details


def http_row(name: str, rate: float, cpu_us: float | None = None) -> Row:
    details = {"p50_ms": 1.0, "p99_ms": 2.0} | ({http_load.CPU: cpu_us} if cpu_us is not None else {})
    return Row(http_load.SECTION, name, http_load.case(10), rate, "req/s", HIGHER, details)


def test_http_table_shows_cpu_per_request_next_to_req_s():
    lines = table.http_table([http_row(specs.SERVED_ONNX, 2345.0, 412.4), http_row("room", 900.0)], []).splitlines()
    assert lines[0] == "| server | connections | req/s | p50 | p99 | CPU per request |"
    assert lines[2] == f"| {specs.SERVED_ONNX} | 10 | 2,345 | 1.00 ms | 2.00 ms | 412 µs |"
    assert lines[3] == "| room | 10 | 900 | 1.00 ms | 2.00 ms | - |"


def test_a_peer_target_says_the_cores_each_server_kept_busy():
    # LitServe's one worker is two processes: 1,000 req/s at 1,400 µs is 1.4 cores, ours 2,500 at 400 µs is 1.0
    rows = [http_row(specs.SERVED_ONNX, 2500.0, 400.0), http_row(specs.LITSERVE_ONNX, 1000.0, 1400.0)]
    (verdict,) = [v for v in targets.check(rows) if specs.LITSERVE_ONNX in v.target and "req/s" in v.target]
    assert verdict.met is False
    assert verdict.measured == "2.50× (2,500 vs 1,000 req/s; 1.00 vs 1.40 cores busy, 3.50× the answers per CPU second)"
    rows[1] = http_row(specs.LITSERVE_ONNX, 1000.0)  # its CPU not read: the req/s alone
    (verdict,) = [v for v in targets.check(rows) if specs.LITSERVE_ONNX in v.target and "req/s" in v.target]
    assert verdict.measured == "2.50× (2,500 vs 1,000 req/s)"


def test_the_profile_weighs_the_target_against_the_stack_and_the_model_path():
    def frames(innermost: str) -> str:
        return f"main (runpy.py:1);run (site-packages/{innermost}:2)"

    samples = collections.Counter(
        {
            profile.layer(frames("uvicorn/protocols/http/httptools_impl.py")): 30,
            profile.layer(frames("starlette/routing.py")): 20,
            profile.layer(frames("onnxruntime/capi/onnxruntime_inference_collection.py")): 10,
            profile.layer(frames("penguins/serving/cleaning.py")): 10,
            profile.layer(frames("logging/__init__.py")): 30,
        }
    )
    # 400 µs a request: the stack 50 % (200 µs), the model path 20 % (80 µs), the log line 30 % (120 µs)
    lines = profile.floor(samples, served_us=400.0, bare_us=100.0)
    assert "served 400 µs, bare endpoint 100 µs (4.00×); the target is ≤ 2.5× (250 µs)" in lines[0]
    assert "takes 200 µs of a served request" in lines[2]
    assert "takes 80 µs" in lines[3]
    assert "280 µs, 2.80× the bare endpoint's" in lines[4] and lines[4].endswith(
        "cannot be met by this stack on this machine."
    )
    assert profile.floor(samples, served_us=400.0, bare_us=150.0)[4].endswith("which our own layers then exceed.")


def test_the_two_ab_targets_read_cpu_per_request_not_req_s():
    # req/s says metrics cost 20 % and the micro-optimisations buy 25 %; CPU per request says +2.5 % and +5 %
    rows = [
        http_row(specs.SERVED_ONNX, 2000.0, 420.0),
        http_row(specs.SERVED_NO_METRICS, 2500.0, 409.756),
        http_row(specs.SERVED_TUNED, 2500.0, 400.0),
    ]
    verdicts = {v.target.split(" ≤")[0]: v for v in targets.check(rows)}
    metrics, tuned = verdicts["metrics cost"], verdicts["the former micro-optimisations buy"]
    assert metrics.met is True and metrics.measured.startswith("+2.5% CPU per request (420 vs 410 µs; 2,000 vs 2,500")
    assert tuned.met is True and tuned.measured.startswith("+5.0% CPU per request (420 vs 400 µs")
    rows[0] = http_row(specs.SERVED_ONNX, 2000.0, 460.0)  # +12.3 % and +15 %: both missed
    assert [v.met for v in targets.check(rows) if "same-run A/B" in v.target] == [False, False]
    rows[0] = http_row(specs.SERVED_ONNX, 2000.0)  # no CPU read: not measured, never a verdict from req/s
    assert [v.met for v in targets.check(rows) if "same-run A/B" in v.target] == [None, None]


@pytest.mark.skipif(shutil.which("wrk") is None, reason="Debian's wrk is not installed (make bench installs it)")
def test_wrk_summary_is_read(tmp_path):
    with RunningServer(specs.bare(), tmp_path) as server:
        result = load.wrk_load(shutil.which("wrk"), server.url("/predict"), server.spec.body, 2, 1)
    assert result.requests > 0 and result.errors == 0 and result.p50_ms <= result.p99_ms


def test_peer_requests_carry_every_feature(artifact_dir):
    for content_type, shape in ((None, [1, 1]), ("pd", [1])):
        request = peer_specs.inference_request(content_type, shape)
        assert [tensor["name"] for tensor in request["inputs"]] == list(FEATURES)
    bento = peer_specs.bentoml(artifact_dir, "sklearn")
    assert bento.env["BENTOML_DO_NOT_TRACK"] == "true"
    assert json.loads(bento.body).keys() == set(FEATURES)


def test_the_peer_gets_cleaned_features_and_only_complete_penguins() -> None:
    """What bench-peers' tritonclient sends MLServer: the wrapper's cleaning, typed per V2."""
    messy = {
        "island": " torgersen ",
        "bill_length_mm": "39,1",
        "bill_depth_mm": 18.7,
        "flipper_length_mm": "181",
        "body_mass_g": 3750,
        "sex": "MALE",
    }
    unmeasured = {**messy, "bill_length_mm": "NA"}
    assert same_client.complete([messy, unmeasured]) == [messy]
    sent = same_client.tensors([messy])
    assert sent["island"] == ("BYTES", ["Torgersen"]) and sent["sex"] == ("BYTES", ["male"])
    assert sent["bill_length_mm"][0] == "FP32" and sent["bill_length_mm"][1] == pytest.approx([39.1])
    assert sent["body_mass_g"] == ("FP32", [3750.0]) and list(sent) == list(FEATURES)
