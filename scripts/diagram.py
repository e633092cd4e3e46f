"""The bird's-eye picture of deployment ("wdrożenie z lotu ptaka") that opens the workshop.

The lecture asks for one picture that students keep coming back to: where the model starts
(a notebook), what travels (a file plus your code, packed in a container), where it runs
(production) and who talks to it: people from outside, and other services on the same servers
(the lecture's "w naszej serwerowni"). Every notebook shows the same
picture with its own stage highlighted, so students always see where they are.

Drawn with matplotlib alone, so it renders on a fresh laptop from the pinned environment:
no graphviz binary, and none of the heavy training packages (torch, scikit-learn, pandas).
It lives outside the package: the images are committed, and only `make diagram`
(`python scripts/diagram.py`) redraws them, after a stage's title changes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from itertools import combinations, pairwise
from pathlib import Path

import matplotlib
import matplotlib.style
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch
from matplotlib.textpath import TextPath

from workshop.stages import STAGES


@dataclass(frozen=True)
class Box:
    """One stage's box in the picture: its place (a key of LAYOUT), and the stage's titles."""

    number: int
    key: str
    title: str
    polish: str
    detail: str = ""


# Where each stage sits, and the line the picture adds under its title; the titles come
# from the stage table (workshop.stages).
PLACES: dict[int, tuple[str, str]] = {
    1: ("notebook", "predicts on data you type in"),
    2: ("saved_model", "a binary file on disk"),
    3: ("onnx", "ONNX Runtime in Python, C#, Java, JS"),
    4: ("wrapper", "raw data in, prediction out"),
    5: ("server", "an address: IP / domain, e.g. www.mojadomena.zmodelami.pl"),
    6: ("container", ""),
    7: ("production", ""),  # the server room is production itself: proxy, replicas, other services
    8: ("running", "Prometheus, a drift check"),  # watching the room from inside it
    9: ("pipeline", "tests → build → push → switch → smoke; or back"),  # ships into production by itself
}
BOXES: tuple[Box, ...] = tuple(
    Box(stage.number, PLACES[stage.number][0], stage.title, stage.polish, PLACES[stage.number][1])
    for stage in STAGES
    if stage.number in PLACES
)

TITLE = ("Deployment from a bird's-eye view", "wdrożenie z lotu ptaka")
PRODUCTION = ("production: a box under a desk, a rack, or the cloud", "produkcja: serwer fizyczny, serwerownia, chmura")
MODEL_FILE = ("model file", "plik modelu", ".pkl / .onnx")
PEOPLE = ("people", "osoby")
SERVICES = ("other services", "inne serwisy")
SERVICES_DETAIL = "in the same server room"
REQUEST = "request\nwith data"
RESPONSE = "response with\nprediction"

# The canvas in inches; the axes span the whole figure, so one data unit is one inch.
WIDTH, HEIGHT = 12.6, 5.0
PNG_DPI = 150
SVG_SALT = "penguins-to-production"
PADDING = 0.12  # inches kept free between a box's edge and its text

# Where each box sits: (left, bottom, width, height) in inches.
Rect = tuple[float, float, float, float]
LAYOUT: dict[str, Rect] = {
    "notebook": (0.12, 1.35, 1.45, 1.25),
    "saved_model": (1.92, 1.35, 1.45, 1.25),
    "onnx": (1.92, 0.1, 1.45, 0.85),
    "production": (3.75, 0.4, 7.25, 3.92),
    "container": (3.92, 0.7, 5.41, 3.07),
    "model_file": (4.06, 1.55, 0.94, 0.85),
    "wrapper": (5.42, 1.1, 1.55, 1.75),
    "server": (7.21, 1.1, 1.98, 1.75),
    "services": (9.55, 1.45, 1.3, 0.85),
    "running": (9.5, 0.5, 1.4, 0.85),
    "people": (11.2, 2.2, 1.25, 0.75),
    "pipeline": (0.12, 2.85, 3.25, 0.95),
}

# Okabe-Ito colours: distinguishable with every common form of colour blindness.
BLUE, ORANGE, VERMILLION, GREEN, PURPLE = "#0072B2", "#E69F00", "#D55E00", "#009E73", "#CC79A7"
INK, SOFT_INK, GREY, ARROW = "#1A1A1A", "#4D4D4D", "#9A9A9A", "#333333"
PALE_ORANGE = "#FCEBCC"


@dataclass(frozen=True)
class Look:
    """How one box is painted: fill, outline, text colours, badge and line width."""

    face: str
    edge: str
    ink: str
    soft: str
    badge: str
    line: float


def _look(state: str, edge: str, face: str) -> Look:
    """Colours for a box of family colour `edge` in `state`: normal, strong or muted."""
    if state == "strong":
        return Look(ORANGE, VERMILLION, INK, INK, VERMILLION, 2.6)
    if state == "muted":
        return Look("#F4F4F4", "#C9C9C9", GREY, GREY, "#BDBDBD", 1.0)
    return Look(face, edge, INK, SOFT_INK, edge, 1.4)


def _state(number: int | None, highlight: int | None) -> str:
    """Strong for the highlighted stage, muted for everything else while one is highlighted."""
    if highlight is None:
        return "normal"
    return "strong" if number == highlight else "muted"


@cache
def _font(style: str, size: float) -> FontProperties:
    """DejaVu from inside matplotlib, never a system font of the same name.

    A system copy of DejaVu may be another version, and the committed SVG must be
    byte-identical wherever it is re-rendered from the pinned environment.
    """
    files = {"regular": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf", "italic": "DejaVuSans-Oblique.ttf"}
    return FontProperties(fname=Path(matplotlib.get_data_path(), "fonts", "ttf", files[style]), size=size)


@cache
def _width(text: str, style: str, size: float) -> float:
    """Width of one line of text in inches, measured from the glyphs themselves."""
    return TextPath((0, 0), text, prop=_font(style, size)).get_extents().width / 72


def _fit(text: str, style: str, size: float, room: float) -> str:
    """Break `text` into as few lines no wider than `room` inches as possible.

    Splitting after "title:" or before "/ alternative" keeps each line meaningful, so it
    wins when both halves fit; otherwise the fewest lines with the most even widths win.
    A single word (a domain name) is never split.
    """
    if _width(text, style, size) <= room:
        return text
    for separator, keep in ((": ", ":"), (" / ", " /")):
        head, found, tail = text.partition(separator)
        lines = [head + keep, tail]
        if found and max(_width(line, style, size) for line in lines) <= room:
            return "\n".join(lines)
    words = text.split()
    for count in range(2, len(words) + 1):
        options = [_split(words, cuts) for cuts in combinations(range(1, len(words)), count - 1)]
        fitting = [lines for lines in options if max(_width(line, style, size) for line in lines) <= room]
        if fitting:
            return "\n".join(min(fitting, key=lambda lines: max(_width(line, style, size) for line in lines)))
    return "\n".join(words)


def _split(words: list[str], cuts: tuple[int, ...]) -> list[str]:
    """Join `words` into lines, starting a new line at each index in `cuts`."""
    edges = (0, *cuts, len(words))
    return [" ".join(words[start:end]) for start, end in pairwise(edges)]


def _text_stack(ax: Axes, x: float, y: float, blocks: list[tuple[str, str, float, str]]) -> None:
    """Write (text, style, size, colour) blocks centred on (x, y), one under another."""
    heights = [(text.count("\n") + 1) * size * 1.25 / 72 for text, _, size, _ in blocks]
    top = y + sum(heights) / 2
    for (text, style, size, colour), height in zip(blocks, heights, strict=True):
        ax.text(
            x,
            top - height / 2,
            text,
            ha="center",
            va="center",
            color=colour,
            fontproperties=_font(style, size),
            linespacing=1.15,
            zorder=5,
        )
        top -= height


def _badge(ax: Axes, key: str, number: int, look: Look) -> None:
    """The stage number in a circle on the box's corner: it names notebook 0<number>."""
    left, bottom, _, height = LAYOUT[key]
    x, y = left + 0.05, bottom + height - 0.05
    ax.add_patch(Circle((x, y), 0.14, facecolor=look.badge, edgecolor="white", linewidth=1.2, zorder=6))
    ax.text(x, y, str(number), ha="center", va="center", color="white", zorder=7, fontproperties=_font("bold", 9))


