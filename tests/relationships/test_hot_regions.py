"""The notes and action items regions render with Jinja2 (jinja2/relationships/, issue
15), with dates and links formatted in Python: they must show what Django's `date`
filter and `{% url %}` showed, in the reader's time zone, and the htmx fragment must be
the page's own region."""

import re
from datetime import UTC, date, datetime

import pytest
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils import timezone

from relationships.models import Note
from tests.factories import ActionItemFactory, NoteDraftFactory, NoteFactory, SessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(relationship):
    coach = relationship.coach
    coach.time_zone = "Pacific/Auckland"  # 13 hours ahead: the day and the hour move
    coach.save(update_fields=["time_zone"])
    note = NoteFactory(relationship=relationship, author=coach, body="A <b>note</b>")
    # 23:30 UTC on 30 November is 12:30 on 1 December in Auckland.
    Note.objects.filter(pk=note.pk).update(created_at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
    note.refresh_from_db()
    open_item = ActionItemFactory(
        relationship=relationship, owner="coach", text="Open <i>item</i>", due_on=date(2031, 3, 9)
    )
    done_item = ActionItemFactory(relationship=relationship, owner="coach", text="Done item")
    done_item.done_at = datetime(2026, 5, 31, 12, 5, tzinfo=UTC)  # 1 June in Auckland
    done_item.save(update_fields=["done_at"])
    draft = NoteDraftFactory(relationship=relationship, author=coach, body="Half <a>thought")
    return note, open_item, done_item, draft


def _region(html: str, region: str) -> str:
    """The region's section, without its messages (before its heading) and with its
    per-request tokens (CSRF, the forms' one-time tokens) made alike."""
    found = re.search(rf'<section id="{region}".*?</section>', html, re.S).group(0)
    found = re.sub(r"(<section[^>]*>).*?(<h2 )", r"\1\2", found, count=1, flags=re.S)
    found = re.sub(r'value="[0-9a-f-]{36}"', 'value="token"', found)
    found = re.sub(r'value="\w{64}"', 'value="csrf"', found)
    return re.sub(r"\s+", " ", found)


def test_dates_and_links_read_as_the_date_filter_and_url_tag(coach_client, relationship, history):
    note, open_item, done_item, draft = history
    html = coach_client.get(reverse("relationship_detail", args=[relationship.public_id])).content
    html = html.decode()

    with timezone.override("Pacific/Auckland"):
        created = date_filter(timezone.localtime(note.created_at), "j M Y, H:i")
        done = date_filter(timezone.localtime(done_item.done_at), "j M Y")
    assert created == "1 Dec 2026, 12:30" and done == "1 Jun 2026"
    assert f"· {created}</span>" in html
    assert f" note from {created}</span>" in html
    assert f"· due {date_filter(open_item.due_on, 'j M Y')}</span>" in html
    assert f"· done {done}</span>" in html
    assert f'href="{reverse("note_edit", args=[note.public_id])}"' in html
    assert f'action="{reverse("note_delete", args=[note.public_id])}"' in html
    done_url = reverse("action_item_done", args=[open_item.public_id])
    assert f'action="{done_url}"' in html and f'hx-post="{done_url}"' in html
    # Typed text stays escaped in both Jinja2 regions.
    assert "A &lt;b&gt;note&lt;/b&gt;" in html and "Open &lt;i&gt;item&lt;/i&gt;" in html
    assert "Half &lt;a&gt;thought" in html
    assert "<b>note" not in html and "<i>item" not in html and "<a>thought" not in html
    # Each form carries the request's CSRF token, as {% csrf_token %} did.
    token = re.search(r'name="csrfmiddlewaretoken" value="(\w+)"', html).group(1)
    assert html.count(f'name="csrfmiddlewaretoken" value="{token}"') >= 5


def test_the_htmx_fragments_are_the_page_regions(coach_client, relationship, history):
    page_url = reverse("relationship_detail", args=[relationship.public_id])
    page = coach_client.get(page_url).content.decode()
    htmx = {"HX-Request": "true", "HX-Current-URL": f"http://testserver{page_url}"}

    response = coach_client.post(
        reverse("action_item_done", args=[history[1].public_id]), {"done": "0"}, headers=htmx
    )
    assert response.status_code == 200
    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<section id="actions"')
    # The item was open: marking it not done leaves the region as the page showed it.
    assert _region(fragment, "actions") == _region(page, "actions")
    assert "message" in fragment, "the htmx region carries its quiet message"


def test_the_session_page_regions_are_the_relationship_page_partials(coach_client, relationship):
    session = SessionFactory(relationship=relationship)
    NoteFactory(relationship=relationship, session=session, body="On the session")
    ActionItemFactory(relationship=relationship, session=session, owner="coach", text="Do it")
    page = coach_client.get(reverse("session_detail", args=[session.public_id])).content.decode()

    notes = re.search(r'<section id="notes".*?</section>', page, re.S).group(0)
    actions = re.search(r'<section id="actions".*?</section>', page, re.S).group(0)
    assert "Notes on this session" in notes and "On the session" in notes
    assert f'<input type="hidden" name="session" value="{session.public_id}">' in notes
    assert actions.count(f'name="session" value="{session.public_id}"') == 2  # done and add
    assert "Do it" in actions and "follow-through" not in actions
