"""python -m tests.partners.oidc_provider PORT: migrate a fresh database, add the people
in IDP_PEOPLE, and serve until killed."""

import os
import sys

import django


def main() -> None:
    port = int(sys.argv[1])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.partners.oidc_provider.settings")
    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.core.servers.basehttp import WSGIServer, run
    from django.core.wsgi import get_wsgi_application

    call_command("migrate", verbosity=0)
    for person in settings.PEOPLE:
        User.objects.create_user(person["username"], person["email"], person["password"])
    run("127.0.0.1", port, get_wsgi_application(), threading=True, server_cls=WSGIServer)


if __name__ == "__main__":
    main()
