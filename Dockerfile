FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PATH="/app/.venv/bin:$PATH" \
    DJANGO_SETTINGS_MODULE=config.settings.production

# xmlsec1 (SAML's signature library, with its command line for checking a provider's
# signed metadata or assertion by hand). Python's xmlsec binding uses its wheel's own
# build of it; the check after `uv sync` fails the image if that build and lxml's
# libxml2 disagree, which would break every SAML sign-in.
RUN apt-get update \
    && apt-get install -y --no-install-recommends xmlsec1 \
    && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir uv && useradd --create-home --uid 1000 rapport
WORKDIR /app

COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project \
    && python -c "import xmlsec, lxml.etree; from onelogin.saml2.auth import OneLogin_Saml2_Auth"

COPY . .
# collectstatic needs settings to load; these values exist only during the build.
RUN SECRET_KEY=build-only ALLOWED_HOSTS=build RAPPORT_ENCRYPTION_KEYS=YnVpbGQtb25seS1ub3QtYS1yZWFsLWtleS0wMDAwMDA= \
    python manage.py collectstatic --noinput \
    && chown -R rapport /app

USER rapport
EXPOSE 8000
# Migrations (and the cache table) as the tables' owner, DATABASE_OWNER_URL, the key
# store's too (RAPPORT_KEYS_DATABASE_OWNER_URL when it has a URL of its own); then the app
# serves as DATABASE_URL's role, which owns nothing (privacy/rls.py).
CMD ["sh", "-c", "DATABASE_URL=${DATABASE_OWNER_URL:-$DATABASE_URL} python manage.py migrate --noinput && DATABASE_URL=${DATABASE_OWNER_URL:-$DATABASE_URL} RAPPORT_KEYS_DATABASE_URL=${RAPPORT_KEYS_DATABASE_OWNER_URL:-${RAPPORT_KEYS_DATABASE_URL:-}} python manage.py migrate --database keys --noinput && DATABASE_URL=${DATABASE_OWNER_URL:-$DATABASE_URL} python manage.py createcachetable && exec gunicorn config.wsgi --bind 0.0.0.0:8000 --workers ${WEB_CONCURRENCY:-3} --access-logfile - --forwarded-allow-ips='*'"]
