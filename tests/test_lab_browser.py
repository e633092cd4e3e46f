"""`make lab` in a real browser: what a student sees on opening a notebook, and the slides.

The lab command's own server (`python -m workshop lab` on a free loopback port, with a token)
is driven by Debian's headless Chromium through Playwright, as the /docs test does. Jupyter's
user folders point into a temporary folder, so this machine's own settings, workspaces and
kernels neither help nor hurt, and only the project's `.jupyterlab/overrides.json` applies.

For notebooks 00 and 04: every picture loads and shows, the markdown tables show, no dialog and
no notification pop-up (the news question) appears, and the tab is still unmodified 5 s after
the kernel is ready. Notebook 04 then presents in RISE: one reveal.js slide per `slide` cell, and
slide 2 is photographed. Every request must stay on loopback (no news feed, no web fonts).
Screenshots go to `.screenshots/` (git-ignored).
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pytest

from penguins.ports import free_port
from tests.conftest import ROOT
from tests.test_docs_offline import CHROMIUM, CHROMIUM_ARGS, browser_unavailable
from workshop import lab as lab_command
from workshop.notebook import KERNEL_DISPLAY_NAME
from workshop.server import stop_process

SCREENSHOTS = ROOT / ".screenshots"
TOKEN = "penguins-lab-test"
START_TIMEOUT_S = 90
RENDER_TIMEOUT_MS = 90_000
QUIET_S = 5  # the tab must stay unmodified this long after the kernel is ready
OPENED = ["00_big_picture", "04_wrapper_class"]
PRESENTED = "04_wrapper_class"
MARKDOWN_TABLE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*\|", re.M)
MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]+\)|<img\b")


def test_make_lab_serves_the_project_and_opens_on_the_notebooks() -> None:
    cmd = lab_command.command(8899, token="t")
    assert f"--ServerApp.root_dir={ROOT}" in cmd and "--LabApp.default_url=/lab/tree/notebooks" in cmd
    assert f"--LabApp.app_settings_dir={ROOT / '.jupyterlab'}" in cmd and "--no-browser" in cmd
    overrides = json.loads((ROOT / ".jupyterlab" / "overrides.json").read_text(encoding="utf-8"))
    assert overrides["@jupyterlab/apputils-extension:notification"] == {"checkForUpdates": False, "fetchNews": "false"}


def test_make_slides_opens_one_notebook_in_rise() -> None:
    for name in ("04_wrapper_class", "04_wrapper_class.ipynb", "notebooks/04_wrapper_class.ipynb"):
        cmd = lab_command.command(8899, slides=name)
        assert "--LabApp.default_url=/rise/notebooks/04_wrapper_class.ipynb" in cmd and "--no-browser" not in cmd
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^slides:.*\n(\t.*\n)*\t\$\(PY\) -m workshop slides \$\(NB\)", makefile, re.M)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "`make slides NB=04_wrapper_class`" in readme and "`python -m workshop slides 04_wrapper_class`" in readme


def test_make_slides_refuses_a_notebook_that_does_not_exist(capsys: pytest.CaptureFixture[str]) -> None:
    assert lab_command.main(lab_command.DEFAULT_PORT, notebook="99_nothing") == 1
    assert "no notebooks/99_nothing.ipynb" in capsys.readouterr().err


@dataclass
class Lab:
    process: subprocess.Popen
    url: str
    log: Path
    blocked: list[str] = field(default_factory=list)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def _wait_until_ready(lab: Lab) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            with urllib.request.urlopen(f"{lab.url}/api/status?token={TOKEN}", timeout=2) as response:
                json.loads(response.read())
                return
        except OSError:
            assert lab.process.poll() is None, f"make lab's server exited:\n{lab.output()[-3000:]}"
            assert time.monotonic() < deadline, f"make lab's server did not answer in {START_TIMEOUT_S} s"
            time.sleep(0.5)


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    reason = browser_unavailable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser test must run under CI: {reason}")
        pytest.skip(reason)
    port = free_port()
    with tempfile.TemporaryDirectory() as home:
        jupyter_dirs = {
            name: str(Path(home) / name.lower())
            for name in ("JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR")
        }
        log = Path(home) / "lab.log"
        with log.open("w") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "workshop", "lab", "--port", str(port), "--token", TOKEN],
                cwd=ROOT,
                env={**os.environ, **jupyter_dirs},
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # the kernels it starts go with it
            )
        running = Lab(process, f"http://127.0.0.1:{port}", log)
        try:
            _wait_until_ready(running)
            yield running
        finally:
            stop_process(process, timeout=15, group=True)


@pytest.fixture(scope="module")
def browser(lab: Lab) -> Iterator[object]:
    """One Chromium for the module; every request that leaves loopback is blocked and recorded."""
    from playwright.sync_api import sync_playwright

    def only_loopback(route) -> None:
        if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            lab.blocked.append(route.request.url)
            route.abort()

    SCREENSHOTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 900},
        )
        context.route("**/*", only_loopback)
        try:
            yield context
        finally:
            context.close()


def _expected(name: str) -> tuple[int, int]:
    """How many pictures and tables the notebook's markdown cells hold."""
    markdown = [
        cell.source
        for cell in nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4).cells
        if cell.cell_type == "markdown"
    ]
    return (
        sum(len(MARKDOWN_IMAGE.findall(text)) for text in markdown),
        sum(len(MARKDOWN_TABLE.findall(text)) for text in markdown),
    )


