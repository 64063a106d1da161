"""End-to-end: conversations in Chromium against a real app process (docs/reference.md,
"Conversations" and "Web pages"): a private room whose new member sees it appear live, a direct
message with its unread badge and divider, a kick seen live, and the directory's Join."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.async_api import Locator, Page, expect

from tests.browser.conftest import NewPage
from tests.browser.ui import (
    create_room,
    expect_in_chat,
    expect_sent,
    message_with_text,
    new_username,
    path_is,
    register_via_ui,
    screenshot,
    send_with_enter,
)

pytestmark = pytest.mark.browser


def rooms_nav(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Rooms", exact=True)


def dms_nav(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Direct messages")


def link_starting(nav: Locator, name: str) -> Locator:
    """The sidebar link of a room: its accessible name starts with the room's name."""
    return nav.get_by_role("link", name=re.compile(rf"^{re.escape(name)}\b"))


async def add_member(page: Page, username: str) -> None:
    panel = await open_members(page)
    await panel.get_by_role("textbox", name="Add people").fill(username)
    await panel.get_by_role("button", name="Add", exact=True).click()
    await expect(panel.get_by_role("listitem").filter(has_text=username)).to_have_count(1)


async def open_members(page: Page) -> Locator:
    panel = page.get_by_role("region", name="Members")
    if not await panel.is_visible():
        await page.get_by_role("button", name="Members", exact=True).click()
    await expect(panel).to_be_visible()
    return panel


async def test_private_room_member_added_live_then_kicked_live(new_page: NewPage) -> None:
    owner, guest = new_username("owner"), new_username("guest")
    page_o = await new_page()
    page_g = await new_page()
    await register_via_ui(page_o, owner)
    await register_via_ui(page_g, guest)

    name = f"secret-{secrets.token_hex(3)}"
    room = await create_room(page_o, name, private=True, topic="Plans nobody else sees")
    await expect(page_o.get_by_role("heading", level=1)).to_contain_text(name)
    await expect(page_o.get_by_text("Plans nobody else sees")).to_be_visible()
    await expect(link_starting(rooms_nav(page_o), name)).to_have_attribute("aria-current", "page")
    # The guest does not know it exists: not listed, and its address answers like no room.
    await expect(link_starting(rooms_nav(page_g), "general")).to_be_visible()
    await expect(link_starting(rooms_nav(page_g), name)).to_have_count(0)

    await add_member(page_o, guest)
    members = page_o.get_by_role("region", name="Members")
    await expect(members.get_by_role("listitem").filter(has_text=owner)).to_contain_text("owner")
    await expect(members.get_by_role("listitem").filter(has_text=guest)).to_contain_text("member")
    # Added: the room appears in the guest's sidebar without a reload.
    guest_link = link_starting(rooms_nav(page_g), name)
    await expect(guest_link).to_have_count(1)
    await guest_link.click()
    await expect(page_g).to_have_url(path_is(f"/rooms/{room}"))
    await expect_in_chat(page_g, guest)
    await expect(members.get_by_role("listitem").filter(has_text=guest)).to_contain_text("online")

    hello = f"Welcome aboard {secrets.token_hex(2)}"
    await send_with_enter(page_o, hello)
    await expect_sent(page_o, hello)
    await expect(message_with_text(page_g, hello)).to_have_count(1)
    await screenshot(page_o, "members.png")

    # Kicked: gone from the sidebar, and the open view says so, live.
    await members.get_by_role("button", name=f"Remove {guest}").click()
    await expect(members.get_by_role("listitem").filter(has_text=guest)).to_have_count(0)
    await expect(link_starting(rooms_nav(page_g), name)).to_have_count(0)
    await expect(page_g.get_by_text("You were removed from this room")).to_be_visible()
    await expect(page_g.get_by_role("textbox", name="Message")).to_be_disabled()
    # Nothing more of the room reaches the guest.
    after = f"After the kick {secrets.token_hex(2)}"
    await send_with_enter(page_o, after)
    await expect_sent(page_o, after)
    await page_g.reload()
    await expect(page_g.get_by_role("log")).not_to_contain_text(after)
    await expect(page_g.get_by_role("log")).not_to_contain_text(hello)


