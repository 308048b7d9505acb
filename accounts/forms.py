import re
import unicodedata

from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.mfa.webauthn.forms import AddWebAuthnForm
from django import forms
from django.utils.html import format_html

from accounts.models import (
    MIN_ANONYMITY_THRESHOLD,
    TIME_ZONE_CHOICES,
    Invitation,
    Membership,
    Organisation,
    Team,
)
from accounts.services import (
    BulkInputError,
    bulk_rows_from_csv,
    bulk_rows_from_text,
    invitation_accept,
    organisation_create,
)


def validate_one_line(value: str) -> None:
    """Names go into email subjects: a line break there is refused by the mail library
    (an error page for whoever triggers the email), and no name needs one."""
    if any(unicodedata.category(character) == "Cc" for character in value):
        raise forms.ValidationError("Write the name on one line, without line breaks or tabs.")


class SignupForm(AllauthSignupForm):
    """allauth's sign-up, plus a name and either an invitation or a new organisation."""

    display_name = forms.CharField(
        label="Your name",
        max_length=80,
        validators=[validate_one_line],
        help_text="How you appear to the people you coach or are coached by.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    organisation_name = forms.CharField(
        label="Organisation name",
        max_length=120,
        validators=[validate_one_line],
        help_text="You'll be its HR admin and can invite your colleagues.",
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    field_order = ["display_name", "email", "organisation_name", "password1", "password2"]

    def __init__(self, *args, invitation: Invitation | None = None, **kwargs):
        self.invitation = invitation
        super().__init__(*args, **kwargs)
        if invitation is not None:
            del self.fields["organisation_name"]
            # format_html: the organisation's name is text its HR admin typed, never markup.
            self.fields["email"].help_text = format_html(
                "Your invitation to {} was sent to this address.", invitation.organisation
            )

    def clean_email(self):
        email = super().clean_email()
        if self.invitation is not None and email.lower() != self.invitation.email.lower():
            raise forms.ValidationError(
                f"Your invitation was sent to {self.invitation.email}. Sign up with that "
                "address, or ask your HR admin to invite this one."
            )
        return email

    def custom_signup(self, request, user):
        user.display_name = self.cleaned_data["display_name"].strip()
        user.save(update_fields=["display_name"])
        if self.invitation is None:
            organisation_create(name=self.cleaned_data["organisation_name"], founder=user)
            return
        # Raises InvitationError if it was used or withdrawn since the form was
        # shown; the sign-up view rolls the new account back and says why.
        invitation_accept(invitation=self.invitation, user=user)
        request.session.pop("invitation_token", None)


class OrganisationForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = ["name", "anonymity_threshold", "email_domains"]
        widgets = {"email_domains": forms.Textarea(attrs={"rows": 3})}
        error_messages = {
            "anonymity_threshold": {
                "min_value": (
                    f"The minimum group size can't be below {MIN_ANONYMITY_THRESHOLD}: "
                    "smaller groups could reveal one person's answers."
                ),
            }
        }

    def clean_name(self):
        validate_one_line(self.cleaned_data["name"])
        return self.cleaned_data["name"]

    def clean_email_domains(self):
        domains = []
        for line in self.cleaned_data["email_domains"].splitlines():
            domain = line.strip().lower().removeprefix("@")
            if not domain:
                continue
            if not DOMAIN.fullmatch(domain):
                raise forms.ValidationError(
                    "Write one domain a line, like example.com (without a name or an @)."
                )
            if domain not in domains:
                domains.append(domain)
        return "\n".join(domains)


# A host name with at least one dot: letters, digits and hyphens between the dots.
DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


class TeamForm(forms.Form):
    name = forms.CharField(label="Team name", max_length=80, validators=[validate_one_line])


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(),
        required=False,
        empty_label="No team yet",
        to_field_name="public_id",
    )
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)

    def __init__(self, *args, organisation: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = organisation.teams.all()


class MembershipForm(forms.Form):
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(),
        required=False,
        empty_label="No team",
        to_field_name="public_id",
    )
    role = forms.ChoiceField(choices=Membership.Role.choices)

    def __init__(self, *args, organisation: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = organisation.teams.all()


class ProfileForm(forms.Form):
    display_name = forms.CharField(label="Your name", max_length=80, validators=[validate_one_line])

    time_zone = forms.ChoiceField(
        choices=TIME_ZONE_CHOICES,
        help_text="Dates and times in Rapport are shown in this time zone.",
    )


class MemberFilterForm(forms.Form):
    """Search and filters of the organisation page's member list: GET parameters, so a
    filtered list has a URL, works without JavaScript and survives a reload."""

    NO_TEAM = "none"
    ACTIVE_CHOICES = [("", "Everyone"), ("yes", "Can sign in"), ("no", "Deactivated")]

    q = forms.CharField(
        label="Search by name or email",
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    team = forms.ChoiceField(label="In team", required=False)
    role = forms.ChoiceField(
        label="With role", required=False, choices=[("", "Any role"), *Membership.Role.choices]
    )
    active = forms.ChoiceField(label="Sign-in", required=False, choices=ACTIVE_CHOICES)

    def __init__(self, *args, teams, **kwargs):
        # Its own ids: the page's other forms have team and role fields too.
        super().__init__(*args, auto_id="members-%s", **kwargs)
        self.teams = {str(team.public_id): team for team in teams}
        self.fields["team"].choices = [
            ("", "All teams"),
            (self.NO_TEAM, "No team"),
            *((key, team.name) for key, team in self.teams.items()),
        ]

    def filters(self) -> dict:
        """The valid filters as keyword arguments for `organisation_members`; a value
        that is not valid (an old team's link, say) is left out and explained."""
        self.is_valid()
        data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        team = data.get("team", "")
        active = data.get("active", "")
        return {
            "search": " ".join(data.get("q", "").split()),
            "team": self.teams.get(team),
            "no_team": team == self.NO_TEAM,
            "role": data.get("role", ""),
            "active": {"yes": True, "no": False}.get(active),
        }


# A pasted list or an uploaded CSV of people to invite: at most this many lines and bytes.
BULK_MAX_LINES = 200
BULK_MAX_BYTES = 256 * 1024


class BulkInvitationForm(forms.Form):
    addresses = forms.CharField(
        label="Addresses, one a line",
        required=False,
        max_length=BULK_MAX_BYTES,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text=(
            "An address, “Name <address>”, or “name, address, team” on each line. "
            "You'll see every line checked before anything is sent."
        ),
    )
    csv_file = forms.FileField(
        label="Or upload a CSV file",
        required=False,
        help_text="Columns: name, email, team (a header row is optional). At most 256 KB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    team = forms.ModelChoiceField(
        label="Team for lines without one",
        queryset=Team.objects.none(),
        required=False,
        empty_label="No team",
        to_field_name="public_id",
    )
    # Not required: the organisation page's short form leaves team and role to the preview.
    role = forms.ChoiceField(
        choices=Membership.Role.choices, initial=Membership.Role.MEMBER, required=False
    )

    def __init__(self, *args, organisation: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = organisation.teams.all()

    def clean_role(self):
        return self.cleaned_data["role"] or Membership.Role.MEMBER

    def clean(self):
        cleaned = super().clean()
        upload, text = cleaned.get("csv_file"), cleaned.get("addresses") or ""
        if self.errors:
            return cleaned
        try:
            if upload:
                if upload.size > BULK_MAX_BYTES:
                    raise BulkInputError(
                        f"The file is {upload.size // 1024} KB; at most 256 KB can be read at "
                        f"once. Split it into files of up to {BULK_MAX_LINES} people."
                    )
                cleaned["rows"] = bulk_rows_from_csv(upload.read(BULK_MAX_BYTES + 1))
            elif text.strip():
                cleaned["rows"] = bulk_rows_from_text(text)
            else:
                raise BulkInputError("Paste at least one address, or choose a CSV file.")
        except BulkInputError as error:
            self.add_error("csv_file" if upload else "addresses", str(error))
            return cleaned
        if len(cleaned["rows"]) > BULK_MAX_LINES:
            self.add_error(
                "csv_file" if upload else "addresses",
                f"That is {len(cleaned['rows'])} lines; at most {BULK_MAX_LINES} can be invited "
                "at once. Split the list and send it in parts.",
            )
        return cleaned


class BulkSendForm(forms.Form):
    """The preview's confirmation: the checked lines, as text, and the choices made. The
    lines are checked again when sent."""

    rows = forms.CharField(max_length=BULK_MAX_BYTES, strip=False)
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, to_field_name="public_id"
    )
    role = forms.ChoiceField(choices=Membership.Role.choices)

    def __init__(self, *args, organisation: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = organisation.teams.all()

    def clean_rows(self):
        rows = self.cleaned_data["rows"]
        # The preview allows at most this many; a hand-made send may not bring more.
        if len([line for line in rows.splitlines() if line.strip()]) > BULK_MAX_LINES:
            raise forms.ValidationError(f"At most {BULK_MAX_LINES} people can be invited at once.")
        return rows


class AddPasskeyForm(AddWebAuthnForm):
    """allauth's form for adding a passkey, in Rapport's words. A passkey added here
    signs in without a password unless the person unticks it (allauth's default is off,
    which makes a key only a second factor)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].help_text = "To tell your passkeys apart, like “Work laptop”."
        if "passwordless" in self.fields:
            passwordless = self.fields["passwordless"]
            passwordless.label = "Use it to sign in without a password"
            passwordless.help_text = "Your device asks for your fingerprint, face or PIN."
            passwordless.initial = True
