"""HR invites many people at once: a pasted list or a CSV, every line checked in a
preview before anything is sent, then sent through `invitation_create`."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Invitation
from tests.factories import MembershipFactory
from tests.helpers import text

pytestmark = pytest.mark.django_db

BULK = reverse("invitations_bulk")
SEND = reverse("invitations_bulk_send")


def _preview(client, addresses="", **extra):
    return client.post(BULK, {"bulk-addresses": addresses, **extra})


def _send_form(response) -> dict:
    """The hidden fields of the preview's confirm form, as the browser would send them."""
    context = response.context
    return {
        "rows": context["send_rows"],
        "team": context["send_team"].public_id if context["send_team"] else "",
        "role": context["send_role"],
    }


def test_attack_a_typo_in_a_list_of_forty_the_preview_names_each_bad_line(
    hr_client, organisation, team, member, mailoutbox
):
    response = _preview(
        hr_client,
        "\n".join(
            [
                "Ada Lovelace <ada@acme.example>",
                "not-an-address",
                "Bo Builder, bo@acme.example, Marketing",
                f"Old Hand, {member.email.upper()}, Platform",
                "",
                "ADA@acme.example",
                "cy@acme.example, platform",
            ]
        ),
    )

    page = text(response)
    assert response.status_code == 200
    assert "2 of 6 lines are ready to send." in page
    assert "“not-an-address” isn't a valid email address." in page
    assert "There is no team called “Marketing”." in page
    assert f"{member.email.lower()} is already a member of Acme Coaching." in page
    assert "ada@acme.example is also on line 1." in page
    assert not Invitation.objects.exists(), "the preview sends nothing"
    assert mailoutbox == []


def test_confirming_sends_the_ready_lines_with_their_teams(
    hr_client, organisation, team, mailoutbox, django_capture_on_commit_callbacks
):
    preview = _preview(
        hr_client,
        "Ada Lovelace <ada@acme.example>, Platform\nbad@\nbo@acme.example",
        **{"bulk-role": "hr_admin"},
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = hr_client.post(SEND, _send_form(preview))

    assert response.status_code == 302
    invitations = {i.email: i for i in Invitation.objects.filter(organisation=organisation)}
    assert set(invitations) == {"ada@acme.example", "bo@acme.example"}
    assert invitations["ada@acme.example"].team == team
    assert invitations["bo@acme.example"].team is None
    assert {i.role for i in invitations.values()} == {"hr_admin"}
    assert sorted(m.to[0] for m in mailoutbox) == ["ada@acme.example", "bo@acme.example"]
    assert "2 invitations sent." in text(hr_client.get(response["Location"]))


def test_a_default_team_applies_to_lines_without_one(hr_client, organisation, team):
    preview = _preview(hr_client, "ada@acme.example", **{"bulk-team": team.public_id})
    hr_client.post(SEND, _send_form(preview))

    assert Invitation.objects.get(email="ada@acme.example").team == team


def test_a_line_that_became_a_member_since_the_preview_is_reported_not_sent(
    hr_client, organisation, mailoutbox, django_capture_on_commit_callbacks
):
    preview = _preview(hr_client, "ada@acme.example\nbo@acme.example")
    MembershipFactory(organisation=organisation, user__email="bo@acme.example")

    with django_capture_on_commit_callbacks(execute=True):
        response = hr_client.post(SEND, _send_form(preview))

    page = text(response)
    assert response.status_code == 200
    assert "1 invitation sent, 1 not sent" in page
    assert "bo@acme.example is already a member of Acme Coaching." in page
    assert [m.to for m in mailoutbox] == [["ada@acme.example"]]


def test_a_csv_with_a_header_in_any_order_is_read(hr_client, organisation, team):
    upload = SimpleUploadedFile(
        "people.csv",
        'Team,Email,Name\r\nPlatform,zoe@acme.example,"Zoë Ångström, PhD"\r\n'.encode(),
        content_type="text/csv",
    )

    response = hr_client.post(BULK, {"bulk-csv_file": upload})

    page = text(response)
    assert "1 of 1 line is ready to send." in page
    assert "Zoë Ångström, PhD" in page and "zoe@acme.example" in page
    assert response.context["rows"][0].team == team


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04\x00\x00binary", "That file isn't a CSV"),
        ("name,email\nJosé,jose@acme.example\n".encode("latin-1"), "isn't UTF-8 text"),
        (b"email\n" + b"someone@acme.example\n" * 20000, "at most 256 KB"),
        (b"\n\n", "That file is empty."),
        (b"".join(b"p%d@acme.example\n" % n for n in range(201)), "at most 200 can be invited"),
    ],
)
def test_attack_a_file_that_is_not_a_good_csv_gets_a_clear_message(hr_client, content, message):
    upload = SimpleUploadedFile("people.csv", content, content_type="text/csv")

    response = hr_client.post(BULK, {"bulk-csv_file": upload})

    assert response.status_code == 200
    assert message in text(response)
    assert not Invitation.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"rows": ""},
        {"rows": "ada@acme.example", "role": "emperor"},
        {"rows": "ada@acme.example", "role": "member", "team": "not-a-team"},
        # More lines than the preview allows, posted by hand.
        {"rows": "\n".join(f"p{i}@acme.example" for i in range(201)), "role": "member"},
    ],
)
def test_attack_a_hand_made_send_sends_nothing_and_says_so(hr_client, data, mailoutbox):
    response = hr_client.post(SEND, data)

    assert response.status_code == 200
    assert "Nothing was sent" in text(response)
    assert not Invitation.objects.exists()


