"""End-to-end: rich messages in Chromium against a real app process (docs/reference.md, "Web
pages" and "Socket.IO"): two people in a room edit, delete, react, reply and mention, each
seeing the other's changes live; Markdown is rendered with raw HTML as text and only safe
links; the emoji picker loads its data from this origin under the CSP."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Locator, Page, expect

from tests.browser.conftest import NewPage
from tests.browser.ui import (
    create_room,
    expect_in_chat,
    expect_sent,
    message_with_text,
    messages,
    new_username,
    register_via_ui,
    screenshot,
    send_with_enter,
)

pytestmark = pytest.mark.browser


def item(page: Page, text: str) -> Locator:
    """The one message whose own text (not a quote of it) holds this."""
    return messages(page).filter(has=page.locator(".message-text").filter(has_text=text))


def article(page: Page, text: str) -> Locator:
    return item(page, text).get_by_role("article")


async def act_on(page: Page, text: str, action: str) -> None:
    """Clicks one of a message's actions, shown when the pointer is over it."""
    message = article(page, text)
    await message.hover()
    await message.get_by_role("button", name=action, exact=True).click()


def thumbs_up(count: int) -> re.Pattern[str]:
    """A reaction toggle's name: the emoji (the picker's may carry VS16) and its count."""
    return re.compile(f"^\U0001f44d\ufe0f? {count}$")


async def test_edit_delete_react_reply_and_mention_live(new_page: NewPage) -> None:
    alice, bob = new_username("alice"), new_username("bob")
    page_a = await new_page()
    page_b = await new_page()
    await register_via_ui(page_a, alice)
    await register_via_ui(page_b, bob)
    room = await create_room(page_a, f"rich-{alice[-4:]}")
    await page_b.goto(f"/rooms/{room}")
    await expect_in_chat(page_b, bob)
    await send_with_enter(page_b, "first from bob")  # sending joins the public room
    await expect_sent(page_b, "first from bob")
    await expect(message_with_text(page_a, "first from bob")).to_have_count(1)

    # @ autocomplete: arrows and Enter pick bob; bob sees the mention of him highlighted.
    box_a = page_a.get_by_role("textbox", name="Message", exact=True)
    await box_a.press_sequentially(f"look @{bob[:5]}")
    options = page_a.get_by_role("listbox", name="Members to mention").get_by_role("option")
    await expect(options).to_have_text([f"@{bob}"])
    await box_a.press("Enter")
    await expect(box_a).to_have_value(f"look @{bob} ")
    await box_a.press_sequentially("at this")
    await box_a.press("Enter")
    await expect_sent(page_a, "at this")
    await expect(article(page_b, "at this").locator(".mention-me")).to_have_text(f"@{bob}")

    # Reply: the composer says to whom; the reply quotes its parent and a click shows it.
    await act_on(page_a, "first from bob", "Reply")
    await expect(page_a.get_by_role("status").filter(has_text=f"Replying to {bob}")).to_be_visible()
    await send_with_enter(page_a, "a reply to bob")
    await expect(page_a.get_by_text(f"Replying to {bob}")).to_have_count(0)
    reply_b = article(page_b, "a reply to bob")
    await expect(reply_b.get_by_role("button", name=re.compile("In reply to"))).to_contain_text(
        "first from bob"
    )
    await reply_b.get_by_role("button", name=re.compile("In reply to")).click()
    await expect(item(page_b, "first from bob")).to_have_class(re.compile(r"\bhighlighted\b"))

    # Reactions: alice picks 👍 in the picker, bob toggles it too: 2, with both names.
    await act_on(page_a, "first from bob", "Add reaction")
    picker = page_a.get_by_role("dialog", name="Add reaction")
    await picker.get_by_role("searchbox", name="Search emoji").fill("thumbs up")
    await picker.get_by_role("gridcell", name="Thumbs up", exact=True).click()
    await expect(picker).to_have_count(0)
    toggle_b = article(page_b, "first from bob").get_by_role("button", name=thumbs_up(1))
    await expect(toggle_b).to_have_attribute("aria-pressed", "false")
    await toggle_b.click()
    for page in (page_a, page_b):
        toggle = article(page, "first from bob").get_by_role("button", name=thumbs_up(2))
        await expect(toggle).to_have_attribute("aria-pressed", "true")
        await expect(toggle).to_have_attribute("title", re.compile(rf"{alice}|{bob}"))
    mine = article(page_a, "first from bob").get_by_role("button", name=thumbs_up(2))
    await expect(mine).to_have_attribute("title", re.compile(f"you and {bob}$"))

    # Edit: bob edits his message in place; alice sees the new text and "(edited)" live.
    await act_on(page_b, "first from bob", "Edit")
    editor = page_b.get_by_role("textbox", name="Edit message")
    await editor.fill("bob, edited")
    await editor.press("Enter")
    await expect(editor).to_have_count(0)
    await expect(article(page_a, "bob, edited")).to_contain_text("(edited)")
    # Up arrow in the empty composer edits one's last message; Escape cancels.
    box_b = page_b.get_by_role("textbox", name="Message", exact=True)
    await box_b.press("ArrowUp")
    await expect(page_b.get_by_role("textbox", name="Edit message")).to_have_value("bob, edited")
    await page_b.get_by_role("textbox", name="Edit message").press("Escape")
    await expect(page_b.get_by_role("textbox", name="Edit message")).to_have_count(0)
    await screenshot(page_a, "rich-messages.png")

    # Delete: confirmed in a dialog; alice sees the tombstone, and the reply's quote deleted.
    await act_on(page_b, "bob, edited", "Delete")
    confirm = page_b.get_by_role("dialog", name="Delete message?")
    await confirm.get_by_role("button", name="Delete", exact=True).click()
    await expect(confirm).to_have_count(0)
    for page in (page_a, page_b):
        await expect(page.get_by_text("This message was deleted.")).to_have_count(1)
        await expect(page.get_by_text("bob, edited")).to_have_count(0)
        reply = article(page, "a reply to bob")
        await expect(reply).to_contain_text("Original message was deleted.")
    # Only the author edits; alice (the owner) may delete bob's messages, bob not hers.
    theirs = article(page_b, "a reply to bob")
    await expect(theirs.get_by_role("button", name="Edit", exact=True)).to_have_count(0)
    await expect(theirs.get_by_role("button", name="Delete", exact=True)).to_have_count(0)


