"""What the browser tests do on Parley's pages, by the accessible names of docs/reference.md
("Web pages") and the test hooks of web/README.md."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from pathlib import Path

import httpx
from playwright.async_api import Locator, Page, expect

from tests.servers import AppServer
from tests.utils import PASSWORD, register

# Screenshots go to test-results/ (ignored by git); `make screenshots` refreshes docs/.
SCREENSHOTS = Path(
    os.environ.get(
        "PARLEY_SCREENSHOTS", Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
    )
)


def new_username(prefix: str = "u") -> str:
    return f"{prefix}_{secrets.token_hex(4)}"


async def register_over_http(server: AppServer, username: str) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        await register(http, username)


async def fill_credentials(page: Page, username: str, password: str = PASSWORD) -> None:
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)


async def register_via_ui(page: Page, username: str) -> None:
    await page.goto("/register")
    await fill_credentials(page, username)
    await page.get_by_role("button", name="Register").click()
    await expect_in_chat(page, username)


async def login_via_ui(page: Page, username: str) -> None:
    await page.goto("/login")
    await fill_credentials(page, username)
    await page.get_by_role("button", name="Log in").click()
    await expect_in_chat(page, username)


def online_list(page: Page) -> Locator:
    # On phones the list sits in a closed (hidden) drawer; it is still there.
    return page.get_by_role("list", name="Online", include_hidden=True)


def online_user(page: Page, username: str) -> Locator:
    return online_list(page).get_by_role("listitem", include_hidden=True).filter(has_text=username)


async def expect_in_chat(page: Page, username: str) -> None:
    """On a chat page with the room joined: the server's presence lists this user."""
    await expect(page).not_to_have_url(path_is("/login"))
    await expect(page.get_by_role("log")).to_be_attached()
    await expect(page.get_by_role("textbox", name="Message")).to_be_visible()
    await expect(online_user(page, username)).to_have_count(1)


def messages(page: Page) -> Locator:
    return page.get_by_role("log").get_by_test_id("message")


def message_with_text(page: Page, text: str) -> Locator:
    return messages(page).filter(has_text=text)


async def send_with_enter(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Message")
    await box.fill(text)
    await box.press("Enter")
    await expect(box).to_have_value("")


async def send_with_button(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Message")
    await box.fill(text)
    await page.get_by_role("button", name="Send").click()
    await expect(box).to_have_value("")


async def expect_sent(page: Page, text: str) -> Locator:
    """The one own message with this text, stored and acknowledged."""
    message = message_with_text(page, text)
    await expect(message).to_have_count(1)
    await expect(message).to_have_attribute("data-own", "true")
    await expect(message).to_have_attribute("data-status", "sent")
    await expect(message.get_by_test_id("message-status")).to_have_text("sent")
    return message


async def create_room(page: Page, name: str, *, private: bool = False, topic: str = "") -> str:
    """Create a room through the dialog **New room**; returns its id (the page is then in it)."""
    await page.get_by_role("button", name="New room").click()
    dialog = page.get_by_role("dialog", name="New room")
    await dialog.get_by_role("textbox", name="Name").fill(name)
    if topic:
        await dialog.get_by_role("textbox", name="Topic").fill(topic)
    if private:
        await dialog.get_by_role("checkbox", name="Private").check()
    await dialog.get_by_role("button", name="Create").click()
    await expect(dialog).to_have_count(0)
    room_id = name.lower()
    await expect(page).to_have_url(path_is(f"/rooms/{room_id}"))
    await expect(page.get_by_role("log")).to_contain_text("No messages yet")
    return room_id


async def screenshot(page: Page, name: str) -> Path:
    await asyncio.to_thread(SCREENSHOTS.mkdir, parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    await page.screenshot(path=path, animations="disabled", caret="hide")
    return path


def path_is(path: str) -> re.Pattern[str]:
    """For `to_have_url`: the URL's path is exactly this (any origin, query or fragment)."""
    return re.compile(rf"^https?://[^/]+{re.escape(path)}(?:[?#].*)?$")
