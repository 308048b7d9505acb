#!/bin/sh
# Run once by the postgres image when it creates the database (docker-entrypoint-initdb.d).
# POSTGRES_USER owns the tables and runs the migrations; the web app, the worker and the
# scheduler log in as rapport_app, which owns nothing and cannot bypass row-level
# security; HR's pages read through rapport_hr (privacy/rls.py). The key store, rapport_keys,
# is a database of its own beside rapport (config.routers; back it up apart, README).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v app_password="$RAPPORT_APP_DB_PASSWORD" <<'SQL'
CREATE ROLE rapport_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE
  PASSWORD :'app_password';
CREATE ROLE rapport_hr NOLOGIN NOBYPASSRLS;
CREATE DATABASE rapport_keys;
SQL
