"""/docs works offline: Swagger UI's scripts and styles come from the server, not a CDN.

Proved twice: every asset the page names is a local URL that answers 200 (TestClient), and
a real headless Chromium (Debian's, driven by Playwright) renders the /predict operation
from a live server while every request leaving loopback is blocked and recorded.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from fastapi.testclient import TestClient

from penguins.serving.api import create_app
from penguins.serving.settings import Settings
from tests.live import live_server
from workshop.server import Server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
ASSET = re.compile(r"""(?:src|href|spec-url)="([^"]+)"|url: '([^']+)'""")
RENDER_TIMEOUT_MS = 30_000


def asset_urls(html: str) -> list[str]:
    return [a or b for a, b in ASSET.findall(html)]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_every_asset_of_the_docs_is_served_locally(artifact_dir: Path, page: str) -> None:
    with TestClient(create_app(Settings(model_path=artifact_dir / "mlp.onnx"))) as client:
        html = client.get(page).text
        urls = asset_urls(html)
        assert any(url.endswith(".js") for url in urls) and "/openapi.json" in urls
        for url in urls:
            assert url.startswith("/") and not url.startswith("//"), f"{url} is not on this server"
            response = client.get(url)
            assert response.status_code == 200 and response.content, url
    assert "cdn" not in html.lower() and "http" not in html


def browser_unavailable() -> str | None:
    """Why the browser test cannot run here, or None. Under CI it must run: `make test`
    installs Chromium first (make browser)."""
    if not CHROMIUM.exists():
        return f"no {CHROMIUM}: run `make browser` (installs Debian's chromium)"
    if not _playwright_importable():
        return "the playwright package is not installed: run `make setup`"
    return None


def _playwright_importable() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="module")
def docs_server(artifact_dir: Path) -> Iterator[Server]:
    reason = browser_unavailable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser test must run under CI: {reason}")
        pytest.skip(reason)
    with live_server("04", "--artifacts", str(artifact_dir)) as live:
        yield live


def test_a_real_browser_renders_the_predict_operation_offline(docs_server: Server) -> None:
    from playwright.sync_api import sync_playwright

    requested: list[str] = []
    blocked: list[str] = []

    def only_loopback(route) -> None:
        url = route.request.url
        requested.append(url)
        if urlparse(url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page()
            page.route("**/*", only_loopback)
            page.goto(f"{docs_server.url}/docs", wait_until="load", timeout=RENDER_TIMEOUT_MS)
            operation = page.locator('.opblock-summary-path[data-path="/predict"]')
            operation.wait_for(state="visible", timeout=RENDER_TIMEOUT_MS)
            title = page.locator(".info .title").inner_text()
        finally:
            browser.close()
    assert "Penguin species service" in title
    assert blocked == [], f"the docs page tried to leave this machine: {blocked}"
    assert any(url.endswith("/static-offline-docs/swagger-ui-bundle.js") for url in requested)
    assert any(url.endswith("/openapi.json") for url in requested)
