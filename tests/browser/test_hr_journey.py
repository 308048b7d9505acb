"""An HR admin reads the anonymous trends, sees why a cell is hidden, downloads the CSV."""

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, expect

from accounts.demo import DEMO_PASSWORD
from tests.browser.test_signup_journey import _shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_hr_reads_the_dashboard_and_downloads_the_csv(browser: Browser, live_server, settings):
    settings.RAPPORT_PRIVILEGED_MFA = False  # as in the demo
    call_command("demo", no_serve=True)
    page = browser.new_context(accept_downloads=True).new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("hana.hr@example.com")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()

    page.get_by_role("link", name="Insights").click()
    expect(page.get_by_role("heading", name="Trust across Northwind (demo)")).to_be_visible()
    expect(page.locator("svg.trend-svg .series-mine path")).to_have_count(1)
    expect(page.get_by_text("Not shown: fewer than 5 responses").first).to_be_visible()
    _shot(page, "40-hr-dashboard")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as CSV").click()
    download = download_info.value
    assert download.suggested_filename == "rapport-insights-northwind-demo.csv"
    content = download.path().read_text(encoding="utf-8")
    assert "fewer than 5 responses" in content
    assert "Sam" not in content and "Alex" not in content
