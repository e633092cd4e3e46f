"""The helpers of notebooks 05 and 06: addresses, the endpoint-style demo, the docker commands.

What needs a Docker engine (build, run, look inside, sizes) is tested for real in
tests/test_container.py; here is everything that runs without one.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT
from workshop import address, docker_cli, endpoint_style
from workshop.server import start

# --- addresses (notebook 05) -----------------------------------------------------------------


def test_url_parts_fill_in_the_default_port() -> None:
    assert address.url_parts(f"http://{address.LECTURE_DOMAIN}/predict") == {
        "scheme": "http", "host": address.LECTURE_DOMAIN, "port": 80, "path": "/predict"}
    assert address.url_parts("https://example.org")["port"] == 443
    assert address.url_parts("http://127.0.0.1:8004")["port"] == 8004


@pytest.mark.parametrize(("ip", "starts"), [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("0.0.0.0", "every interface"), ("::", "every interface"),
    ("192.168.1.20", "private"), ("10.0.0.7", "private"), ("203.0.113.7", "documentation"),
    ("2001:db8::1", "documentation"), ("8.8.8.8", "public"),
])
def test_kind_says_who_can_reach_an_address(ip: str, starts: str) -> None:
    assert address.kind(ip).startswith(starts)


def test_resolve_looks_up_local_names_only() -> None:
    assert set(address.resolve("localhost", 8004)) & {"127.0.0.1", "::1"}
    assert address.resolve("127.0.0.1", 80) == ["127.0.0.1"]
    with pytest.raises(ValueError, match="DNS server on the internet"):
        address.resolve(address.LECTURE_DOMAIN, 80)


def test_hosts_line_points_the_lecture_domain_at_this_machine() -> None:
    assert address.hosts_line() == f"127.0.0.1\t{address.LECTURE_DOMAIN}"
    assert address.hosts_line("my.test", "::1") == "::1\tmy.test"
    with pytest.raises(ValueError):
        address.hosts_line(ip="not an address")


# --- async def or def (notebook 05) ----------------------------------------------------------


def test_a_slow_async_endpoint_makes_requests_wait_for_each_other() -> None:
    calls, slow = 3, endpoint_style.SLOW_SECONDS
    with start("workshop.endpoint_style:app") as server:
        on_the_loop = endpoint_style.together(server.url + "/async-def", calls)
        in_threads = endpoint_style.together(server.url + "/def", calls)
    assert on_the_loop >= calls * slow * 0.95  # one after another
    assert in_threads < on_the_loop / 2  # side by side


# --- docker commands and the Dockerfile (notebook 06) ----------------------------------------

MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_commands_are_the_make_targets_own() -> None:
    """The notebook shows and runs what the Makefile runs, and what the README tells students."""
    make = {"IMAGE": docker_cli.IMAGE, "CONTAINER": docker_cli.MAKE_CONTAINER, "DOCKER_PORT": str(docker_cli.MAKE_PORT)}
    for name, value in make.items():
        assert re.search(rf"^{name}\s+\?= {re.escape(value)}$", MAKEFILE, re.MULTILINE), name
    assert docker_cli.LOCAL_BASE in MAKEFILE
    assert " ".join(docker_cli.run_command("$(CONTAINER)", "$(DOCKER_PORT)", "$(IMAGE)")) in MAKEFILE
    assert " ".join(docker_cli.stop_command("$(CONTAINER)")) in MAKEFILE
    assert " ".join(docker_cli.smoke_command("$(DOCKER_PORT)")).removeprefix("python ") in MAKEFILE
    assert "docker build -f docker/Dockerfile $(if $(BASE_IMAGE),--build-arg BASE_IMAGE=$(BASE_IMAGE)) -t $(IMAGE) ." in MAKEFILE
    for command in (docker_cli.build_command(), docker_cli.run_command(), docker_cli.smoke_command(), docker_cli.stop_command()):
        assert " ".join(command) in README, command
    assert docker_cli.build_command("base:1", "x")[4:7] == ["--build-arg", "BASE_IMAGE=base:1", "-t"]


def test_instructions_of_the_real_dockerfile_each_with_a_reason() -> None:
    lines = (ROOT / docker_cli.DOCKERFILE).read_text(encoding="utf-8").splitlines()
    found = docker_cli.instructions()
    assert found[0].text == f"ARG BASE_IMAGE={docker_cli.default_base()}"
    for item in found:
        assert lines[item.line - 1].strip() == item.text.split("\n")[0] + (" \\" if "\n" in item.text else "")
    froms = [item for item in found if item.text.startswith("FROM ")]
    assert [item.why.split(":")[0] for item in froms] == ["build stage", "final stage"]
    run = next(item for item in found if item.text.startswith("RUN python3 -m venv"))
    assert "\n&& /opt/venv/bin/pip install" in run.text and "\\" not in run.text
    assert found[-1].text.startswith("CMD [") and "PID 1" in found[-1].why


def test_dockerfile_table_keeps_markdown_intact(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("# A base. More words here.\nFROM x\n\n# Pipes | and <tags>.\nRUN a \\\n && b | c\n")
    table = docker_cli.dockerfile_table(dockerfile).splitlines()
    assert len(table) == 4
    assert table[2] == "| 2 | <code>FROM x</code> | A base. |"
    assert table[3] == "| 5 | <code>RUN a<br>&amp;&amp; b &#124; c</code> | Pipes &#124; and &lt;tags&gt;. |"


def test_allowed_in_build_is_the_allow_list() -> None:
    allowed = docker_cli.allowed_in_build()
    assert "src/penguins" in allowed and "artifacts/mlp.onnx" in allowed
    assert not any("notebooks" in item or ".venv" in item for item in allowed)


CLASSIC_LOG = """\
Sending build context to Docker daemon  153.6kB
Step 1/4 : ARG BASE_IMAGE=python:3.11-slim
Step 2/4 : FROM ${BASE_IMAGE}
 ---> f64bee9726e7
