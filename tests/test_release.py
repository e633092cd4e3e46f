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


def test_a_failing_step_stops_the_release_with_one_line_naming_it(
    artifact_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    failing = f"{sys.executable} -c \"print('== 2 failed, 40 passed in 3.1s =='); raise SystemExit(1)\""
    assert release.main(str(artifact_dir), failing) == 1
    lines = capsys.readouterr().out.splitlines()
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
