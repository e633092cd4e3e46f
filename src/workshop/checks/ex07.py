"""Exercise 07: the student's compose file and nginx block read as Docker and nginx read them, held to
the lesson's rules in any style; then, with an engine and Compose v2, `nginx -t` and the room under
its own project: the golden set at the domain, a replica killed under load, 0 failed."""

from __future__ import annotations

import json
import math
import re
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from penguins import smoke
from penguins.client import InvalidInput, PenguinClient
from workshop import docker, room
from workshop.checks.common import passed, problem, survives, written, yaml_documents

DOMAIN = "www.mojadomena.zmodelami.pl"
PROJECT = "penguins-ex07"  # the check's own compose project: it never touches the student's
DOCKER_DNS = "127.0.0.11"
MAX_VALID_S = 5.0  # nginx must forget a DNS answer within seconds, or a new replica stays unseen
MAX_INTERVAL_S = 10.0  # a replica is known healthy (or not) within seconds
RETRY_ON = ("error", "timeout", "non_idempotent")
LOAD_SECONDS, KILL_AT, TIMEOUT = 5.0, 1.5, 3.0  # paced_load's 100 requests/s; a replica killed 1.5 s in
_TOKEN = re.compile(r"""'([^']*)'|"([^"]*)"|(#[^\n]*)|([{};])|([^\s{};'"#]+)""")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def seconds(text: str) -> float:
    """An nginx or compose duration ("1s", "500ms", "1m30s", "2") in seconds; unreadable: infinity."""
    if text.replace(".", "", 1).isdigit():
        return float(text)
    parts = _DURATION.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        return math.inf
    return sum(float(n) * {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}[unit] for n, unit in parts)


# ---------------------------------------------------------------- 1a. the nginx file


@dataclass
class Directive:
    """One nginx directive: its name, its arguments, and its block when it has one."""

    name: str
    args: list[str]
    block: list[Directive] | None = None

    def all(self, name: str) -> Iterator[Directive]:
        """Every directive called `name` inside this one, at any depth."""
        for child in self.block or []:
            if child.name == name:
                yield child
            yield from child.all(name)


def parse_nginx(text: str) -> Directive:
    """The file as a tree of directives under a root; comments and quotes read as nginx does."""
    stack = [Directive("", [], [])]
    words: list[str] = []
    for single, double, comment, punct, word in _TOKEN.findall(text):
        if comment:
            continue
        if not punct:
            words.append(word or single or double)
            continue
        if punct == "}":
            if len(stack) == 1:
                raise ValueError("a } without its {")
            stack.pop()
        elif words:
            directive = Directive(words[0], words[1:], [] if punct == "{" else None)
            assert stack[-1].block is not None
            stack[-1].block.append(directive)
            if punct == "{":
                stack.append(directive)
        words = []
    if len(stack) > 1 or words:
        raise ValueError("a block or a directive is not closed")
    return stack[0]


def _hostport(address: str) -> tuple[str, int]:
    host, _, port = address.removeprefix("http://").split("/")[0].partition(":")
    return host, int(port) if port.isdigit() else 80


ONCE = "looked up once, at start: a replica that comes back with a new address is never used"


def _resolver_stale(directives: list[Directive]) -> str:
    """ "" for a resolver naming Docker's DNS that forgets its answers within MAX_VALID_S; else why not."""
    for resolver in directives:
        valid = [seconds(a.partition("=")[2]) for a in resolver.args if a.startswith("valid=")]
        if DOCKER_DNS in resolver.args and valid and valid[0] <= MAX_VALID_S:
            return ""
    if not directives:
        return "no resolver: nginx cannot ask again"
    return f"resolver {' '.join(directives[0].args)}: answers kept longer (Docker's DNS says 10 minutes)"


