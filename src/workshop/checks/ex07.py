"""Exercise 07's check: the proxy's re-resolve and retry lines, and the replicas' lines, of the
server room (docker/compose.room.yaml with docker/proxy/nginx.conf).

It checks in three steps, each as far as this machine allows, and says which ran:
1. the files as written: the nginx directives (a resolver with a short `valid=`, `proxy_pass`
   through a variable so the name is asked again, retries on error, timeout, 502 and 503, for
   POST too) and the model's service as `docker compose config` merges it into the room
   (replicas, a healthcheck that asks `/ready`, often enough);
2. `nginx -t` on the file, in a container of the proxy's own image (the nginx the room runs,
   with its modules; nothing is installed on this machine), when an engine answers;
3. a crash under load: the room started from these files as its own compose project (random
   loopback ports, no station), 4 threads at 100 requests/s for 5 s, one replica's uvicorn
   killed after 1.5 s; every request must get a 2xx, from more than one replica.
Messages say what was expected, what was found and one thing to try; never the answer's lines.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from penguins.client import PenguinClient
from penguins.serving.examples import CLEAN_RECORD
from workshop import docker, paced_load, room
from workshop.checks.common import CheckFailed, passed

TODO = "# TODO"
PROJECT = "penguins-ex07"  # its own compose project: it never touches a running `make room-up`
SERVICE = "penguins"
UPSTREAM = f"{SERVICE}:{docker.Dockerfile.read().port}"
DOCKER_DNS = "127.0.0.11"
MAX_VALID_S = 5.0  # a replica that comes or goes must be seen within a few seconds
MAX_INTERVAL_S = 10.0  # a replica is known (un)healthy within seconds, and `up --wait` is quick
RETRY_ON = ("error", "timeout", "http_502", "http_503")
LOAD = {"rate": 100.0, "seconds": 5.0, "threads": 4, "timeout": 3.0, "kill_at": 1.5}
DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def failed(what: str, expected: str, found: str, tip: str) -> CheckFailed:
    return CheckFailed(f"{what}: expected {expected}; found {found}. Try: {tip}")


def _read(path: Path, cell: str) -> str:
    if not path.exists():
        raise CheckFailed(f"no file {path.name}: run the %%writefile {path.name} cell first")
    text = path.read_text(encoding="utf-8")
    if any(line.strip() == TODO for line in text.splitlines()):
        raise CheckFailed(
            f"not done yet: write {cell} in place of the line {TODO} in the %%writefile {path.name} "
            "cell, then run that cell and this one"
        )
    return text


# ---------------------------------------------------------------- 1. the files as written

_TOKEN = re.compile(r"""'([^']*)'|"([^"]*)"|(#[^\n]*)|([{};])|([^\s{};'"#]+)""")


def directives(conf: str) -> list[tuple[str, list[str]]]:
    """Every simple directive of an nginx file, in order, as (name, arguments); blocks flattened."""
    found: list[tuple[str, list[str]]] = []
    words: list[str] = []
    for single, double, comment, punct, word in _TOKEN.findall(conf):
        if comment:
            continue
        if punct == ";" and words:
            found.append((words[0], words[1:]))
        if punct:
            words = []
        else:
            words.append(word or single or double)
    return found


def seconds(text: str) -> float:
    """An nginx or compose duration ("1s", "500ms", "1m30s", "2") in seconds."""
    if text.replace(".", "", 1).isdigit():
        return float(text)
    factors = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    parts = DURATION.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise ValueError(text)
    return sum(float(number) * factors[unit] for number, unit in parts)