Step 3/4 : COPY src/penguins /app/penguins
 ---> Using cache
 ---> 6117cac26f49
Step 4/4 : CMD ["uvicorn", "app:app"]
 ---> Running in 8f780abbafbb
Removing intermediate container 8f780abbafbb
 ---> f8b1d355fb9f
Successfully built f8b1d355fb9f
"""
BUILDKIT_LOG = """\
#0 building with "default" instance using docker driver

#1 [internal] load build definition from Dockerfile
#1 transferring dockerfile: 2.61kB done
#1 DONE 0.0s

#4 [build 1/3] FROM docker.io/library/python:3.11-slim@sha256:abc
#4 DONE 0.0s

#6 [build 2/3] COPY requirements/serve.txt /build/requirements/
#6 CACHED

#9 [stage-1 4/6] COPY src/penguins /app/penguins
#9 DONE 0.1s

#12 exporting to image
#12 naming to docker.io/library/penguins-to-production done
"""


def test_build_steps_read_both_builders() -> None:
    assert [(s.label, s.outcome) for s in docker_cli.build_steps(CLASSIC_LOG)] == [
        ("1/4", "a setting"), ("2/4", "base image"), ("3/4", "from cache"), ("4/4", "built now")]
    assert [(s.label, s.outcome, s.instruction) for s in docker_cli.build_steps(BUILDKIT_LOG)] == [
        ("build 1/3", "base image", "FROM docker.io/library/python:3.11-slim@sha256:abc"),
        ("build 2/3", "from cache", "COPY requirements/serve.txt /build/requirements/"),
        ("stage-1 4/6", "built now", "COPY src/penguins /app/penguins")]
    assert docker_cli.build_steps("nothing recognisable") == []


def test_build_context_holds_what_the_dockerfile_copies(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    for name in ("mlp.onnx", "mlp.onnx.json"):
        (models / name).write_text(name)
    context = docker_cli.build_context(tmp_path / "context", models)
    for item in docker_cli.allowed_in_build():
        assert (context / item).exists(), item
    assert (context / ".dockerignore").exists() and (context / "docker/Dockerfile").exists()
    assert (context / "artifacts/mlp.onnx").read_text() == "mlp.onnx"
    assert not list(context.rglob("__pycache__"))


def test_no_engine_says_so_and_never_pretends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docker_cli.shutil, "which", lambda name: None)
    engine = docker_cli.engine()
    assert not engine.running and str(engine).startswith("no Docker engine here (the docker command is not installed)")
    monkeypatch.undo()

    def refused(*args: object, **kwargs: object) -> subprocess.CompletedProcess:
        return subprocess.CompletedProcess(args, 1, "", "Cannot connect to the Docker daemon")

    monkeypatch.setattr(docker_cli.shutil, "which", lambda name: "/usr/bin/docker")
    monkeypatch.setattr(docker_cli.subprocess, "run", refused)
    assert "no engine answers" in str(docker_cli.engine())
    for step in ("build", "run", "call", "inside", "size", "stop"):
        text = docker_cli.would_see(step)
        assert text.startswith(docker_cli.NO_ENGINE) and "\n$ " in text
    with pytest.raises(KeyError):
        docker_cli.would_see("deploy")


def test_sizes_without_following_links(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"x" * 1000)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b").write_bytes(b"x" * 500)
    (tmp_path / "link").symlink_to(tmp_path / "a")
    assert docker_cli.folder_size(tmp_path) == 1500
    assert docker_cli.package_size("json") > 0
    assert docker_cli.package_size("shlex") is None and docker_cli.package_size("no_such_package_here") is None
    assert docker_cli.mb(1_887_000_000) == "1,887 MB" and docker_cli.mb(None) == "-"


def test_make_notebooks_warns_when_06_would_run_without_an_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    from workshop import execute

    notebooks = ROOT / "notebooks"
    monkeypatch.setattr(docker_cli, "engine", lambda: docker_cli.Engine(None, "no engine answers"))
    assert execute.engine_note([notebooks / "05_service.ipynb"]) is None
    note = execute.engine_note([notebooks / "05_service.ipynb", notebooks / "06_container.ipynb"])
    assert note is not None and note.startswith("note: no engine answers: notebook 06 will describe")
    monkeypatch.setattr(docker_cli, "engine", lambda: docker_cli.Engine("28.0"))
    assert execute.engine_note([notebooks / "06_container.ipynb"]) is None
