"""penguins.client against a real server, and against the failures it must tell apart:
nothing listening, a server that never answers, a 4xx, a 422 with its fields, a 5xx."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from penguins.client import Answer, InvalidInput, PenguinClient, RequestRejected, ServerError, ServiceUnreachable
from penguins.ports import free_port
from penguins.serving.examples import BAD_RECORD, CLEAN_RECORD, INCOMPLETE_RECORD, MESSY_RECORDS
from penguins.serving.predictor import PenguinPredictor
from tests.live import live_server
from workshop.server import Server


@pytest.fixture(scope="module")
def server(artifact_dir: Path) -> Iterator[Server]:
    with live_server("04", "--artifacts", str(artifact_dir)) as live:
        yield live


@pytest.fixture
def client(server: Server) -> Iterator[PenguinClient]:
    with PenguinClient(server.url) as c:
        yield c


def test_answers_match_the_wrapper_in_process(client: PenguinClient, artifact_dir: Path) -> None:
    predictor = PenguinPredictor.load("mlp-onnx", artifact_dir / "mlp.onnx")
    expected = [
        Answer(p.species, p.probabilities, p.model_version, [asdict(w) for w in p.warnings])
        for p in predictor.predict(MESSY_RECORDS)
    ]
    assert any(answer.warnings for answer in expected)
    assert client.predict_batch(MESSY_RECORDS) == expected
    assert [client.predict(record) for record in MESSY_RECORDS] == expected


def test_status_calls_describe_the_model(client: PenguinClient) -> None:
    assert client.wait_until_ready(timeout=5)["status"] == "ready"
    assert client.health()["status"] == "ok"
    assert client.model()["model_version"] == client.health()["model_version"]


def test_refused_values_name_record_field_and_value(client: PenguinClient) -> None:
    with pytest.raises(InvalidInput) as err:
        client.predict_batch([CLEAN_RECORD, BAD_RECORD])
    assert err.value.status == 422
    assert [(where, sent) for where, _, sent in err.value.problems] == [
        ("record 1, field bill_length_mm", "forty"),
        ("record 1, field bill_depth_mm", -3),
        ("record 1, field sex", 1),
    ]
    assert "record 1, field bill_length_mm: must be a number, got text 'forty' (sent 'forty')" in str(err.value)
    assert err.value.codes == ["not_a_number", "out_of_range", "wrong_type"]


def test_a_record_with_no_measurement_is_refused_with_its_code(client: PenguinClient) -> None:
    with pytest.raises(InvalidInput) as err:
        client.predict(INCOMPLETE_RECORD)
    assert err.value.codes == ["no_measurements"] and err.value.problems[0][0] == "the request body"


def test_an_oversized_batch_is_a_rejected_request(client: PenguinClient) -> None:
    with pytest.raises(InvalidInput) as too_many:
        client.predict_batch([CLEAN_RECORD] * 1001)
    assert "at most 1000" in str(too_many.value)
    with pytest.raises(RequestRejected) as too_big:
        client.predict({**CLEAN_RECORD, "island": "x" * 1_100_000})
    assert too_big.value.status == 413 and not isinstance(too_big.value, InvalidInput)


def test_the_callers_request_id_reaches_the_services_log(server: Server) -> None:
    with PenguinClient(server.url, request_id="station-7f3a.1") as caller:
        caller.predict(CLEAN_RECORD)
        caller.health()
    lines = [line for line in server.logs().splitlines() if line.endswith(" station-7f3a.1")]
    assert [line.split()[1:4] for line in lines] == [["POST", "/predict", "200"], ["GET", "/health", "200"]]


def test_nothing_listening_is_unreachable_with_the_address() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with PenguinClient(url) as nobody:
        with pytest.raises(ServiceUnreachable, match=f"nothing answers at {url}/health: is the server running"):
            nobody.health()
        with pytest.raises(ServiceUnreachable, match=r"was not ready within 0\.3 s"):
            nobody.wait_until_ready(timeout=0.3)


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as silent:  # accepts connections (the backlog) but never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with (
            PenguinClient(url, timeout=0.3) as client,
            pytest.raises(ServiceUnreachable, match=r"did not answer within 0\.3 s"),
        ):
            client.predict(CLEAN_RECORD)


class _Failing(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.send_response(500)
        self.send_header("content-type", "text/plain")
        self.end_headers()
        self.wfile.write(b"Internal Server Error")

    def log_message(self, *args: object) -> None:
        pass


def test_a_server_error_is_not_the_callers_fault() -> None:
    stub = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    try:
        with (
            PenguinClient(f"http://127.0.0.1:{stub.server_address[1]}") as client,
            pytest.raises(ServerError, match=r"the service failed \(500\) on POST /predict"),
        ):
            client.predict(CLEAN_RECORD)
    finally:
        stub.shutdown()
        stub.server_close()
