"""A crash while saving private text must not put that text into an error report
(500 emails today; an error tracker fed by Django's reporter tomorrow)."""

import uuid

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from relationships import services
from relationships.models import Note

pytestmark = pytest.mark.django_db

CANARY = "private-canary-9c41"


@pytest.fixture
def error_emails(settings):
    """Error emails switched on, as an operator might: Django's logging mails ADMINS."""
    settings.ADMINS = [("Ops", "ops@example.com")]


def _crash_after_saving(monkeypatch):
    real_note_create = services.note_create

    def note_create_then_crash(**kwargs):
        real_note_create(**kwargs)
        body = kwargs["body"]  # noqa: F841  a local that holds the text, as real code has
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(services, "note_create", note_create_then_crash)


def _post_note(browser, relationship):
    return browser.post(
        reverse("note_create", args=[relationship.public_id]),
        {
            "body": f"My worry {CANARY}",
            "visibility": Note.Visibility.PRIVATE,
            "client_token": str(uuid.uuid4()),
        },
    )


def test_attack_a_500_email_carries_no_note_body(relationship, error_emails, monkeypatch):
    _crash_after_saving(monkeypatch)
    browser = Client(raise_request_exception=False)
    browser.force_login(relationship.coach)

    response = _post_note(browser, relationship)

    assert response.status_code == 500
    assert len(mail.outbox) == 1, "the operator is told"
    report = mail.outbox[0]
    assert "the disk is full" in report.body, "the report still says what failed"
    everything = report.body + "".join(str(content) for content, _type in report.alternatives)
    assert CANARY not in everything


def test_attack_the_debug_error_page_shows_no_note_body(relationship, settings, monkeypatch):
    """Django's debug page, and any error tracker built on its reporter, lists POST values
    and every frame's local variables."""
    settings.DEBUG = True
    _crash_after_saving(monkeypatch)
    browser = Client(raise_request_exception=False)
    browser.force_login(relationship.coach)

    response = _post_note(browser, relationship)

    page = response.content.decode()
    assert response.status_code == 500 and "the disk is full" in page
    assert CANARY not in page
