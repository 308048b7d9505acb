"""The benchmark's settings: production's, plus the baseline view's URL and a
per-request query count. Never used to serve Rapport itself."""

from config.settings.production import *  # noqa: F403
from config.settings.production import INSTALLED_APPS, MIDDLEWARE

INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
ROOT_URLCONF = "bench.urls"
# Outermost, so it counts every query of the request, the session's and the user's too.
MIDDLEWARE = ["bench.middleware.count_queries", *MIDDLEWARE]
