"""End-to-end in Chromium: the Sessions page (account menu → Sessions) lists the sessions of two
browsers, and logging the other one out sends that browser to /login."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.conftest import NewPage
from tests.browser.ui import login_via_ui, path_is, register_over_http, screenshot
from tests.servers import AppServer

pytestmark = pytest.mark.browser

LAPTOP = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36"
)
PHONE = (
    "Mozilla/5.0 (Linux; Android 15; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Mobile Safari/537.36"
)


async def test_log_out_another_browser_from_the_sessions_page(
    new_page: NewPage, web_app: AppServer
) -> None:
    # The browser suite has tables of its own: a fixed name is free, and the screenshot stable.
    username = "dana"
    await register_over_http(web_app, username)
    laptop = await new_page(user_agent=LAPTOP)
    phone = await new_page(user_agent=PHONE, viewport={"width": 390, "height": 800})
    await login_via_ui(laptop, username)
    await login_via_ui(phone, username)

    await laptop.get_by_role("button", name="Account").click()
    await laptop.get_by_role("link", name="Sessions").click()
    await expect(laptop).to_have_url(path_is("/account/sessions"))
    sessions = laptop.get_by_role("list", name="Sessions").get_by_role("listitem")
    await expect(sessions).to_have_count(2)
    here = sessions.filter(has_text="This device")
    await expect(here).to_have_count(1)
    await expect(here).to_contain_text("Chrome on Linux")
    other = sessions.filter(has_text="Chrome on Android")
    await expect(other).to_contain_text("Last seen just now")
    await expect(laptop.get_by_label("Current password")).to_be_visible()
    await expect(laptop.get_by_label("New password")).to_be_visible()
    await screenshot(laptop, "sessions.png")

    await other.get_by_role("button", name="Log out").click()
    await expect(sessions).to_have_count(1)
    # No action on the phone: its socket hears `session_expired` and the page goes to /login.
    await expect(phone).to_have_url(path_is("/login"))
    await expect(
        phone.get_by_role("status").filter(has_text="Your session expired")
    ).to_be_visible()
    assert (await phone.request.get("/api/auth/me")).status == 401
    assert (await laptop.request.get("/api/auth/me")).status == 200
