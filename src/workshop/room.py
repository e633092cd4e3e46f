"""Stage 07's server room (docker/compose.room.yaml) for make, tests and the bench (notebooks type
compose themselves): facts read from the files a student reads, secrets made with openssl in .room/."""

from __future__ import annotations

import os
import re
import secrets
import shlex
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from penguins.client import PenguinClient
from penguins.serving.api.deps import API_KEY_HEADER as API_KEY_HEADER  # the room's clients send it
from workshop import docker
from workshop.docker import root as root
from workshop.docker import shell as shell  # what release and notebook 07 print commands with

COMPOSE_FILE = docker.ROOM_FILE
NGINX_CONF = "docker/proxy/nginx.conf"
SECRETS = ".room"  # git-ignored: the CA, the proxy's certificate and key, the API keys
RECORDS = "records"  # in SECRETS: the station's recent.jsonl, the raw records it forwarded
COLOUR_CONF = "colour.conf"  # in SECRETS: `set $colour blue;`, the colour the proxy sends to (nginx.conf)
REPLICA_HEADER = "X-Replica"
CA_NAME = "/CN=penguins-to-production classroom CA"
CERT_DAYS = 30  # a classroom certificate: short-lived, and never trusted outside this room
UP_WITHIN = 180  # seconds for `up --wait`
# The model's two colours (blue/green: see workshop.rollout); both answer to the alias `penguins`.
MODEL_SERVICES = ("penguins-blue", "penguins-green")


class RoomError(RuntimeError):
    """A compose or openssl command failed; the message ends with its output."""


@dataclass(frozen=True)
class Facts:
    project: str
    replicas: int
    https_port: int
    http_port: int
    station_port: int
    prometheus_port: int
    domain: str
    nginx_image: str
    prometheus_image: str

    @property
    def url(self) -> str:
        return f"https://{self.domain}:{self.https_port}"


@cache
def facts() -> Facts:
    base = root()
    services = (compose := yaml.safe_load((base / COMPOSE_FILE).read_text(encoding="utf-8")))["services"]
    domain = re.search(r"^\s*server_name\s+([^;\s]+);", (base / NGINX_CONF).read_text(encoding="utf-8"), re.M)
    if domain is None:
        raise RoomError(f"no server_name in {NGINX_CONF}")

    def published(service: str, inside: int) -> int:
        for entry in services[service].get("ports", []):
            host, _, container = str(entry).rpartition(":")
            if int(container) == inside:
                return int(host.rpartition(":")[2])
        raise RoomError(f"no published port for {service}'s port {inside} in {COMPOSE_FILE}")

    return Facts(
        project=compose["name"],
        replicas=int(services[MODEL_SERVICES[0]]["deploy"]["replicas"]),
        https_port=published("proxy", 443),
        http_port=published("proxy", 80),
        station_port=published("station", 8010),
        prometheus_port=published("prometheus", 9090),
        domain=domain.group(1),
        nginx_image=services["proxy"]["image"],
        prometheus_image=services["prometheus"]["image"],
    )


@dataclass(frozen=True)
class Secrets:
    folder: Path

    @property
    def ca(self) -> Path:
        """The room's certificate authority: clients verify the proxy against it (verify=)."""
        return self.folder / "tls" / "ca.crt"

    @property
    def api_key(self) -> str:
        return (self.folder / "api-key").read_text(encoding="utf-8").strip()


def make_secrets(folder: Path | None = None, domain: str | None = None, say: Any = print) -> Secrets:
    """Made once: a local CA, the proxy's certificate signed by it, an API key with nginx's map of it."""
    folder = folder or root() / SECRETS
    domain = domain or facts().domain
    tls = folder / "tls"
    tls.mkdir(parents=True, exist_ok=True)
    if not (tls / "server.crt").exists():
        (tls / "server.ext").write_text(f"subjectAltName=DNS:{domain}\nextendedKeyUsage=serverAuth\n")
        days = f"-days {CERT_DAYS}"
        for command in (
            f"req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt {days} -subj '{CA_NAME}'",
            f"req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN={domain}",
            f"x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt {days} "
            "-extfile server.ext",
        ):
            made = subprocess.run(
                ["openssl", *shlex.split(command)], capture_output=True, text=True, cwd=tls, timeout=60
            )
            if made.returncode != 0:
                raise RoomError(f"openssl {command} failed:\n{made.stderr[-1000:]}")
        say(f"made a local CA and a certificate for {domain} in {tls} (valid {CERT_DAYS} days)")
    if not (folder / "api-key").exists():
        key = secrets.token_urlsafe(24)
        (folder / "api-key").write_text(key + "\n", encoding="utf-8")
        (folder / "api-keys.conf").write_text(
            "# Made by `make room-certs`; never commit it. X-API-Key -> $api_key_ok.\n"
            f'map $http_x_api_key $api_key_ok {{\n    default 0;\n    "{key}" 1;\n}}\n',
            encoding="utf-8",
        )
        say(f"made an API key in {folder / 'api-key'}")
    if not (folder / COLOUR_CONF).exists():
        write_colour(MODEL_SERVICES[0], folder)
    # The station writes its records as its image's user (10001), not as whoever runs the room.
    (folder / RECORDS).mkdir(exist_ok=True)
    (folder / RECORDS).chmod(0o777)
    return Secrets(folder)