def test_addresses_pasted_on_one_line_are_explained(hr_client, organisation):
    page = text(_preview(hr_client, "ada@acme.example, bo@acme.example"))

    assert "Several addresses on one line: put each on its own line." in page
    assert "no team called" not in page


@pytest.mark.parametrize("line", [",", ", ,", ";;", ",,\nada@acme.example"])
def test_attack_a_blank_spreadsheet_row_is_explained_not_a_500(hr_client, organisation, line):
    response = _preview(hr_client, line)

    assert response.status_code == 200
    assert "No email address on this line." in text(response)


def test_an_empty_list_is_explained(hr_client):
    assert "Paste at least one address, or choose a CSV file." in text(_preview(hr_client, " \n"))


def test_attack_markup_in_a_pasted_name_stays_text(hr_client, organisation):
    hostile = '<img src=x onerror=alert(1)> hx-get="/x"'
    response = _preview(hr_client, f'"{hostile}", ada@acme.example')

    page = response.content.decode()
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    cell = page[page.index("&lt;img src=x") - 40 : page.index("&lt;img src=x")]
    assert "hx-disable" in cell


@pytest.mark.parametrize("url", [BULK, SEND])
def test_only_hr_admins_can_invite_many(member_client, other_hr_client, url, team):
    for client in (member_client,):
        assert client.post(url, {"bulk-addresses": "ada@acme.example"}).status_code == 404
        assert client.get(url).status_code in {404, 405}
    # Another organisation's HR admin cannot use this organisation's teams.
    response = other_hr_client.post(
        SEND, {"rows": "ada@acme.example", "role": "member", "team": team.public_id}
    )
    assert not Invitation.objects.filter(team=team).exists()
    assert response.status_code == 200


def test_the_organisation_page_offers_the_bulk_form_without_javascript(hr_client):
    page = hr_client.get(reverse("organisation")).content.decode()

    form = page[page.index(f'action="{BULK}"') - 80 :]
    assert 'enctype="multipart/form-data"' in form[:300]
    assert 'name="bulk-addresses"' in form and 'name="bulk-csv_file"' in form


def test_attack_a_bulk_preview_tells_nothing_about_another_organisations_members(
    hr_client, organisation
):
    MembershipFactory(user__email="olu@other.test")

    page = text(_preview(hr_client, "olu@other.test"))

    assert "already a member" not in page.lower()