def _frame(ax: Axes, key: str, look: Look, dashed: bool = False) -> None:
    """The rounded rectangle of box `key`."""
    left, bottom, width, height = LAYOUT[key]
    ax.add_patch(
        FancyBboxPatch(
            (left, bottom),
            width,
            height,
            boxstyle="round,pad=0,rounding_size=0.12",
            facecolor=look.face,
            edgecolor=look.edge,
            linewidth=look.line,
            linestyle="--" if dashed else "-",
            zorder=2,
        )
    )


def _box(ax: Axes, key: str, title: str, polish: str, look: Look, detail: str = "") -> None:
    """A box with a bold English title, an optional detail and the Polish term beneath."""
    left, bottom, width, height = LAYOUT[key]
    room = width - 2 * PADDING
    _frame(ax, key, look)
    blocks = [(_fit(title, "bold", 9.0, room), "bold", 9.0, look.ink)]
    if detail:
        blocks.append((_fit(detail, "regular", 7.5, room), "regular", 7.5, look.ink))
    blocks.append((_fit(polish, "italic", 8.0, room), "italic", 8.0, look.soft))
    _text_stack(ax, left + width / 2, bottom + height / 2, blocks)


def _label(ax: Axes, key: str, title: str, polish: str, look: Look, indent: float) -> None:
    """The title of an enclosing box, along its top edge so the inside stays free."""
    left, bottom, _, height = LAYOUT[key]
    y = bottom + height - 0.22
    ax.text(
        left + indent, y, title, ha="left", va="center", color=look.ink, zorder=5, fontproperties=_font("bold", 9.0)
    )
    ax.text(
        left + indent,
        y - 0.2,
        polish,
        ha="left",
        va="center",
        color=look.soft,
        zorder=5,
        fontproperties=_font("italic", 8.0),
    )