def upstreams(conf: Directive) -> list[tuple[str, int, str]]:
    """Each proxy_pass's host, port, and why nginx would not ask DNS about it again ("": it does)."""
    variables = {d.args[0].lstrip("$"): d.args[1] for d in conf.all("set") if len(d.args) == 2}
    blocks = {d.args[0]: d for d in conf.all("upstream") if d.args}
    resolvers = list(conf.all("resolver"))
    found = []
    for proxy_pass in conf.all("proxy_pass"):
        target = proxy_pass.args[0] if proxy_pass.args else ""
        if "$" in target:
            value = re.sub(r"\$\{?(\w+)\}?", lambda m: variables.get(m.group(1), m.group(0)), target)
            found.append((*_hostport(value), _resolver_stale(resolvers)))
        elif (name := _hostport(target)[0]) in blocks:
            zone = any(True for _ in blocks[name].all("zone"))
            for server in blocks[name].all("server"):
                stale = _resolver_stale(resolvers) if "resolve" in server.args else ONCE
                stale = stale or ("" if zone else "`resolve` needs a zone in its upstream block")
                found.append((*_hostport(server.args[0]), stale))
        else:
            found.append((*_hostport(target), ONCE))
    return found


def nginx_problems(text: str, model: set[str], port: int) -> None:
    """TLS at the domain, proxy_pass to the model's replicas, asked again, retried on error."""
    try:
        conf = parse_nginx(text)
    except ValueError as error:
        raise problem("blocks in { } and directives ending in ;", str(error), "nginx -t", "the nginx file") from None
    listens = [d.args for d in conf.all("listen")]
    if not any("ssl" in args and any(a.endswith("443") for a in args) for args in listens):
        found = "; ".join("listen " + " ".join(args) for args in listens) or "no listen"
        raise problem("HTTPS on port 443 (`ssl`)", found, "nginx's `listen` and its `ssl` flag", "listen")
    names = [a for d in conf.all("server_name") for a in d.args]
    if DOMAIN not in names or not any(True for _ in conf.all("ssl_certificate")):
        tip = "ssl_certificate and ssl_certificate_key name files inside the container"
        raise problem(f"server_name {DOMAIN} with its certificate", f"server_name {names or 'missing'}", tip, "server")
    if not (targets := upstreams(conf)):
        raise problem("requests passed on to the model's replicas", "no proxy_pass", "nginx's proxy_pass", "proxy_pass")
    for host, listens_on, stale in targets:
        if host not in model or listens_on != port:
            expected, tip = f"the model's service by name, port {port}", "its compose name is its address in the room"
            raise problem(expected, f"{host}:{listens_on}", tip, "proxy_pass")
        if stale:
            expected = f"nginx to ask Docker's DNS ({DOCKER_DNS}) about {host} again within {MAX_VALID_S:g} s"
            tip = "`resolve` in an upstream with a zone, or the address in a variable; a resolver with valid="
            raise problem(expected, stale, tip, "re-resolution")
    retry = [d.args for d in conf.all("proxy_next_upstream")]
    on = retry[-1] if retry else ["error", "timeout (the default)"]
    if any(case not in on for case in RETRY_ON) or "off" in on:
        expected = f"a failed request retried on another replica: {', '.join(RETRY_ON)} (a POST too)"
        raise problem(expected, " ".join(on), "the cases nginx's proxy_next_upstream lists", "proxy_next_upstream")
    tries = [d.args[0] for d in conf.all("proxy_next_upstream_tries") if d.args]
    if tries and tries[-1] == "1":
        raise problem("2 or more (0: no limit)", "1", "the first try counts as one", "proxy_next_upstream_tries")


# ---------------------------------------------------------------- 1b. the compose file


def _repository(image: str) -> str:
    """An image's name without registry, folders, tag or digest: "127.0.0.1:5001/penguins:v1" -> "penguins"."""
    return re.split("[:@]", image.rpartition("/")[2])[0]


def _published(spec: dict[str, Any]) -> list[int]:
    """The container ports a service publishes (every entry of `ports:`, short or long syntax)."""
    entries = spec.get("ports") or []
    short = (re.split(r"[/-]", str(e).rpartition(":")[2])[0] for e in entries if not isinstance(e, dict))
    return [int(e["target"]) for e in entries if isinstance(e, dict)] + [int(port) for port in short]


def services(compose_file: Path) -> tuple[dict[str, dict[str, Any]], dict[str, Any], str]:
    """The services by name as the room runs them, the normalised document, and how it was read."""
    if room.compose_v2():
        result = _run(["docker", "compose", "-f", str(compose_file), "config", "--format", "json"], 60)
        if result.returncode != 0:
            said = (result.stderr.strip().splitlines() or ["?"])[-1].split(".yaml: ")[-1]
            raise problem("a file Docker reads", said, "each key deeper than its parent", "docker compose config")
        document, how = json.loads(result.stdout), "docker compose config passed"
    else:
        document = (yaml_documents(compose_file.read_text(encoding="utf-8")) or [{}])[0]
        how = "read with PyYAML (no Compose v2 here)"
    return {name: spec or {} for name, spec in (document.get("services") or {}).items()}, document, how