def colour_line(service: str) -> str:
    """colour.conf's one line: `set $colour blue;` names nginx's upstream."""
    return f"set $colour {service.removeprefix('penguins-')};\n"


def write_colour(service: str, folder: Path | None = None) -> Path:
    """Which colour the proxy sends to, read at its next start or reload."""
    path = (folder or root() / SECRETS) / COLOUR_CONF
    path.write_text(colour_line(service), encoding="utf-8")
    return path


@dataclass(frozen=True)
class Ran:
    command: list[str]
    output: str
    seconds: float

    def __str__(self) -> str:
        return f"{shell(self.command)}\n{self.output.rstrip()}"


def compose(*args: str, timeout: float = UP_WITHIN, env: dict[str, str] | None = None) -> Ran:
    """`docker compose -f docker/compose.room.yaml ...`; RoomError with its output."""
    command = ["docker", "compose", "-f", COMPOSE_FILE, *args]
    started = time.monotonic()
    try:
        output = docker.stream(command, root(), timeout, lambda line: None, {**os.environ, **(env or {})})
    except docker.DockerError as failed:
        raise RoomError(f"{shell(command)}: {failed}") from None
    return Ran(command, output, time.monotonic() - started)


def compose_version() -> str | None:
    """`docker compose version --short` ("2.22.0"), or None when the Compose plugin does not answer."""
    try:
        result = subprocess.run(["docker", "compose", "version", "--short"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip().removeprefix("v") or None if result.returncode == 0 else None


def compose_v2() -> str | None:
    """Compose v2's version (the room needs `up --wait`), or None."""
    return version if (version := compose_version()) and version.startswith("2.") else None


def up(*extra: str, env: dict[str, str] | None = None) -> Ran:
    """`up --wait`: start the room and return once every replica reports healthy."""
    make_secrets(say=lambda line: None)
    model_image(env)
    return compose("up", "--wait", *extra, env=env)


def model_image(env: dict[str, str] | None = None) -> str:
    """The replicas' image, built as `make docker-build` does when missing (with the version label)."""
    given = {**os.environ, **(env or {})}
    image = given.get("BLUE_IMAGE") or given.get("PENGUINS_IMAGE") or docker.IMAGE
    if not docker.has_image(image):
        from workshop import rollout  # rollout drives the room, so it imports this module

        docker.build(image, say=lambda line: None, options=rollout.label_args())
    return image


def down(env: dict[str, str] | None = None) -> Ran:
    return compose("down", "--timeout", "5", env=env)


@dataclass(frozen=True)
class Replica:
    name: str
    address: str  # the replica's IP in the room's network, as the proxy's header names it
    restarts: int
    health: str


def running(service: str | None = None) -> list[dict[str, Any]]:
    """`docker inspect` of the room's running containers, or one service's."""
    labels = [f"com.docker.compose.project={facts().project}"]
    labels += [f"com.docker.compose.service={service}"] if service else []
    return [container.attrs for container in docker.api().containers.list(filters={"label": labels})]


def replicas(services: Sequence[str] = MODEL_SERVICES) -> list[Replica]:
    """The model's running containers (of both colours unless told)."""
    found = []
    for item in running():
        if item["Config"]["Labels"].get("com.docker.compose.service") in services:
            networks = item["NetworkSettings"]["Networks"]
            address = next(iter(networks.values()))["IPAddress"] if networks else ""
            health = item["State"].get("Health", {}).get("Status", "none")
            found.append(Replica(item["Name"].lstrip("/"), address, int(item["RestartCount"]), health))
    return sorted(found, key=lambda r: r.name)


def in_rotation(within: float = 20.0) -> set[str]:
    """Until every healthy replica answered through the proxy (nginx benches one it tried too early)."""
    wanted = {replica.address for replica in replicas() if replica.health == "healthy"}
    seen: set[str] = set()
    deadline = time.monotonic() + within
    with client() as caller:
        while not wanted <= seen:
            if time.monotonic() > deadline:
                raise RoomError(f"replicas {sorted(wanted - seen)} got no request through the proxy in {within:g} s")
            reply = caller.session.get(caller.url + "/ready", verify=caller.verify, timeout=5)
            seen |= {part.strip().rpartition(":")[0] for part in reply.headers.get(REPLICA_HEADER, "").split(",")}
            time.sleep(0.05)
    return seen


def client(secrets_: Secrets | None = None, key: str | None = "") -> PenguinClient:
    """The room as the world sees it: the domain (on 127.0.0.1), its CA, the API key (None: none)."""
    made = secrets_ or make_secrets(say=lambda line: None)
    headers = {} if key is None else {API_KEY_HEADER: key or made.api_key}
    room = facts()
    return PenguinClient(room.url, timeout=5, verify=str(made.ca), resolve={room.domain: "127.0.0.1"}, headers=headers)


def main(command: str) -> int:
    """`python -m workshop room certs|up|down|ps`: what the make targets room-* run."""
    if command == "certs":
        made = make_secrets()
        print(f"CA for clients (verify=): {made.ca}\nAPI key: {made.folder / 'api-key'}")
        return 0
    ran = up() if command == "up" else down() if command == "down" else compose("ps")
    print(ran)
    if command == "up":
        room = facts()
        print(
            f"\nthe room answers at {room.url} (curl --resolve {room.domain}:{room.https_port}:127.0.0.1 "
            f"--cacert {SECRETS}/tls/ca.crt {room.url}/health)"
        )
    return 0