def _anchor(key: str, side: str, shift: float = 0.0) -> tuple[float, float]:
    """Middle of one side of a box, moved by `shift` along it: where an arrow attaches."""
    left, bottom, width, height = LAYOUT[key]
    return {
        "left": (left, bottom + height / 2 + shift),
        "right": (left + width, bottom + height / 2 + shift),
        "top": (left + width / 2 + shift, bottom + height),
        "bottom": (left + width / 2 + shift, bottom),
    }[side]


def _arrow(
    ax: Axes, start: tuple[float, float], end: tuple[float, float], colour: str, dashed: bool = False, bend: float = 0.0
) -> None:
    """One flow arrow; dashed for the ONNX branch, curved (`bend`) to go around boxes."""
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=14,
            color=colour,
            linewidth=1.5,
            linestyle="--" if dashed else "-",
            connectionstyle=f"arc3,rad={bend}",
            zorder=8,
            shrinkA=2,
            shrinkB=2,
        )
    )


def _note(ax: Axes, x: float, y: float, text: str) -> None:
    """A small label on an arrow, on a white patch so it stays legible over box edges."""
    ax.text(
        x,
        y,
        text,
        ha="center",
        va="center",
        color=SOFT_INK,
        zorder=9,
        linespacing=1.1,
        fontproperties=_font("regular", 7.5),
        bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"},
    )


def _draw_title(ax: Axes) -> None:
    """The English title with the lecture's Polish name beneath it."""
    ax.text(0.15, HEIGHT - 0.3, TITLE[0], ha="left", va="center", color=INK, fontproperties=_font("bold", 13))
    ax.text(0.15, HEIGHT - 0.58, TITLE[1], ha="left", va="center", color=SOFT_INK, fontproperties=_font("italic", 10))


def _draw_enclosures(ax: Axes, highlight: int | None) -> None:
    """Production (stage 07's server room) encloses the container, which encloses the model
    file, code and server."""
    room = BOXES[6]
    outer = _look(_state(room.number, highlight), "#666666", "#F2F2F2")
    if highlight == room.number:
        outer = replace(outer, face=PALE_ORANGE)  # a pale fill keeps the boxes inside legible
    _frame(ax, room.key, outer)
    _label(ax, room.key, *PRODUCTION, outer, indent=0.3)
    _badge(ax, room.key, room.number, outer)
    left, bottom, width, height = LAYOUT[room.key]
    for offset, text, style in ((0.22, room.title, "bold"), (0.42, room.polish, "italic")):
        ax.text(
            left + width - 0.15,
            bottom + height - offset,
            text,
            ha="right",
            va="center",
            color=outer.ink,
            zorder=5,
            fontproperties=_font(style, 8.0),
        )
    container = BOXES[5]
    inner = _look(_state(container.number, highlight), GREEN, "#E3F4EE")
    if highlight == container.number:
        inner = replace(inner, face=PALE_ORANGE)  # a pale fill keeps the boxes inside legible
    _frame(ax, container.key, inner, dashed=True)
    _label(ax, container.key, container.title, container.polish, inner, indent=0.3)
    _badge(ax, container.key, container.number, inner)


def _draw_stages(ax: Axes, highlight: int | None) -> None:
    """Stages 1-5, 8 and 9 as numbered boxes, plus the model file that stage 2 ships in the container."""
    for box in (*BOXES[:5], *BOXES[7:]):
        look = _look(_state(box.number, highlight), BLUE, "#E1EEF8")
        _box(ax, box.key, box.title, box.polish, look, box.detail)
        _badge(ax, box.key, box.number, look)
    title, polish, detail = MODEL_FILE
    _box(ax, "model_file", title, polish, _look(_state(2, highlight), BLUE, "#FFFFFF"), detail)


def _draw_clients(ax: Axes, highlight: int | None) -> None:
    """The clients: people from outside, other services inside production (the same server room)."""
    look = _look("muted" if highlight else "normal", PURPLE, "#F7E9F1")
    _box(ax, "people", *PEOPLE, look)
    _box(ax, "services", *SERVICES, look, SERVICES_DETAIL)


