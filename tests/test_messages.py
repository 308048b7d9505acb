"""One banner at a time, but never at the cost of a warning or an error."""

from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.template.loader import render_to_string
from django.test import RequestFactory

from tests.helpers import SPACE


def _shown(messages, method="get"):
    request = getattr(RequestFactory(), method)("/relationships/")
    request.htmx = False
    html = render_to_string("includes/messages.html", {"messages": messages, "request": request})
    return SPACE.sub(" ", html)


def test_attack_an_error_before_a_success_disappears():
    shown = _shown(
        [
            Message(constants.ERROR, "That invitation was already withdrawn."),
            Message(constants.SUCCESS, "Saved."),
            Message(constants.SUCCESS, "Note saved."),
        ]
    )

    assert "That invitation was already withdrawn." in shown
    assert "Note saved." in shown
    assert "<p>Saved.</p>" not in shown, "earlier successes give way to the newest"


def test_a_page_answering_a_post_offers_no_dismiss_link_to_a_post_only_address():
    assert "Dismiss" in _shown([Message(constants.SUCCESS, "Saved.")])
    assert "Dismiss" not in _shown([Message(constants.ERROR, "Fix this.")], method="post")
