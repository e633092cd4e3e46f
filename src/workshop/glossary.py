"""The lecture's Polish terms with the English names this repository uses: one list, many readers.

The lecture is Polish, the code English. The README, notebook 00 (the whole table) and each stage
notebook (its stage's terms) show this list, and a test checks that they show exactly it; the
lecturer's own words (often anglicisms: "wrapuje") stand beside the standard Polish terms. A
term shows once the stage table names its stage. `python -m workshop glossary [--notebooks]`
prints the table (or rewrites the notebooks' markdown copies, with no need to re-execute them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat

from workshop.stages import NOTEBOOKS, STAGES

FULL_GLOSSARY_LINK = "../README.md#glossary-słowniczek"  # where a notebook links to the whole table
LINE_START = "**Słowniczek / glossary:**"
TABLE_HEADER = "| lecture (Polish) | here (English) | stage |"


@dataclass(frozen=True)
class Term:
    """A term as said in Polish, as named here, its stage (and its one notebook, when named)."""

    polish: str
    english: str
    stage: int
    notebook: str = ""


GLOSSARY: tuple[Term, ...] = (
    Term("wdrożenie na produkcję", "deployment to production", 0),
    Term("z lotu ptaka", "bird's-eye view", 0),
    Term("produkcja", "production: the machine where the model serves real users", 0),
    Term("serwer fizyczny", "physical server (a box under a desk)", 0),
    Term("serwerownia, rack", "server room, rack", 0),
    Term("chmura", "the cloud", 0),
    Term("model uczenia maszynowego", "machine-learning model", 1),
    Term("predykcja", "prediction", 1),
    Term("surowe dane", "raw data", 1),
    Term("zapisać model", "save (serialise) the model", 2),
    Term("format binarny", "binary format (a file on disk)", 2),
    Term("sieć neuronowa", "neural network", 3),
    Term("format ONNX (Open Neural Network Exchange)", "ONNX, a model file any ONNX runtime can run", 3),
    Term("inny deweloper, inne środowisko", "another developer, another runtime", 3),
    Term("implementacja, wasz kod", "implementation, your code", 4),
    Term("klasa, która wrapuje model", "wrapper class", 4),
    Term("klasa opakowująca", "wrapper class (the standard Polish term)", 4),
    Term("kroki czyszczące / przygotowujące dane", "data cleaning / preparation steps", 4),
    Term("usługa, serwis", "service", 5),
    Term("adres IP, domena", "IP address, domain name", 5),
    Term("port", "port (the number after the colon: 127.0.0.1:8004)", 5),
    Term("wystawiony na świat", "exposed to the world (listening on a public address)", 5),
    Term("żądanie / odpowiedź", "request / response", 5),
    Term("punkt końcowy", "endpoint (a path such as /predict)", 5),
    Term("kontener", "container", 6),
    Term("wyizolowane środowisko", "isolated environment", 6),
    Term("paczka", "package: the lecture's word for the image", 6),
    Term("obraz", "image (what a container is started from)", 6),
    Term("rejestr", "registry (where images are stored and pulled from)", 6),
    Term("wysłać (kontener) na serwer", "ship it to a server: push to a registry, pull on the server", 6),
    Term("wypchnięcie (obrazu do rejestru)", "push (`docker push`)", 6),
    Term("pobranie (obrazu z rejestru)", "pull (`docker pull`)", 6),
    Term("inne usługi", "other services (the station)", 7),
    Term("serwer pośredniczący, odwrotne proxy", "reverse proxy (nginx)", 7),
    Term("replika", "replica (one of several identical containers)", 7),
    Term("równoważenie obciążenia", "load balancing", 7),
    Term("kontrola stanu", "healthcheck", 7, "07_server_room"),
    Term("ponowienie żądania", "retry", 7, "07_server_room"),
    Term("rekord DNS", "DNS record", 7, "07_server_room"),
    Term("certyfikat, urząd certyfikacji", "certificate, certificate authority (CA)", 7),
    Term("wdrożenie / wycofanie wersji", "rollout / rollback (of a model version)", 7),
    Term("klaster, węzeł", "cluster, node (one machine of the cluster)", 7, "07c_kubernetes"),
    Term("sonda gotowości / żywotności", "readiness / liveness probe", 7, "07c_kubernetes"),
    Term("aktualizacja krocząca", "rolling update (new pods replace old ones a few at a time)", 7, "07c_kubernetes"),
    Term("wdrożenie niebiesko-zielone", "blue/green deployment (all traffic switched at once)", 7, "07c_kubernetes"),
    Term("monitorowanie", "monitoring: is it up, how fast, how many answers", 8),
    Term("metryki", "metrics (the numbers a service exposes at /metrics)", 8),
    Term("opóźnienie, percentyl", "latency, percentile (p95: 95 % of requests were faster)", 8),
    Term("licznik, histogram", "counter (only goes up), histogram (counts per bucket)", 8),
    Term("dryf danych", "data drift (today's inputs unlike the training data)", 8),
    Term("udostępnić kod i model", "ship the code and the model (the lecture's deployment)", 9),
    Term("potok", "pipeline: the release steps, run by a machine in order", 9),
    Term("wydanie", "release: one model version, tested and shipped", 9),
    Term("cofnięcie wydania", "rollback: back to the version that was live", 9),
    Term("przypięte wersje", "pinned versions (generated by pip-compile)", 9),
)


def shown() -> tuple[Term, ...]:
    """The terms of the stages the stage table has, in lecture order: what every reader shows."""
    present = {stage.number for stage in STAGES}
    return tuple(term for term in GLOSSARY if term.stage in present)


def markdown_table() -> str:
    """The whole glossary as the README and notebook 00 show it."""
    rows = [TABLE_HEADER, "|---|---|---|"]
    rows += [f"| {t.polish} | {t.english} | {t.stage:02d} |" for t in shown()]
    return "\n".join(rows)


def stage_line(stage: int, notebook: str = "") -> str:
    """The top line of a stage's notebook (`notebook`, e.g. "07c_kubernetes"): its terms and a link to
    the rest. ValueError for a stage without terms: a notebook cannot promise what is not here."""
    terms = [term for term in shown() if term.stage == stage and term.notebook in ("", notebook)]
    if not terms:
        raise ValueError(f"the glossary has no terms for stage {stage}")
    listed = "; ".join(f"*{t.polish}* = {t.english}" for t in terms)
    return f"{LINE_START} {listed} ([all terms]({FULL_GLOSSARY_LINK}))"


def _rewritten(source: str, name: str) -> str:
    """A markdown cell of notebook `name` with its glossary line or table as written here."""
    lines = source.split("\n")
    if any(line.startswith(LINE_START) for line in lines):
        line_here = stage_line(int(name[:2]), name)
        return "\n".join(line_here if line.startswith(LINE_START) else line for line in lines)
    if TABLE_HEADER in lines:
        start = lines.index(TABLE_HEADER)
        end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
        return "\n".join([*lines[:start], markdown_table(), *lines[end:]])
    return source


def write_notebooks(folder: Path) -> list[Path]:
    """Rewrite the glossary's copies in the lecture notebooks in `folder` (markdown only); those changed."""
    changed = []
    for name in NOTEBOOKS:
        path = folder / f"{name}.ipynb"
        if not path.exists():
            continue
        nb = nbformat.read(path, as_version=4)
        before = [cell.source for cell in nb.cells]
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = _rewritten(cell.source, name)
        if [cell.source for cell in nb.cells] != before:
            nbformat.write(nb, path)
            changed.append(path)
    return changed
