"""Notebook 07c's side-by-side table: each idea of the server room beside its Kubernetes
counterpart, both read from the files that hold them (an excerpt that drifts fails here)."""

from __future__ import annotations

import pytest

from workshop import counterparts

EXCERPTS = [excerpt for pair in counterparts.PAIRS for excerpt in (*pair.room, *pair.kubernetes)]


@pytest.mark.parametrize("excerpt", EXCERPTS, ids=lambda e: f"{e.file}:{e.key}")
def test_each_excerpt_is_the_block_under_its_key(excerpt: counterparts.Excerpt) -> None:
    text = excerpt.text()
    first, *rest = text.splitlines()
    assert first.startswith(excerpt.key)
    assert all(line.startswith((" ", "\t")) for line in rest), text


def test_the_room_is_on_the_left_and_kubernetes_on_the_right() -> None:
    for pair in counterparts.PAIRS:
        assert all(not e.file.startswith("k8s/") for e in pair.room), pair.idea
        assert all(e.file.startswith("k8s/") for e in pair.kubernetes), pair.idea


def test_every_idea_the_issue_names_has_its_row() -> None:
    ideas = " ".join(pair.idea for pair in counterparts.PAIRS)
    for needed in ("replicas", "Deployment", "DNS", "Service", "proxy", "Ingress", "healthcheck", "probes"):
        assert needed in ideas
    for needed in ("blue/green", "rolling update", "make room-rollback", "kubectl rollout undo", "Secret"):
        assert needed in ideas


def test_an_excerpt_is_the_real_text_with_its_comments() -> None:
    strategy = counterparts.Excerpt("k8s/deployment.yaml", "strategy:").text()
    assert strategy.splitlines()[0] == "strategy:"
    assert "maxUnavailable: 0" in strategy and "# never fewer ready replicas" in strategy
    assert "template:" not in strategy  # the next key at the same depth ends it
    rule = counterparts.Excerpt("Makefile", "room-rollback:").text()
    assert rule.splitlines()[1] == "\t$(PY) -m workshop room rollback"


def test_a_key_that_is_gone_fails_loudly() -> None:
    with pytest.raises(ValueError, match=r"k8s/deployment\.yaml has no line starting with 'noSuchKey:'"):
        counterparts.Excerpt("k8s/deployment.yaml", "noSuchKey:").text()


def test_the_table_holds_every_excerpt_escaped() -> None:
    table = counterparts.html_table()
    assert table.count("<tr>") == len(counterparts.PAIRS) + 1
    assert "&lt;&lt;: *model" in table and "<<:" not in table