def compose_problems(found: dict[str, dict[str, Any]], compose_file: Path, conf: Path) -> tuple[str, str]:
    """The names of the model's service and the proxy's, held to the lesson's rules."""
    image = {name: str(spec.get("image", "")) for name, spec in found.items()}
    models = [name for name, each in image.items() if _repository(each).startswith("penguins")]
    proxies = [name for name, each in image.items() if _repository(each) == "nginx"]
    if not models or not proxies:
        said = ", ".join(f"{name} ({each or 'no image'})" for name, each in image.items()) or "no services"
        raise problem(f"one running the stage 06 image ({docker.IMAGE}), one nginx", said, "`image:`", "the services")
    model, proxy = found[models[0]], found[proxies[0]]
    replicas = int((model.get("deploy") or {}).get("replicas", model.get("scale", 1)))
    if replicas < 2:
        raise problem("3 replicas of the model, so one can die", f"{replicas}", "compose's `deploy:`", "replicas")
    health = model.get("healthcheck") or {}
    test = health.get("test") or []
    command = " ".join(test) if isinstance(test, list) else str(test)
    if health.get("disable") or "/ready" not in command:
        asked = re.findall(r"https?://[^'\"\s)]+", command)
        said = f"a test asking {asked[0]}" if asked else command[-60:] or "none (the image's own asks /health)"
        tip = "compose's `healthcheck:`; the image has Python, not curl"
        raise problem("a test that asks the readiness path, /ready", said, tip, "healthcheck")
    if seconds(interval := str(health.get("interval", "30s"))) > MAX_INTERVAL_S:
        raise problem(f"at most {MAX_INTERVAL_S:g} s", interval, "a few seconds", "healthcheck.interval")
    published = {name: ports for name, spec in found.items() if (ports := _published(spec))}
    if 443 not in published.get(proxies[0], []) or published.keys() - {proxies[0]}:
        said = f"published: {', '.join(f'{name} {ports}' for name, ports in published.items()) or 'nothing'}"
        tip = "`ports:` for the front door only; the replicas are reached inside the room"
        raise problem("nginx as the only published service, on port 443", said, tip, "ports")
    sources = [v.get("source", "") if isinstance(v, dict) else str(v).split(":")[0] for v in proxy.get("volumes") or []]
    mounts = [(compose_file.parent / s).resolve() for s in sources if s.startswith((".", "/", "~"))]
    if not any(conf.resolve().is_relative_to(mount) for mount in mounts):
        mounted = ", ".join(mount.name for mount in mounts) or "nothing"
        raise problem(f"{conf.name} mounted into the nginx service", mounted, "the service's `volumes:`", "volumes")
    return models[0], proxies[0]


# ---------------------------------------------------------------- 2. nginx -t, 3. the room


def _missing(model_image: str, proxy_image: str) -> str:
    found = docker.engine()
    if not found.running:
        return found.reason
    if not room.compose_v2():
        return "no Compose v2 (`docker compose version`)"
    missing = [image for image in (model_image, proxy_image) if not docker.has_image(image)]
    if missing:
        raise problem("the room's images on this machine", f"no {missing[0]}", "make docker-build", "the images")
    return ""


@contextmanager
def _room(document: dict[str, Any], proxy: str, model: str, image: str) -> Iterator[list[str]]:
    """The student's room as its own compose project, the proxy on a free loopback port."""
    document = json.loads(json.dumps(document))
    document["name"] = PROJECT
    for kind in ("networks", "volumes"):  # compose config names them after the student's project
        for spec in (document.get(kind) or {}).values():
            if isinstance(spec, dict) and not spec.get("external"):
                spec.pop("name", None)
    document["services"][model]["image"] = image
    document["services"][proxy]["ports"] = [{"target": 443, "host_ip": "127.0.0.1", "protocol": "tcp"}]
    with tempfile.TemporaryDirectory(prefix="ex07-") as folder:
        path = Path(folder) / "compose.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        command = ["docker", "compose", "-f", str(path)]
        try:
            yield command
        finally:
            _run([*command, "down", "--timeout", "3"], 120)


