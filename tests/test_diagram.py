"""The bird's-eye diagram: its content, its highlight rule, and the committed images."""

from __future__ import annotations

import subprocess
import sys
from itertools import combinations
from pathlib import Path

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text
from PIL import Image

from workshop import diagram, stages

IMG = Path(__file__).resolve().parents[1] / "notebooks" / "img"
EXPECTED = ["bird_eye.svg", "bird_eye.png", *(f"bird_eye_stage{number}.png" for number in range(1, 10))]
RERENDER = "re-render with: python -c \"from workshop import diagram; diagram.render_all('notebooks/img')\""


def _figure_text(highlight: int | None = None) -> str:
    """All text of the figure, with line breaks from wrapping turned back into spaces."""
    texts = diagram.draw(highlight).findobj(Text)
    return " | ".join(" ".join(text.get_text().split()) for text in texts)


def test_boxes_are_the_stages_one_to_nine_of_the_stage_table() -> None:
    assert [box.number for box in diagram.BOXES] == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert set(diagram.LAYOUT) >= {box.key for box in diagram.BOXES}


@pytest.mark.parametrize("highlight", [None, 1, 6])
def test_figure_shows_every_title_and_polish_term_of_the_stage_table(highlight: int | None) -> None:
    text = _figure_text(highlight)
    for stage in stages.STAGES[1:]:
        assert stage.title in text
        assert stage.polish in text
    assert "model in a notebook" in text and "kontener" in text
    for english, polish in (diagram.PRODUCTION, diagram.PEOPLE, diagram.SERVICES):
        assert english in text and polish in text


def test_no_two_texts_overlap() -> None:
    """Catches a layout edit that pushes one label onto another before anyone looks."""
    fig = diagram.draw()
    renderer = FigureCanvasAgg(fig).get_renderer()
    boxes = [
        (text.get_text(), text.get_window_extent(renderer)) for text in fig.findobj(Text) if text.get_text().strip()
    ]
    clashes = [(first, second) for (first, a), (second, b) in combinations(boxes, 2) if a.overlaps(b)]
    assert not clashes


@pytest.mark.parametrize("highlight", [0, 10, -1])
def test_highlight_out_of_range_is_refused(highlight: int) -> None:
    with pytest.raises(ValueError, match="highlight"):
        diagram.draw(highlight)


def test_save_refuses_other_formats(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.svg or \.png"):
        diagram.save(tmp_path / "bird_eye.pdf")


def test_svg_is_byte_identical_when_saved_twice(tmp_path: Path) -> None:
    first = diagram.save(tmp_path / "first.svg", highlight=3).read_bytes()
    second = diagram.save(tmp_path / "second.svg", highlight=3).read_bytes()
    assert first == second


def test_render_all_writes_the_nine_images(tmp_path: Path) -> None:
    paths = diagram.render_all(tmp_path / "img")
    assert [path.name for path in paths] == EXPECTED
    assert all(path.stat().st_size > 0 for path in paths)


def test_committed_images_match_the_code(tmp_path: Path) -> None:
    fresh = {path.name: path for path in diagram.render_all(tmp_path)}
    missing = [name for name in EXPECTED if not (IMG / name).exists()]
    assert not missing, f"missing in notebooks/img: {missing}; {RERENDER}"
    assert (IMG / "bird_eye.svg").read_bytes() == fresh["bird_eye.svg"].read_bytes(), RERENDER
    for name in EXPECTED[1:]:
        with Image.open(IMG / name) as committed, Image.open(fresh[name]) as rendered:
            assert committed.size == rendered.size, f"{name}: {RERENDER}"


def test_committed_pngs_stay_small() -> None:
    for name in EXPECTED[1:]:
        assert (IMG / name).stat().st_size < 200_000, name


def test_import_pulls_in_no_training_packages() -> None:
    probe = (
        "import sys, workshop.diagram; "
        "print(' '.join(sorted({'torch', 'sklearn', 'pandas', 'matplotlib.pyplot'}"
        " & set(sys.modules))))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