@dataclass(frozen=True)
class Step:
    """One arrow of the main flow: from a side of one box to a side of another.

    `at` is how far along the arrow its label sits and `lift` how far above it, so a
    label can dodge the frames the arrow crosses.
    """

    start: tuple[str, str, float]
    end: tuple[str, str, float]
    label: str = ""
    at: float = 0.5
    lift: float = 0.0
    dashed: bool = False


FLOW: tuple[Step, ...] = (
    Step(("notebook", "right", 0.0), ("saved_model", "left", 0.0), "save", lift=0.22),
    Step(("saved_model", "bottom", 0.0), ("onnx", "top", 0.0), "export", dashed=True),
    Step(("saved_model", "right", 0.2), ("model_file", "left", 0.2), "ship", at=0.27, lift=0.2),
    Step(("model_file", "right", 0.0), ("wrapper", "left", 0.0), "load", lift=-0.22),
    Step(("wrapper", "right", 0.0), ("server", "left", 0.0)),
    Step(("pipeline", "right", 0.0), ("production", "left", 1.0), "release", at=0.5, lift=0.18),
)


def _draw_flow(ax: Axes, highlight: int | None) -> None:
    """The arrows: notebook to file to container, then requests in and predictions out."""
    colour = GREY if highlight else ARROW
    for step in FLOW:
        (x0, y0), (x1, y1) = _anchor(*step.start), _anchor(*step.end)
        _arrow(ax, (x0, y0), (x1, y1), colour, dashed=step.dashed)
        if step.label:
            _note(ax, x0 + step.at * (x1 - x0), y0 + step.at * (y1 - y0) + step.lift, step.label)
    _arrow(ax, _anchor("onnx", "right"), _anchor("model_file", "bottom"), colour, dashed=True, bend=0.25)
    _draw_requests(ax, colour)


def _draw_requests(ax: Axes, colour: str) -> None:
    """A request arrow in and a response arrow out between the server and each client."""
    server_x = _anchor("server", "right")[0]
    for key in ("people", "services"):
        client_x, client_y = _anchor(key, "left")
        _arrow(ax, (client_x, client_y + 0.1), (server_x, client_y + 0.1), colour)
        _arrow(ax, (server_x, client_y - 0.1), (client_x, client_y - 0.1), colour)
    left, bottom, width, height = LAYOUT["services"]
    note_x, people_y = left + width / 2, _anchor("people", "left")[1]
    _note(ax, note_x, people_y + 0.45, REQUEST)
    _note(ax, note_x, (people_y + bottom + height) / 2 - 0.03, RESPONSE)


def draw(highlight: int | None = None) -> Figure:
    """Draw the bird's-eye picture; `highlight` (1..9) marks the stage a notebook is about.

    Returns a Figure that pyplot does not track, so notebooks show it inline and
    render_all can draw nine of them without piling up open figures. Matplotlib's default
    style is used whatever style a notebook has set, so the picture is the same everywhere.
    """
    if highlight is not None and highlight not in {box.number for box in BOXES}:
        raise ValueError(f"highlight must be a stage number 1..{len(BOXES)} or None, not {highlight!r}")
    with matplotlib.style.context("default"):
        fig = Figure(figsize=(WIDTH, HEIGHT), facecolor="white")
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, WIDTH)
        ax.set_ylim(0, HEIGHT)
        ax.set_axis_off()
        _draw_title(ax)
        _draw_enclosures(ax, highlight)
        _draw_stages(ax, highlight)
        _draw_clients(ax, highlight)
        _draw_flow(ax, highlight)
    return fig


def save(path: str | Path, highlight: int | None = None) -> Path:
    """Render to .svg or .png (chosen by suffix) with byte-stable output for committed images.

    The SVG gets a fixed id salt and no date or creator, so re-rendering unchanged code
    gives identical bytes, and a stale committed image shows up as a real diff.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("svg", "png"):
        raise ValueError(f"save() writes .svg or .png, not {path.suffix!r}")
    fig = draw(highlight)
    FigureCanvasAgg(fig)
    metadata = {"Date": None, "Creator": None} if fmt == "svg" else {"Software": None}
    stable = matplotlib.rc_context({"svg.hashsalt": SVG_SALT, "svg.fonttype": "path"})
    with matplotlib.style.context("default"), stable:
        fig.savefig(path, format=fmt, dpi=PNG_DPI, metadata=metadata)
    return path


def render_all(folder: str | Path) -> list[Path]:
    """Write bird_eye.svg, bird_eye.png and bird_eye_stage1..9.png, one per stage."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [save(folder / "bird_eye.svg"), save(folder / "bird_eye.png")]
    paths += [save(folder / f"bird_eye_stage{box.number}.png", box.number) for box in BOXES]
    return paths


if __name__ == "__main__":
    for written in render_all(Path(__file__).resolve().parents[1] / "notebooks" / "img"):
        print(f"wrote {written}")
