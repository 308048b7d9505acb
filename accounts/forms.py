from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms

from accounts.models import (
    MIN_ANONYMITY_THRESHOLD,
    TIME_ZONE_CHOICES,
    Invitation,
    Membership,
    Organisation,
    Team,
)
from accounts.services import invitation_accept, organisation_create


class SignupForm(AllauthSignupForm):
    """allauth's sign-up, plus a name and either an invitation or a new organisation."""

    display_name = forms.CharField(
        label="Your name",
        max_length=80,
        help_text="How you appear to the people you coach or are coached by.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    organisation_name = forms.CharField(
        label="Organisation name",
        max_length=120,
        help_text="You'll be its HR admin and can invite your colleagues.",
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    field_order = ["display_name", "email", "organisation_name", "password1", "password2"]

    def __init__(self, *args, invitation: Invitation | None = None, **kwargs):
        self.invitation = invitation
        super().__init__(*args, **kwargs)
        if invitation is not None:
            del self.fields["organisation_name"]
            self.fields[
                "email"
            ].help_text = f"Your invitation to {invitation.organisation} was sent to this address."

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
        fields = ["name", "anonymity_threshold"]
        error_messages = {
            "anonymity_threshold": {
                "min_value": (
                    f"The minimum group size can't be below {MIN_ANONYMITY_THRESHOLD}: "
                    "smaller groups could reveal one person's answers."
                ),
            }
        }


class TeamForm(forms.Form):
    name = forms.CharField(label="Team name", max_length=80)


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
    display_name = forms.CharField(label="Your name", max_length=80)
    time_zone = forms.ChoiceField(
        choices=TIME_ZONE_CHOICES,
        help_text="Dates and times in Rapport are shown in this time zone.",
    )