def _run(command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def _compose(command: list[str], *args: str) -> str:
    """One `docker compose` command on the check's project; its output, or what failed."""
    result = _run([*command, *args], room.UP_WITHIN)
    if result.returncode != 0:
        lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
        found = " | ".join(lines[-3:])[-400:]
        raise problem("the room to start from your files", found, "docker compose logs", f"docker compose {args[0]}")
    return result.stdout + result.stderr


def _golden(client: PenguinClient, cases: list[smoke.Case]) -> None:
    """The golden set through the proxy: each record its true species, or its refusal."""
    for case in cases:
        try:
            outcome = client.predict(case.record).species
        except InvalidInput as refused:
            outcome = f"refused:{','.join(refused.codes)}"
        expected = case.species if case.refusal is None else f"refused:{case.refusal}"
        if not outcome.startswith(expected):
            raise problem(f"{expected} for source row {case.source_row}", outcome, "the model image", "the golden set")


def _nginx_t(command: list[str], proxy: str) -> str:
    """`nginx -t` in the student's nginx service, with its mounts, without starting anything else."""
    result = _run([*command, "run", "--rm", "--no-deps", "-T", proxy, "nginx", "-t"], 120)
    if result.returncode != 0 or "test is successful" not in result.stderr:
        said = [line for line in result.stderr.splitlines() if "[emerg]" in line] or result.stderr.splitlines()[-1:]
        found = re.sub(r"^.*?\[emerg\] \S+ ", "", said[0] if said else "no answer")
        raise problem("the configuration test to pass", found, "the file and line nginx names", "nginx -t")
    return "nginx -t passed"


def _killed_under_load(command: list[str], proxy: str, model: str, ca: Path) -> str:
    """The room up, the golden set at the domain, a replica killed under a paced load."""
    _compose(command, "up", "--wait")
    port = int(_compose(command, "port", proxy, "443").strip().rpartition(":")[2])
    victim = _compose(command, "ps", "--quiet", model).split()[0]

    def client() -> PenguinClient:  # no retries of its own: every retry the room needs is the student's nginx's
        return PenguinClient(
            f"https://{DOMAIN}:{port}", timeout=TIMEOUT, verify=str(ca), resolve={DOMAIN: "127.0.0.1"}, retries=0
        )

    def kill() -> str:
        _run(["docker", "kill", victim], 30)
        return "docker kill"

    cases = smoke.load_cases(room.root() / "tests" / "golden.json")
    with client() as first:
        _golden(first, cases)
    tip = "which failures nginx retries on another replica, for which methods, and how long it waits to connect"
    load = survives(
        client,
        cases[0].record,
        "a replica killed under load",
        tip,
        seconds=LOAD_SECONDS,
        timeout=TIMEOUT,
        at={KILL_AT: kill},
    )
    return f"{len(cases)} golden records at the domain; {load.sent} requests, a replica killed, 0 failed"


def check_server_room(
    compose_file: Path | str, nginx_conf: Path | str, ca: Path | str, image: str | None = None, start: bool = True
) -> None:
    """`ca` signed the proxy's certificate; `image` replaces the model's (tests); `start=False`: only nginx -t."""
    compose_path, conf = Path(compose_file), Path(nginx_conf)
    written(compose_path, "the room's compose file")
    conf_text = written(conf, "the nginx server block")
    found, document, how = services(compose_path)
    model, proxy = compose_problems(found, compose_path, conf)
    networks = found[model].get("networks")
    aliases = {
        a for n in (networks.values() if isinstance(networks, dict) else []) for a in (n or {}).get("aliases") or []
    }
    nginx_problems(conf_text, {model, *aliases}, docker.Dockerfile.read().port)
    steps = [f"{how}; the files keep the lesson's rules"]
    image = image or str(found[model].get("image"))
    if missing := _missing(image, str(found[proxy].get("image"))):
        steps.append(f"nginx -t and the room not run ({missing})")
    else:
        with _room(document, proxy, model, image) as command:
            steps.append(_nginx_t(command, proxy))
            if start:
                steps.append(_killed_under_load(command, proxy, model, Path(ca)))
    passed("; ".join(steps))