async def test_direct_message_unread_badge_divider_and_title(new_page: NewPage) -> None:
    sender, reader = new_username("dm"), new_username("dm")
    page_s = await new_page()
    page_r = await new_page()
    await register_via_ui(page_s, sender)
    await register_via_ui(page_r, reader)

    await page_s.get_by_role("button", name="New message").click()
    dialog = page_s.get_by_role("dialog", name="New message")
    await dialog.get_by_role("textbox", name="Username").fill(f"nobody-{secrets.token_hex(3)}")
    await dialog.get_by_role("button", name="Start").click()
    await expect(dialog.get_by_role("alert")).to_contain_text("There is no user named")
    await dialog.get_by_role("textbox", name="Username").fill(reader)
    await dialog.get_by_role("button", name="Start").click()
    await expect(dialog).to_have_count(0)
    # The DM is named after the other person.
    await expect(link_starting(dms_nav(page_s), reader)).to_have_attribute("aria-current", "page")
    await expect(page_s.get_by_role("heading", level=1)).to_contain_text(reader)

    first, second = f"Psst {secrets.token_hex(2)}", f"Got a minute? {secrets.token_hex(2)}"
    for text in (first, second):
        await send_with_enter(page_s, text)
        await expect_sent(page_s, text)

    # The reader, in general: the DM shows up with its unread count, and the title counts it.
    dm_link = link_starting(dms_nav(page_r), sender)
    await expect(dm_link).to_have_count(1)
    await expect(dm_link.get_by_test_id("unread-badge")).to_have_text("2")
    await expect(dm_link).to_have_accessible_name(re.compile(rf"^{re.escape(sender)}\b.*2 unread"))
    await expect(page_r).to_have_title(re.compile(r"^\(2\) "))
    await screenshot(page_r, "unread.png")

    # Read markers go out only while the tab has the focus (as the one in front has).
    await page_r.bring_to_front()
    await dm_link.click()
    log = page_r.get_by_role("log")
    divider = log.get_by_role("separator", name="New messages")
    await expect(divider).to_have_count(1)
    # The divider sits right above the first unread message.
    first_unread = log.locator("li.unread-divider + li")
    await expect(first_unread).to_contain_text(first)
    # Read: the badge and the title count go, on this device.
    await expect(dm_link.get_by_test_id("unread-badge")).to_have_count(0)
    await expect(page_r).not_to_have_title(re.compile(r"^\("))

    # More unread than a screen holds: the room opens on the divider, not on the newest, and
    # they stay unread until the reader scrolls down to them.
    await link_starting(rooms_nav(page_r), "general").click()
    points = "\n".join(f"- point {n}" for n in range(8))
    later = [f"Long read {n} {secrets.token_hex(2)}" for n in range(10)]
    for text in later:
        await send_with_enter(page_s, f"{text}\n{points}")
        await expect_sent(page_s, text)
    await expect(dm_link.get_by_test_id("unread-badge")).to_have_text(str(len(later)))
    await dm_link.click()
    await expect(first_unread).to_contain_text(later[0])
    await expect(divider).to_be_in_viewport()
    await expect(message_with_text(page_r, later[-1])).not_to_be_in_viewport()
    await expect(dm_link.get_by_test_id("unread-badge")).to_have_text(str(len(later)))
    await message_with_text(page_r, later[-1]).scroll_into_view_if_needed()
    await expect(dm_link.get_by_test_id("unread-badge")).to_have_count(0)


async def test_browse_rooms_and_join(new_page: NewPage) -> None:
    maker, joiner = new_username("maker"), new_username("joiner")
    page_m = await new_page()
    page_j = await new_page()
    await register_via_ui(page_m, maker)
    await register_via_ui(page_j, joiner)
    tag = secrets.token_hex(3)
    name = f"garden-{tag}"
    room = await create_room(page_m, name, topic=f"Tomatoes and basil {tag}")

    await page_j.get_by_role("button", name="Browse rooms").click()
    dialog = page_j.get_by_role("dialog", name="Browse rooms")
    await dialog.get_by_role("searchbox", name="Search rooms").fill(f"basil {tag}")
    entry = dialog.get_by_role("listitem").filter(has_text=name)
    # Only what matches the search is left (general, for one, is not).
    await expect(dialog.get_by_role("listitem")).to_have_count(1)
    await expect(entry).to_have_count(1)
    await expect(entry).to_contain_text(f"Tomatoes and basil {tag}")
    await expect(entry).to_contain_text("1 member")
    await screenshot(page_j, "browse-rooms.png")
    await entry.get_by_role("button", name="Join").click()
    await expect(dialog).to_have_count(0)
    await expect(page_j).to_have_url(path_is(f"/rooms/{room}"))
    await expect(link_starting(rooms_nav(page_j), name)).to_have_attribute("aria-current", "page")

    # Browsing again: it is now one to Open; Escape closes the dialog.
    await page_j.get_by_role("button", name="Browse rooms").click()
    await dialog.get_by_role("searchbox", name="Search rooms").fill(name)
    await expect(
        dialog.get_by_role("listitem").filter(has_text=name).get_by_role("button", name="Open")
    ).to_be_visible()
    await page_j.keyboard.press("Escape")
    await expect(dialog).to_have_count(0)
    await expect(page_j.get_by_role("button", name="Browse rooms")).to_be_focused()


async def test_conversations_fit_a_phone(new_page: NewPage) -> None:
    username = new_username("phone")
    page = await new_page(
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    await register_via_ui(page, username)
    menu = page.get_by_role("button", name="Menu", exact=True)

    # The drawer's New room: the dialog fits the screen; creating closes dialog and drawer.
    await menu.click()
    await page.get_by_role("button", name="New room").click()
    dialog = page.get_by_role("dialog", name="New room")
    await expect(dialog.get_by_role("button", name="Create")).to_be_in_viewport()
    await dialog.get_by_role("textbox", name="Name").fill(f"bus-{secrets.token_hex(3)}")
    await dialog.get_by_role("checkbox", name="Private").check()
    await dialog.get_by_role("button", name="Create").click()
    await expect(dialog).to_have_count(0)
    await expect(menu).to_have_attribute("aria-expanded", "false")

    # The Members panel covers the messages, inside the screen.
    panel = await open_members(page)
    await expect(panel.get_by_role("button", name="Add", exact=True)).to_be_in_viewport()
    await expect(panel.get_by_role("listitem").filter(has_text=username)).to_contain_text("owner")
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= 360
    await screenshot(page, "phone-members.png")
    await panel.get_by_role("button", name="Close").click()
    await expect(panel).to_have_count(0)
    await expect(page.get_by_role("textbox", name="Message")).to_be_in_viewport()