def _nothing_pops_up(page) -> None:
    dialogs = page.locator(".jp-Dialog")
    assert dialogs.count() == 0, f"a dialog shows: {dialogs.all_inner_texts()}"
    toasts = page.locator(".Toastify__toast")
    assert toasts.count() == 0, f"a notification shows: {toasts.all_inner_texts()}"


@pytest.mark.slow
@pytest.mark.parametrize("name", OPENED)
def test_a_notebook_opens_clean_with_its_pictures_and_tables(lab: Lab, browser, name: str) -> None:
    pictures, tables = _expected(name)
    assert pictures >= 1 and (tables >= 1 or name != "00_big_picture")
    page = browser.new_page()
    try:
        # a workspace of its own, so the other test's tab is not restored beside this one
        page.goto(f"{lab.url}/lab/workspaces/test-{name}/tree/notebooks/{name}.ipynb?token={TOKEN}")
        tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text=f"{name}.ipynb")
        tab.wait_for(state="visible", timeout=RENDER_TIMEOUT_MS)
        page.get_by_text(f"{KERNEL_DISPLAY_NAME} | Idle").wait_for(timeout=RENDER_TIMEOUT_MS)
        time.sleep(QUIET_S)
        notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
        images = notebook.locator(".jp-RenderedMarkdown img")
        assert images.count() == pictures
        for image in images.all():
            image.scroll_into_view_if_needed()
            assert image.is_visible() and image.evaluate("img => img.complete && img.naturalWidth > 0"), (
                f"{image.get_attribute('src')} does not load"
            )
        rendered_tables = notebook.locator(".jp-RenderedMarkdown table")
        assert rendered_tables.count() == tables
        for table in rendered_tables.all():
            table.scroll_into_view_if_needed()
            assert table.is_visible()
        images.first.scroll_into_view_if_needed()
        page.screenshot(path=SCREENSHOTS / f"lab-{name}.png")
        if tables:
            rendered_tables.first.scroll_into_view_if_needed()
            page.screenshot(path=SCREENSHOTS / f"lab-{name}-table.png")
        _nothing_pops_up(page)
        committed = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4).metadata.language_info
        assert "jp-mod-dirty" not in (tab.get_attribute("class") or ""), (
            f"{name}.ipynb shows as modified {QUIET_S} s after opening: JupyterLab writes the kernel's "
            f"language_info into it (Python {platform.python_version()} here, {committed.get('version')} in the "
            "file); re-execute it with `make notebooks`"
        )
    finally:
        page.close()
    assert lab.blocked == [], f"JupyterLab tried to leave this machine: {lab.blocked}"


def _slide_cells(name: str) -> int:
    cells = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4).cells
    return sum(cell.metadata.get("slideshow", {}).get("slide_type") == "slide" for cell in cells)


@pytest.mark.slow
def test_notebook_04_presents_as_slides(lab: Lab, browser) -> None:
    slides = _slide_cells(PRESENTED)
    assert slides >= 2
    page = browser.new_page()
    try:
        page.goto(f"{lab.url}/rise/notebooks/{PRESENTED}.ipynb?token={TOKEN}")
        top = page.locator(".reveal .slides > section")
        top.first.wait_for(state="attached", timeout=RENDER_TIMEOUT_MS)
        assert top.count() == slides
        page.locator(".reveal .slides > section.present").wait_for(timeout=RENDER_TIMEOUT_MS)  # reveal.js runs
        page.keyboard.press("ArrowRight")  # slide 2
        page.wait_for_url(re.compile(r"#/slide-1-0$"), timeout=RENDER_TIMEOUT_MS)
        page.keyboard.press("ArrowRight")  # its code cell, a fragment
        page.wait_for_url(re.compile(r"#/slide-1-0/0$"), timeout=RENDER_TIMEOUT_MS)
        time.sleep(1)  # the transition
        current = page.locator(".reveal .slides > section.present")
        assert current.locator("h3", has_text="1 · What clients send").is_visible()
        assert current.locator(".jp-OutputArea-output").first.is_visible()
        page.screenshot(path=SCREENSHOTS / f"rise-{PRESENTED}-slide2.png")
        _nothing_pops_up(page)
    finally:
        page.close()
    assert lab.blocked == [], f"the slides tried to leave this machine: {lab.blocked}"
