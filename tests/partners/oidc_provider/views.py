from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.models import get_application_model
from oauth2_provider.oauth2_validators import OAuth2Validator


class Validator(OAuth2Validator):
    """The claims a company's provider gives: email, whether it verified it, a name."""

    def get_additional_claims(self, request):
        person = next(p for p in settings.PEOPLE if p["username"] == request.user.username)
        claims = {
            "email": person["email"],
            "email_verified": person.get("email_verified", True),
            "name": person.get("name", ""),
        }
        if claims["email_verified"] is None:  # a provider that does not say
            del claims["email_verified"]
        return claims


@csrf_exempt
def register_client(request):
    """Registers a client, as an administrator does in a real provider's console (the
    shape of OpenID Connect Dynamic Client Registration): the redirect URI is the one
    Rapport's organisation page shows."""
    import json

    body = json.loads(request.body)
    application = get_application_model().objects.create(
        name=body.get("client_name", "Rapport"),
        client_id=body["client_id"],
        client_secret=body["client_secret"],
        client_type="confidential",
        authorization_grant_type="authorization-code",
        redirect_uris=" ".join(body["redirect_uris"]),
        algorithm="RS256",
        skip_authorization=False,
        hash_client_secret=True,
    )
    return JsonResponse({"client_id": application.client_id}, status=201)
