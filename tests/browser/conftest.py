"""Browser fixtures: Debian's Chromium driven by Playwright's async API (never a downloaded
browser), one app process for the browser suite with tables of its own (so the rooms it shows,
and the screenshots, hold only what these tests wrote), and pages that record every Content
Security Policy violation and uncaught error."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    Playwright,
    async_playwright,
    expect,
)

from tests.conftest import StartApp, separate_tables
from tests.servers import AppServer

# Every wait in this suite is an `expect` or a Playwright action bounded by this (milliseconds).
TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium keeps calling home, which on a closed network is a stream of
    # refused connections.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

WEB_DIST = Path(__file__).resolve().parents[2] / "web" / "dist" / "index.html"

# Redis databases 9-12 belong to this suite (0-8 are other suites').
BROWSER_DB = 11
EXPIRY_DB = 9
THROTTLED_DB = 10
RESTART_DB = 12
LATE_WRITE_DB = 8
TAKE_OVER_DB = 7


def chromium_path() -> str:
    """PARLEY_CHROMIUM, else the `chromium` on PATH (scripts/ensure-chromium installs it)."""
    configured = os.environ.get("PARLEY_CHROMIUM")
    found = configured or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).is_file():
        pytest.fail(
            f"Chromium not found at {found}: run scripts/ensure-chromium or set PARLEY_CHROMIUM",
            pytrace=False,
        )
    return found


@pytest.fixture(scope="session")
async def browser_env(base_env: dict[str, str]) -> AsyncIterator[dict[str, str]]:
    if not WEB_DIST.is_file():
        pytest.fail(f"{WEB_DIST} is missing: run `cd web && npm run build`", pytrace=False)
    async with separate_tables(base_env, "browser") as env:
        yield env


@pytest.fixture(scope="session")
def start_browser_server(
    start_server: StartApp, browser_env: dict[str, str]
) -> Callable[..., AppServer]:
    def start(redis_db: int, **env: str) -> AppServer:
        return start_server(redis_db=redis_db, **{**browser_env, **env})

    return start


@pytest.fixture(scope="session")
def web_app(start_browser_server: Callable[..., AppServer]) -> AppServer:
    """The app the browser tests talk to, unless a test needs a server of its own."""
    return start_browser_server(BROWSER_DB)


@pytest.fixture(scope="session")
def expiry_app(start_browser_server: Callable[..., AppServer]) -> AppServer:
    """A server whose Redis database may be flushed without ending other tests' sessions."""
    return start_browser_server(EXPIRY_DB)


@pytest.fixture(scope="session")
def throttled_app(start_browser_server: Callable[..., AppServer]) -> AppServer:
    """One message, then one every 2 s per user: the second quick message is refused."""
    return start_browser_server(THROTTLED_DB, PARLEY_MESSAGE_RATE="0.5", PARLEY_MESSAGE_BURST="1")


@pytest.fixture(scope="session")
async def playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
async def browser(playwright: Playwright) -> AsyncIterator[Browser]:
    browser = await playwright.chromium.launch(
        executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    await browser.close()


class PageProblems:
    """What the pages of one test did wrong: CSP violations and uncaught errors."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def watch(self, page: Page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", self._on_page_error)

    def _on_console(self, message: ConsoleMessage) -> None:
        if "content security policy" in message.text.lower():
            self.items.append(f"CSP violation on {message.location.get('url')}: {message.text}")

    def _on_page_error(self, error: Error) -> None:
        self.items.append(f"uncaught error: {error.name}: {error.message}\n{error.stack}")

    def check(self) -> None:
        assert self.items == [], "\n".join(self.items)


NewPage = Callable[..., Awaitable[Page]]


@pytest.fixture
def page_problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
async def new_page(
    browser: Browser, web_app: AppServer, page_problems: PageProblems
) -> AsyncIterator[NewPage]:
    """`await new_page(server=..., **context_options)`: a page in a fresh browser context (its
    own cookies), 1280x800 unless told otherwise. Fails the test on any CSP violation or
    uncaught page error."""
    contexts: list[BrowserContext] = []

    async def make(server: AppServer = web_app, **options: Any) -> Page:
        options.setdefault("viewport", {"width": 1280, "height": 800})
        context = await browser.new_context(base_url=server.url, **options)
        contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)
        page = await context.new_page()
        page_problems.watch(page)
        return page

    yield make
    for context in contexts:
        await context.close()
    page_problems.check()