def _expand(value: str, variables: dict[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: variables.get(m.group(1), m.group(0)), value)


def nginx_problems(conf: str) -> None:
    """The re-resolve and retry directives, read as nginx reads them."""
    found = directives(conf)
    variables: dict[str, str] = {}
    for name, args in found:
        if name == "set" and len(args) == 2:
            variables[args[0].lstrip("$")] = _expand(args[1], variables)
    passes = [args[0] for name, args in found if name == "proxy_pass" and args]
    static = [target for target in passes if "$" not in target]
    if static:
        raise failed(
            "proxy_pass",
            "the model's address in a variable, so nginx asks the name again",
            f"proxy_pass {static[0]}: nginx resolves that name once, at start, and never sees a new replica",
            "keep `proxy_pass $model;` in the locations and give $model its value with `set`",
        )
    for target in passes:
        value = _expand(target, variables)
        if UPSTREAM not in value:
            raise failed(
                "proxy_pass",
                f"the variable to lead to the model's service, http://{UPSTREAM}",
                f"{target} = {value!r}",
                "give the variable its value with `set` in the server block",
            )
    resolvers = [args for name, args in found if name == "resolver"]
    if not resolvers:
        raise failed(
            "resolver",
            f"nginx to ask Docker's DNS ({DOCKER_DNS}) for the replicas' addresses",
            "no resolver directive: a variable in proxy_pass then cannot be resolved at all (502)",
            "look up nginx's `resolver` directive",
        )
    addresses = [arg for arg in resolvers[-1] if "=" not in arg]
    if DOCKER_DNS not in addresses:
        raise failed(
            "resolver",
            f"Docker's embedded DNS, {DOCKER_DNS}",
            f"resolver {' '.join(resolvers[-1])}",
            "a container's DNS server is the one in its /etc/resolv.conf",
        )
    valid = [arg.partition("=")[2] for arg in resolvers[-1] if arg.startswith("valid=")]
    if not valid or seconds(valid[0]) > MAX_VALID_S:
        shown = f"valid={valid[0]}" if valid else "no valid= (nginx then keeps an answer for the DNS's TTL)"
        raise failed(
            "resolver",
            f"answers kept at most {MAX_VALID_S:g} s, so a new replica is seen soon",
            shown,
            "the resolver's `valid=` parameter",
        )
    retry = [args for name, args in found if name == "proxy_next_upstream"]
    on = retry[-1] if retry else ["error", "timeout"]
    missing = [case for case in (*RETRY_ON, "non_idempotent") if case not in on]
    if "off" in on or missing:
        why = (
            "a POST (every /predict) is never retried without it, and a prediction has no side effects"
            if missing == ["non_idempotent"]
            else "a replica that dies answers with one of these"
        )
        raise failed(
            "proxy_next_upstream",
            f"a retry on {', '.join((*RETRY_ON, 'non_idempotent'))}",
            f"proxy_next_upstream {' '.join(on)}{'' if retry else ' (the default)'}: {', '.join(missing)} "
            f"missing ({why})",
            "nginx's documentation of proxy_next_upstream lists each case",
        )
    tries = [args[0] for name, args in found if name == "proxy_next_upstream_tries" and args]
    if tries and tries[-1] != "0" and int(tries[-1]) < 2:
        raise failed(
            "proxy_next_upstream_tries",
            "at least 2 tries (0 means no limit)",
            f"{tries[-1]}: the first try is the only one",
            "count the failed try itself",
        )


def composed(compose_file: Path, conf: Path) -> tuple[dict[str, Any], str]:
    """The model's service as the room runs it with these lines, and how that was found out:
    `docker compose config` of the room merged with the file, or (without Compose v2) the file."""
    if room.compose_v2() is None:
        document = yaml.safe_load(compose_file.read_text(encoding="utf-8")) or {}
        return (document.get("services") or {}).get(SERVICE) or {}, "read with PyYAML (no Compose v2 here)"
    with _room_files(compose_file, conf) as command:
        result = subprocess.run([*command, "config", "--format", "json"], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise failed(
            "docker compose config",
            "the room merged with your lines",
            result.stderr.strip()[-400:],
            "indent the lines under `penguins:` as the other services in docker/compose.room.yaml are",
        )
    service: dict[str, Any] = json.loads(result.stdout)["services"][SERVICE]
    return service, "docker compose config passed"


def compose_problems(service: dict[str, Any]) -> None:
    replicas = (service.get("deploy") or {}).get("replicas", 1)
    if not isinstance(replicas, int) or replicas < 2:
        raise failed(
            "deploy.replicas",
            f"enough replicas that one can die while the others answer (the room runs {room.facts().replicas})",
            f"{replicas!r}",
            "compose's `deploy:` section",
        )
    check = service.get("healthcheck") or {}
    test = check.get("test") or []
    command = " ".join(test) if isinstance(test, list) else str(test)
    if not command or check.get("disable"):
        raise failed(
            "healthcheck",
            "a test command that asks the model service whether it is ready",
            "no healthcheck: the proxy's depends_on waits for `service_healthy`",
            "compose's `healthcheck:`",
        )
    if "/ready" not in command:
        raise failed(
            "healthcheck",
            "the readiness path (it answers 200 only once the model is loaded)",
            f"{command[-90:]!r}",
            "the service's endpoints are listed by GET /docs",
        )
    interval = seconds(str(check.get("interval", "30s")))
    if interval > MAX_INTERVAL_S:
        raise failed(
            "healthcheck.interval",
            f"at most {MAX_INTERVAL_S:g} s, so a dead replica is noticed soon",
            f"{interval:g} s",
            "a few seconds is usual in a room this small",
        )


# ---------------------------------------------------------------- 2. nginx -t, 3. the crash


def _engine_missing(images: tuple[str, ...]) -> str:
    if not docker.engine().running:
        return "no Docker engine answers here"
    for image in images:
        if subprocess.run(["docker", "image", "inspect", image], capture_output=True, timeout=30).returncode:
            return f"no image {image} here"
    return ""


def nginx_t(conf: Path) -> str:
    """`nginx -t` on the file in the proxy's image, without any network; what happened, in words."""
    image = room.facts().nginx_image
    missing = _engine_missing((image,))
    if missing:
        return f"nginx -t not run ({missing})"
    secrets = room.make_secrets(say=lambda line: None)
    command = [
        "docker",
        "run",
        "--rm",
        "--network",
        "none",
        "-v",
        f"{conf.resolve()}:/etc/nginx/nginx.conf:ro",
        "-v",
        f"{secrets.folder}:/etc/nginx/room:ro",
        image,
        "nginx",
        "-t",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if "emerg" in line or "error" in line]
        raise failed(
            "nginx -t",
            "syntax is ok",
            re.sub(r"^.*?\[\w+\] \d+#\d+: ", "", (lines or result.stderr.splitlines() or ["?"])[0].strip()),
            "the line number in that message",
        )
    return f"nginx -t passed in {image}"


@contextmanager
def _room_files(compose_file: Path, conf: Path, image: str = docker.IMAGE) -> Iterator[list[str]]:
    """The `docker compose` command of the room with the student's lines: docker/compose.room.yaml
    with one model service, `penguins`, without its replicas and healthcheck (the lines to write),
    without the station and Prometheus,
    the proxy on random loopback ports with the student's nginx.conf, then the student's file."""
    base_dir = room.root() / "docker"
    document = yaml.safe_load((room.root() / room.COMPOSE_FILE).read_text(encoding="utf-8"))
    document.pop("x-model", None)
    blue, green = room.MODEL_SERVICES  # one model service is enough here: no rollout in this exercise
    left_out = ("station", "prometheus", green)
    services = {name: service for name, service in document["services"].items() if name not in left_out}
    model = services.pop(blue)
    for key in ("deploy", "healthcheck", "build", "networks"):
        model.pop(key, None)
    model["image"] = image
    proxy = services["proxy"]
    proxy["depends_on"] = {SERVICE: proxy["depends_on"][blue]}
    document["services"] = {SERVICE: model, **services}
    proxy["ports"] = [f"127.0.0.1::{port.rpartition(':')[2]}" for port in map(str, proxy["ports"])]
    secrets = room.make_secrets(say=lambda line: None)
    proxy["volumes"] = [f"{conf.resolve()}:/etc/nginx/nginx.conf:ro", f"{secrets.folder}:/etc/nginx/room:ro"]
    document["name"] = PROJECT
    with tempfile.TemporaryDirectory(prefix="ex07-") as folder:
        base = Path(folder) / "compose.room.yaml"
        base.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        yield [
            "docker",
            "compose",
            "--project-directory",
            str(base_dir),
            "-f",
            str(base),
            "-f",
            str(compose_file.resolve()),
        ]


def _compose(command: list[str], *args: str, timeout: float = room.UP_WITHIN) -> str:
    result = subprocess.run([*command, *args], capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise failed(
            f"docker compose {args[0]}",
            "the room to start with your files",
            (result.stdout + result.stderr).strip()[-500:],
            "docker compose logs, in the project folder",
        )
    return result.stdout


def crash_under_load(conf: Path, compose_file: Path, image: str = docker.IMAGE) -> str:
    """The room from these files, one replica killed under load; what happened, in words."""
    missing = _engine_missing((image, room.facts().nginx_image)) or ("" if room.compose_v2() else "no Compose v2")
    if missing:
        return f"crash under load not run ({missing})"
    with _room_files(compose_file, conf, image) as command:
        try:
            _compose(command, "up", "--wait", "--no-build", "--pull", "never")
            port = int(_compose(command, "port", "proxy", "443").strip().rpartition(":")[2])
            load = _load_with_a_crash(port)
        finally:
            subprocess.run([*command, "down", "--timeout", "5"], capture_output=True, timeout=120)
    seen = {shot.replica for shot in load.shots if shot.ok}
    if load.failed:
        raise failed(
            "the crash",
            f"0 failed requests while replica {load.events[0][1]} died",
            f"{load.failed} of {load.sent} failed:\n{load.table()}\n",
            "which cases does nginx retry on another replica, and for which methods",
        )
    if len(seen) < 2:
        raise failed(
            "the crash",
            "answers from more than one replica",
            f"only {sorted(seen)}",
            "whether proxy_pass leads to the service name that every replica answers to",
        )
    killed = f"{load.sent} requests in {LOAD['seconds']:g} s while a replica was killed"
    return f"{killed}: 0 failed, {len(seen)} replicas answered"


def _load_with_a_crash(port: int) -> paced_load.Load:
    facts = room.facts()
    secrets = room.make_secrets(say=lambda line: None)
    victim = room.replicas(PROJECT, services=(SERVICE,))[0].name

    def client() -> PenguinClient:
        return PenguinClient(
            f"https://{facts.domain}:{port}",
            timeout=float(LOAD["timeout"]),
            verify=str(secrets.ca),
            resolve={facts.domain: "127.0.0.1"},
            headers={room.API_KEY_HEADER: secrets.api_key},
        )

    def kill() -> str:
        room.crash(victim)
        return victim

    return paced_load.run(
        client,
        "/predict",
        CLEAN_RECORD,
        rate=LOAD["rate"],
        seconds=LOAD["seconds"],
        threads=int(LOAD["threads"]),
        timeout=LOAD["timeout"],
        at={LOAD["kill_at"]: kill},
    )


def check_server_room(nginx_conf: Path | str, compose_file: Path | str, image: str | None = None) -> None:
    """Exercise 07: the files first, then `nginx -t`, then a crash under load where an engine runs."""
    conf, lines = Path(nginx_conf), Path(compose_file)
    nginx_problems(_read(conf, "the resolver and retry lines"))
    _read(lines, "the replicas and healthcheck lines")
    service, how = composed(lines, conf)
    compose_problems(service)
    steps = [
        f"{conf.name} re-resolves the replicas and retries",
        f"{lines.name}: {how}",
        nginx_t(conf),
        crash_under_load(conf, lines, image or docker.IMAGE),
    ]
    passed("; ".join(steps))