MARKDOWN = (
    "```\nconst answer = 42;\n```\n"
    "**bold** [safe](https://example.com) [click me](javascript:window.__xss=1) "
    '<img src=x onerror="window.__xss=2">'
)


async def test_markdown_is_rendered_without_html_and_only_safe_links(new_page: NewPage) -> None:
    sender, reader = new_username("md"), new_username("reader")
    page = await new_page()
    other = await new_page()
    await register_via_ui(page, sender)
    await register_via_ui(other, reader)
    room = await create_room(page, f"md-{sender[-4:]}")
    await other.goto(f"/rooms/{room}")
    await expect_in_chat(other, reader)

    box = page.get_by_role("textbox", name="Message", exact=True)
    await box.fill(MARKDOWN)
    await box.press("Enter")
    for viewer in (page, other):
        shown = messages(viewer).filter(has_text="const answer = 42;").get_by_role("article")
        await expect(shown.locator("pre code")).to_have_text("const answer = 42;")
        await expect(shown.locator("strong")).to_have_text("bold")
        safe = shown.get_by_role("link", name="safe")
        await expect(safe).to_have_attribute("href", "https://example.com")
        await expect(safe).to_have_attribute("target", "_blank")
        await expect(safe).to_have_attribute("rel", "noopener noreferrer nofollow")
        await expect(shown.get_by_text("click me")).to_be_visible()
        await expect(shown.get_by_role("link", name="click me")).to_have_count(0)
        await expect(shown).to_contain_text('<img src=x onerror="window.__xss=2">')
        await shown.get_by_text("click me").click()
        assert await viewer.evaluate("() => window.__xss") is None
        unsafe = viewer.get_by_role("log").locator("img, script, [href^='javascript']")
        assert await unsafe.count() == 0
