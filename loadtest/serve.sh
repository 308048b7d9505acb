#!/usr/bin/env bash
# Serve Rapport on 127.0.0.1:8010 with production settings (DEBUG off, persistent
# connections) against the PostgreSQL database in DATABASE_URL, for the load and
# fault tests. Plain HTTP on loopback: SECURE_SSL_REDIRECT and SECURE_COOKIES are off.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE=config.settings.production
export SECRET_KEY="${SECRET_KEY:-loadtest-only-$(python3 -c 'import secrets; print(secrets.token_urlsafe(40))')}"
export ALLOWED_HOSTS=127.0.0.1,localhost
export SECURE_SSL_REDIRECT=false SECURE_COOKIES=false
export RAPPORT_ENCRYPTION_KEYS="${RAPPORT_ENCRYPTION_KEYS:-ZGV2ZWxvcG1lbnQtb25seS1ub3Qtc2VjcmV0LWtleSE=}"
uv run manage.py collectstatic --noinput -v0
exec uv run gunicorn config.wsgi --bind 127.0.0.1:8010 --workers "${WEB_CONCURRENCY:-3}" \
  --access-logfile /dev/null --error-logfile - --graceful-timeout 5
