"""Issue 16's "done when", in the browser: with the mail server stopped, an HR admin
invites ten people and sees success each time; when the server starts, the ten emails
arrive, one each."""

import time

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, expect

from accounts.demo import DEMO_PASSWORD
from outbox.models import OutgoingEmail
from tests.outbox.conftest import SETTLE_SECONDS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_hr_invites_ten_people_while_mail_is_down_and_each_gets_one_email(
    browser: Browser, live_server, settings, workers, smtp
):
    settings.RAPPORT_PRIVILEGED_MFA = False  # as in the demo
    call_command("demo", no_serve=True)
    smtp.stop()
    workers("one")
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("hana.hr@example.com")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("link", name="Organisation").click()

    addresses = [f"newcomer{n}@example.com" for n in range(10)]
    for address in addresses:
        page.get_by_label("Email address").fill(address)
        page.get_by_role("button", name="Send invitation").click()
        expect(page.locator("main").get_by_text(f"Invitation sent to {address}.")).to_be_visible()
    context.close()

    assert smtp.received == []
    queued = OutgoingEmail.objects.filter(template="accounts/email/invitation.txt")
    assert queued.count() == 10 and not queued.filter(status="sent").exists()

    smtp.start()
    smtp.wait_for(10, timeout=60)
    time.sleep(SETTLE_SECONDS)  # a second copy of any would arrive here
    assert sorted(m["to"][0] for m in smtp.received) == addresses
    assert len(set(smtp.message_ids())) == 10
