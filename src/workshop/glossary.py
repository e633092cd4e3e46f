"""The lecture's Polish terms with the English names this repository uses: one list, many readers.

The lecture is given in Polish and the code speaks English, so students need a bridge. The
README, notebook 00 (the whole table) and notebooks 01-06 (the terms of their stage) all show
it; a test checks that each shows exactly what is written here, so the bridge cannot drift.
Re-print the tables with `python -m workshop glossary`.
"""

from __future__ import annotations

from dataclasses import dataclass

# Where notebooks link to for the full table: notebook 00's glossary heading.
FULL_GLOSSARY_LINK = "00_big_picture.ipynb#Glossary"


@dataclass(frozen=True)
class Term:
    """One lecture term: as said in Polish, as named here, and the stage that explains it."""

    polish: str
    english: str
    stage: int


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
    Term("kroki czyszczące / przygotowujące dane", "data cleaning / preparation steps", 4),
    Term("usługa, serwis", "service", 5),
    Term("adres IP, domena", "IP address, domain name", 5),
    Term("wystawiony na świat", "exposed to the world (listening on a public address)", 5),
    Term("kontener", "container", 6),
    Term("wyizolowane środowisko", "isolated environment", 6),
    Term("odwrotne proxy", "reverse proxy (nginx in front of the service)", 7),
    Term("replika", "replica (one of several identical containers)", 7),
    Term("równoważenie obciążenia", "load balancing", 7),
    Term("certyfikat / urząd certyfikacji", "certificate / certificate authority (CA)", 7),
)


def markdown_table() -> str:
    """The whole glossary as the README and notebook 00 show it."""
    rows = ["| lecture (Polish) | here (English) | stage |", "|---|---|---|"]
    rows += [f"| {t.polish} | {t.english} | {t.stage:02d} |" for t in GLOSSARY]
    return "\n".join(rows)


def terms_of_stage(stage: int) -> tuple[Term, ...]:
    """The terms a stage's notebook explains, in lecture order."""
    return tuple(term for term in GLOSSARY if term.stage == stage)


def stage_line(stage: int) -> str:
    """One markdown line for the top of a stage notebook: its terms and a link to the rest.

    Raises ValueError for a stage with no terms, so a notebook cannot promise terms that
    the glossary does not hold.
    """
    terms = terms_of_stage(stage)
    if not terms:
        raise ValueError(f"the glossary has no terms for stage {stage}")
    listed = "; ".join(f"*{t.polish}* = {t.english}" for t in terms)
    return f"**Słowniczek / glossary:** {listed} ([all terms]({FULL_GLOSSARY_LINK}))"
