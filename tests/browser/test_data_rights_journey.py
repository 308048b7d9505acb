"""In the demo, a coachee downloads their data and then deletes their account."""

import json

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, expect

from accounts.demo import DEMO_PASSWORD
from accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_export_then_delete_my_account(browser: Browser, live_server):
    call_command("demo", no_serve=True)
    page = browser.new_context(accept_downloads=True).new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("sam@example.com")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()

    page.get_by_role("link", name="Account", exact=True).click()
    page.get_by_role("link", name="Your data").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as JSON").click()
    data = json.loads(download_info.value.path().read_text(encoding="utf-8"))
    assert data["profile"]["email"] == "sam@example.com"
    assert data["sessions"] and data["checkins"]

    page.get_by_role("link", name="Delete my account…").click()
    page.get_by_label("Password").fill(DEMO_PASSWORD)  # allauth asks again
    page.get_by_role("button", name="Confirm").click()
    page.get_by_label("Type delete to confirm").fill("delete")
    page.get_by_role("button", name="Delete my account").click()

    expect(page.get_by_text("Your account and everything you wrote are deleted.")).to_be_visible()
    assert not User.objects.filter(email="sam@example.com").exists()
