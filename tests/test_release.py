"""`make release` (workshop.release): the steps in order, and the first failure stops it with one
line naming the step. These cases stop before the room: a failing test step, and a model file
that fails its sha256, which the image build refuses (so it can never be pushed or switched to).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from workshop import release


def test_a_failing_step_stops_the_release_with_one_line_naming_it(artifact_dir: Path) -> None:
    failing = f"{sys.executable} -c \"print('== 2 failed, 40 passed in 3.1s =='); raise SystemExit(1)\""
    command = [sys.executable, "-m", "workshop", "release", str(artifact_dir), "--tests", failing]
    ran = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 1, ran.stderr
    lines = ran.stdout.splitlines()
    assert (
        lines[-1]
        == "release stopped at step 1/6 (tests): `" + sys.executable + " -c` failed: 2 failed, 40 passed in 3.1s"
    )
    assert not [line for line in lines if line.startswith("== 2/6")], "nothing after the failed step runs"


def test_the_reason_is_the_line_that_says_why() -> None:
    build = (
        "docker build failed:\n#9 0.3 Traceback\n#9 0.3 ArtifactError: model file x does not match its sha256\nERROR: x"
    )
    assert release.reason(build) == "model file x does not match its sha256"
    assert release.reason("make test-fast failed:\n...\n== 1 failed, 9 passed in 2s ==\nmake: *** Error 1") == (
        "1 failed, 9 passed in 2s"
    )
    assert release.reason("docker push failed:\nconnection refused") == "connection refused"
    assert release.reason("false failed:\n") == "it printed nothing"


@pytest.mark.slow
def test_a_model_that_fails_its_sha256_never_becomes_an_image(
    base_image: str, artifact_dir: Path, tmp_path: Path
) -> None:
    tampered = tmp_path / "tampered"
    tampered.mkdir()
    for name in ("mlp.onnx", "mlp.onnx.json"):
        shutil.copy2(artifact_dir / name, tampered / name)
    with (tampered / "mlp.onnx").open("ab") as model:
        model.write(b"\0")
    said: list[str] = []
    with pytest.raises(release.StepFailed) as stopped:
        release.release(tampered, tests=("true",), say=said.append)
    assert str(stopped.value).startswith("release stopped at step 2/6 (build): `docker build` failed: model file ")
    assert "does not match its sha256" in str(stopped.value)
    image = release.image_of(tampered)
    assert subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode != 0
    assert not [line for line in said if line.startswith("== 3/6")], "nothing is pushed"


def test_the_smoke_command_asks_through_a_proxy_as_curl_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m penguins smoke` with the room's CA, API key and address: the release's step 5 by hand."""
    from penguins import cli, smoke
    from penguins.client import ResolveAdapter

    (tmp_path / "api-key").write_text("s3cret\n", encoding="utf-8")
    seen = {}

    def fake_run(url: str, cases: list, artifacts: object, client: object) -> smoke.Report:
        seen["url"], seen["client"] = url, client
        return smoke.Report(url, {"model_version": "mlp-x", "backend": "mlp-onnx"}, [], [])

    monkeypatch.setattr(smoke, "run", fake_run)
    url = "https://www.mojadomena.zmodelami.pl:8443"
    argv = ["smoke", "--url", url, "--cacert", "ca.crt", "--api-key-file", str(tmp_path / "api-key")]
    argv += ["--resolve", "www.mojadomena.zmodelami.pl:127.0.0.1", "tests/golden.json"]
    assert cli.main(argv) == 0
    client = seen["client"]
    assert (client.url, client.verify, client.session.headers["X-API-Key"]) == (url, "ca.crt", "s3cret")
    adapter = client.session.get_adapter(url)
    assert isinstance(adapter, ResolveAdapter) and adapter.addresses == {"www.mojadomena.zmodelami.pl": "127.0.0.1"}
    assert "serves mlp-x" in capsys.readouterr().out
