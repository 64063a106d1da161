"""End-to-end: the built front end in Debian's Chromium against a real app process (uvicorn,
Redis, DynamoDB). Every page of every test is also checked for Content Security Policy
violations and uncaught errors (the `new_page` fixture)."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Callable

import httpx
import pytest
from playwright.async_api import expect
from redis.asyncio import Redis

from parley.devstack.services import ChildService
from parley.ids import iso_utc, new_ulid, ulid_at, ulid_datetime, ulid_seconds
from parley.ingest.producer import put_message
from parley.models import Message
from parley.storage.dynamo import TableNames, open_client
from parley.storage.messages import MessageStore
from parley.storage.sends import SendLedger
from tests.browser.conftest import (
    EXPIRY_DB,
    LATE_WRITE_DB,
    RESTART_DB,
    TAKE_OVER_DB,
    NewPage,
    PageProblems,
)
from tests.browser.ui import (
    create_room,
    expect_in_chat,
    expect_sent,
    login_via_ui,
    message_with_text,
    messages,
    new_username,
    online_user,
    path_is,
    register_over_http,
    register_via_ui,
    screenshot,
    send_with_button,
    send_with_enter,
)
from tests.conftest import settings_for
from tests.realtime.client import ChatClient
from tests.servers import AppServer, start_app
from tests.utils import register_and_login

pytestmark = pytest.mark.browser

SESSION_EXPIRED = "Your session expired"


async def test_two_users_chat_live(new_page: NewPage) -> None:
    # The browser suite has tables of its own, created for this session: fixed names are free,
    # and the screenshot shows only this conversation.
    alice, bob = "alice", "bob"
    page_a = await new_page()
    page_b = await new_page()

    await page_a.goto("/login")
    await expect(page_a.get_by_role("button", name="Log in")).to_be_visible()
    await screenshot(page_a, "login.png")
    await page_a.get_by_role("link", name="Register").click()
    await expect(page_a).to_have_url(path_is("/register"))
    await register_via_ui(page_a, alice)
    await register_via_ui(page_b, bob)

    for page in (page_a, page_b):
        rooms = page.get_by_role("navigation", name="Rooms")
        await expect(rooms.get_by_role("link", name="general")).to_have_attribute(
            "aria-current", "page"
        )
        # Each sees the other online, live (alice was already there when bob arrived).
        await expect(online_user(page, alice)).to_have_count(1)
        await expect(online_user(page, bob)).to_have_count(1)

    hello = "Hi Bob! Lunch at noon?"
    await send_with_enter(page_a, hello)
    await expect_sent(page_a, hello)
    seen_by_b = message_with_text(page_b, hello)
    await expect(seen_by_b).to_have_count(1)
    await expect(seen_by_b).to_contain_text(alice)
    await expect(seen_by_b).not_to_have_attribute("data-own", "true")
    await expect(seen_by_b.get_by_test_id("message-status")).to_have_count(0)

    # Bob types: alice is told; then he replies with the button.
    reply = "Sure \u2014 see you at the caf\u00e9 \u263a"
    await page_b.get_by_role("textbox", name="Message").fill(reply)
    await expect(page_a.get_by_test_id("typing-indicator")).to_contain_text(f"{bob} is typing")
    await page_b.get_by_role("button", name="Send").click()
    await expect_sent(page_b, reply)
    seen_by_a = message_with_text(page_a, reply)
    await expect(seen_by_a).to_have_count(1)
    await expect(seen_by_a).to_contain_text(bob)

    last = "Great, I'll book a table for two."
    await send_with_enter(page_a, last)
    await expect_sent(page_a, last)
    await expect(message_with_text(page_b, last)).to_have_count(1)
    # Both show the same conversation, in the same order.
    await expect(messages(page_a)).to_have_count(3)
    await expect(messages(page_b)).to_have_count(3)
    ids_a = [await m.get_attribute("data-id") for m in await messages(page_a).all()]
    ids_b = [await m.get_attribute("data-id") for m in await messages(page_b).all()]
    assert ids_a == ids_b
    assert None not in ids_a
    await expect(page_a.get_by_test_id("typing-indicator")).not_to_contain_text("typing")
    await screenshot(page_a, "chat.png")


async def test_reload_keeps_the_session(new_page: NewPage, web_app: AppServer) -> None:
    username = new_username()
    await register_over_http(web_app, username)
    page = await new_page()
    await login_via_ui(page, username)
    await expect(page).to_have_url(path_is("/"))

    await page.reload()
    await expect(page).to_have_url(path_is("/"))
    await expect_in_chat(page, username)
    await expect(page.get_by_text(SESSION_EXPIRED)).to_have_count(0)


async def test_logout_then_chat_redirects_to_login(new_page: NewPage, web_app: AppServer) -> None:
    username = new_username()
    await register_over_http(web_app, username)
    page = await new_page()
    await login_via_ui(page, username)

    await page.get_by_role("button", name="Log out").click()
    await expect(page).to_have_url(path_is("/login"))
    await expect(page.get_by_role("button", name="Log in")).to_be_visible()
    # A chosen logout is not an expiry.
    await expect(page.get_by_text(SESSION_EXPIRED)).to_have_count(0)
    assert (await page.request.get("/api/auth/me")).status == 401

    await page.goto("/")
    await expect(page).to_have_url(path_is("/login"))
    await expect(page.get_by_role("button", name="Log in")).to_be_visible()
    await page.get_by_role("link", name="Register").click()
    await expect(page).to_have_url(path_is("/register"))
    await page.get_by_role("link", name="Log in").click()
    await expect(page).to_have_url(path_is("/login"))


async def test_flushed_redis_sends_the_open_page_to_login(
    new_page: NewPage, expiry_app: AppServer, redis_service: ChildService
) -> None:
    username = new_username()
    await register_over_http(expiry_app, username)
    page = await new_page(server=expiry_app)
    await login_via_ui(page, username)

    redis = Redis(port=redis_service.port, db=EXPIRY_DB)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()

    # No user action: the server notices within ~2 s and says `session_expired`.
    await expect(page).to_have_url(path_is("/login"))
    notice = page.get_by_role("status").filter(has_text=SESSION_EXPIRED)
    await expect(notice).to_be_visible()
    await expect(page.get_by_role("button", name="Log in")).to_be_visible()
    await screenshot(page, "session-expired.png")


XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


async def test_markup_in_a_message_is_shown_as_text(new_page: NewPage) -> None:
    sender, reader = new_username(), new_username()
    page = await new_page()
    other = await new_page()
    await register_via_ui(page, sender)
    await register_via_ui(other, reader)
    room = await create_room(page, f"xss-{secrets.token_hex(3)}")
    await other.goto(f"/rooms/{room}")
    await expect_in_chat(other, reader)

    await send_with_enter(page, XSS)
    sent = await expect_sent(page, XSS)
    await expect(message_with_text(other, XSS)).to_have_count(1)
    # Shown live, then again from history after a reload.
    await other.reload()
    await expect(message_with_text(other, XSS)).to_have_count(1)

    for viewer in (page, other):
        text = viewer.get_by_role("log").get_by_test_id("message").locator(".message-text")
        await expect(text).to_have_count(1)
        assert await text.text_content() == XSS
        assert await viewer.evaluate("() => window.__xss") is None
        assert await viewer.get_by_role("log").locator("img, script").count() == 0
    assert await sent.get_attribute("data-status") == "sent"


async def test_failed_send_is_retried_without_a_duplicate(
    new_page: NewPage, throttled_app: AppServer
) -> None:
    """The server allows one message, then one every 2 s: the second quick one is refused with
    a real rate-limit error; Retry resends it (same clientId) once the limiter allows."""
    username = new_username()
    await register_over_http(throttled_app, username)
    page = await new_page(server=throttled_app)
    await login_via_ui(page, username)
    room = await create_room(page, f"retry-{secrets.token_hex(3)}")

    first, second = f"first {secrets.token_hex(3)}", f"second {secrets.token_hex(3)}"
    await send_with_enter(page, first)
    await expect_sent(page, first)
    await send_with_enter(page, second)
    failed = message_with_text(page, second)
    await expect(failed).to_have_attribute("data-status", "failed")
    await expect(failed.get_by_test_id("message-status")).to_have_text("failed")
    await expect(failed).to_contain_text("Not sent: Rate limit")
    client_id = await failed.get_attribute("data-client-id")
    assert client_id

    error = await failed.text_content() or ""
    wait = re.search(r"retry in ([\d.]+) s", error)
    assert wait, error
    # The limiter counts real time: nothing to observe until it allows the next message.
    await asyncio.sleep(float(wait.group(1)) + 0.3)
    await failed.get_by_role("button", name="Retry").click()

    retried = await expect_sent(page, second)
    assert await retried.get_attribute("data-client-id") == client_id
    await expect(retried.get_by_role("button", name="Retry")).to_have_count(0)
    await expect(messages(page)).to_have_count(2)

    response = await page.request.get(f"/api/rooms/{room}/messages")
    assert response.status == 200
    history = (await response.json())["messages"]
    assert [m["text"] for m in history] == [first, second]
    assert history[1]["clientId"] == client_id


async def test_phone_width_is_usable(new_page: NewPage, web_app: AppServer) -> None:
    username = "carol"  # a fixed name is free: the suite's tables are new each session
    await register_over_http(web_app, username)
    page = await new_page(
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    await login_via_ui(page, username)
    box = page.get_by_role("textbox", name="Message")
    send = page.get_by_role("button", name="Send")
    menu = page.get_by_role("button", name="Menu", exact=True)
    rooms = page.get_by_role("navigation", name="Rooms")
    await expect(rooms).to_be_hidden()

    # The drawer: open it, create a room there; moving to the room closes it.
    await menu.click()
    await expect(menu).to_have_attribute("aria-expanded", "true")
    await expect(rooms.get_by_role("link", name="general")).to_be_in_viewport()
    room = await create_room(page, "carpool")
    await expect(menu).to_have_attribute("aria-expanded", "false")
    await expect(box).to_be_in_viewport()
    await expect(send).to_be_in_viewport()
    await expect(page.get_by_role("button", name="Log out")).to_be_in_viewport()
    await expect(rooms).to_be_hidden()
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= 360

    for text in ("Testing Parley on my phone", "Long words wrap: " + "pneumonoultra" * 6):
        await send_with_button(page, text)
        await expect_sent(page, text)
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= 360
    await screenshot(page, "phone.png")

    await menu.click()
    await expect(menu).to_have_attribute("aria-expanded", "true")
    await expect(rooms.get_by_role("link", name=room)).to_be_in_viewport()
    await expect(page.get_by_role("list", name="Online").get_by_role("listitem")).to_have_text(
        [username]
    )
    await rooms.get_by_role("link", name="general").tap()
    await expect(page).to_have_url(path_is("/rooms/general"))
    # Navigating closes the drawer.
    await expect(menu).to_have_attribute("aria-expanded", "false")
    await expect(rooms).to_be_hidden()
    await expect(box).to_be_in_viewport()


async def test_pages_obey_the_content_security_policy(
    new_page: NewPage, web_app: AppServer, page_problems: PageProblems
) -> None:
    page = await new_page()
    response = await page.goto("/login")
    assert response is not None
    csp = await response.header_value("content-security-policy")
    assert csp
    assert "script-src 'self'" in csp

    # The watch works: the policy blocks an inline script and the console says so.
    async with page.expect_console_message(
        lambda m: "Content Security Policy" in m.text
    ) as blocked:
        await page.evaluate(
            "() => { const s = document.createElement('script');"
            " s.textContent = 'window.__inline = 1'; document.body.append(s); }"
        )
    assert "Content Security Policy" in (await blocked.value).text
    assert await page.evaluate("() => window.__inline") is None
    page_problems.items.clear()

    await page.goto("/register")
    await expect(page.get_by_role("button", name="Register")).to_be_visible()
    username = new_username()
    await register_via_ui(page, username)
    room = await create_room(page, f"csp-{secrets.token_hex(3)}")
    await send_with_enter(page, "checking the policy")
    await expect_sent(page, "checking the policy")
    await page.goto(f"/rooms/{room}")
    await expect_in_chat(page, username)
    await page.get_by_role("button", name="Log out").click()
    await expect(page).to_have_url(path_is("/login"))
    page_problems.check()


async def test_reconnect_after_a_restart_catches_up(
    new_page: NewPage, start_browser_server: Callable[..., AppServer]
) -> None:
    """The app restarts: the page says "Reconnecting…", then rejoins and shows what was written
    while it was away (straight into DynamoDB, as an outside producer would)."""
    server = start_browser_server(RESTART_DB)
    username = new_username()
    await register_over_http(server, username)
    page = await new_page(server=server)
    await login_via_ui(page, username)
    room = await create_room(page, f"restart-{secrets.token_hex(3)}")
    await send_with_enter(page, "before the restart")
    await expect_sent(page, "before the restart")

    banner = page.get_by_test_id("connection-banner")
    await expect(banner).to_have_text("")
    await asyncio.to_thread(server.stop)
    await expect(banner).to_have_text("Reconnecting\u2026")
    missed = f"written while you were away {secrets.token_hex(3)}"
    await asyncio.to_thread(
        put_message, settings_for(server.env), room=room, username="outside-bot", text=missed
    )
    restarted = await asyncio.to_thread(start_app, server.env, server.log.parent, port=server.port)
    try:
        await expect(banner).to_have_text("")
        await expect(message_with_text(page, missed)).to_have_count(1)
        await send_with_enter(page, "after the restart")
        await expect_sent(page, "after the restart")
        texts = await messages(page).locator(".message-text").all_text_contents()
        assert texts == ["before the restart", missed, "after the restart"]
    finally:
        await asyncio.to_thread(restarted.stop)


async def test_a_reconnect_catches_up_on_a_message_stored_late(
    new_page: NewPage, start_browser_server: Callable[..., AppServer]
) -> None:
    """While the page is away, a message lands whose id is older than the newest it saw (a
    slow write, within the 10 s visibility bound), then 60 more: more than the join's page of
    50. The page catches up from its newest id minus the bound and shows all of them, in id
    order. (No stream consumer: nothing arrives live, only through the catch-up.)"""
    server = start_browser_server(LATE_WRITE_DB, PARLEY_STREAM_CONSUMER="false")
    username = new_username()
    await register_over_http(server, username)
    page = await new_page(server=server)
    await login_via_ui(page, username)
    room = await create_room(page, f"late-{secrets.token_hex(3)}")
    await send_with_enter(page, "newest before the drop")
    newest_id = await (await expect_sent(page, "newest before the drop")).get_attribute("data-id")
    assert newest_id is not None

    banner = page.get_by_test_id("connection-banner")
    await asyncio.to_thread(server.stop)
    await expect(banner).to_have_text("Reconnecting\u2026")
    settings = settings_for(server.env)
    late_id = ulid_at(ulid_seconds(newest_id) - 3)  # drawn 3 s before, stored only now
    late = Message(
        id=late_id, room=room, username="slow-writer", text="stored late",
        created_at=iso_utc(ulid_datetime(late_id)),
    )  # fmt: skip
    async with open_client(settings) as dynamo:
        await MessageStore(dynamo, TableNames.with_prefix(settings.table_prefix).messages).put(late)
    for n in range(60):
        await asyncio.to_thread(
            put_message, settings, room=room, username="outside-bot", text=f"later {n}"
        )
    restarted = await asyncio.to_thread(start_app, server.env, server.log.parent, port=server.port)
    try:
        await expect(banner).to_have_text("")
        await expect(message_with_text(page, "later 59")).to_have_count(1)
        await expect(message_with_text(page, "stored late")).to_have_count(1)
        texts = await messages(page).locator(".message-text").all_text_contents()
        later = [f"later {n}" for n in range(60)]
        assert texts == ["stored late", "newest before the drop", *later]
    finally:
        await asyncio.to_thread(restarted.stop)


async def test_a_reconnect_catches_up_on_an_orphaned_send_taken_over(
    new_page: NewPage, start_browser_server: Callable[..., AppServer]
) -> None:
    """Issue 16's take-over: a sender's process dies after claiming a clientId; its retry on
    another instance waits for the first copy (5 s), then stores it under its own id, older
    than the newest message the page saw before it went away; 60 more follow. Back, the page
    shows all of them in id order."""
    server = start_browser_server(TAKE_OVER_DB, PARLEY_STREAM_CONSUMER="false")
    other = start_browser_server(TAKE_OVER_DB, PARLEY_STREAM_CONSUMER="false")
    username = new_username()
    await register_over_http(server, username)
    page = await new_page(server=server)
    await login_via_ui(page, username)
    room = await create_room(page, f"takeover-{secrets.token_hex(3)}")
    sender_name = new_username("s")
    async with httpx.AsyncClient(base_url=other.url) as http:
        sender = ChatClient(other, await register_and_login(http, sender_name))
    await sender.connect()
    try:
        await sender.join(room, limit=0)
        message_id = new_ulid()  # drawn by the process that dies
        orphan = Message(
            id=message_id, room=room, username=sender_name, text="taken over",
            created_at=iso_utc(ulid_datetime(message_id)), client_id="crash-1",
        )  # fmt: skip
        redis = Redis.from_url(settings_for(server.env).require_redis_url())
        try:
            ledger = SendLedger(redis, rate_per_second=1000, burst=1000)
            assert (await ledger.admit(orphan)).outcome == "admitted"
        finally:
            await redis.aclose()
        # The client's retry, at once: it waits 5 s for the first copy before taking over.
        retried = asyncio.create_task(sender.send("taken over", room, client_id="crash-1"))
        await send_with_enter(page, "newest before the drop")
        await expect_sent(page, "newest before the drop")
        banner = page.get_by_test_id("connection-banner")
        await asyncio.to_thread(server.stop)
        await expect(banner).to_have_text("Reconnecting\u2026")
        assert await retried == {"ok": True, "message": orphan.to_json()}
        for n in range(60):
            assert (await sender.send(f"later {n}", room))["ok"]
    finally:
        await sender.close()
    restarted = await asyncio.to_thread(start_app, server.env, server.log.parent, port=server.port)
    try:
        await expect(banner).to_have_text("")
        await expect(message_with_text(page, "later 59")).to_have_count(1)
        await expect(message_with_text(page, "taken over")).to_have_count(1)
        texts = await messages(page).locator(".message-text").all_text_contents()
        later = [f"later {n}" for n in range(60)]
        assert texts == ["taken over", "newest before the drop", *later]
    finally:
        await asyncio.to_thread(restarted.stop)
