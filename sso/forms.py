from django import forms


class OIDCForm(forms.Form):
    issuer = forms.URLField(
        label="Issuer URL",
        max_length=500,
        assume_scheme="https",
        help_text="Your provider's address, like https://login.example.com/realms/staff. "
        "Rapport reads its /.well-known/openid-configuration.",
    )
    client_id = forms.CharField(label="Client ID", max_length=255)
    client_secret = forms.CharField(
        label="Client secret",
        max_length=2000,
        required=False,
        strip=True,
        # Never sent back to the browser once saved.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, has_secret: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client_secret"].help_text = (
            "Saved encrypted and never shown again. Leave blank to keep the saved one."
            if has_secret
            else "Saved encrypted and never shown again."
        )


class CompanySignInForm(forms.Form):
    email = forms.EmailField(
        label="Work email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class SAMLForm(forms.Form):
    metadata_url = forms.URLField(
        label="Metadata URL",
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text="Your provider's (IdP) metadata address. Or paste the metadata below.",
    )
    metadata_xml = forms.CharField(
        label="Metadata XML",
        max_length=200_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The whole XML file your provider gives for Rapport.",
    )

    def clean(self):
        cleaned = super().clean()
        url, xml = cleaned.get("metadata_url"), (cleaned.get("metadata_xml") or "").strip()
        if self.errors:
            return cleaned
        if bool(url) == bool(xml):
            raise forms.ValidationError(
                "Give the metadata URL or paste the metadata: one of the two."
            )
        cleaned["metadata_xml"] = xml
        return cleaned
