#!/usr/bin/env bash
# Once per deployment, before the portal processes start: the PostgreSQL database if it is
# missing (migrate creates the tables, not the database), the migrations, the static files.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
case "${DATABASE_URL:-}" in
postgres*)
    "$BIN/python" - <<'PY'
import os, urllib.parse, psycopg
url = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
name = url.path.lstrip("/")
with psycopg.connect(url._replace(path="/postgres").geturl(), autocommit=True) as connection:
    if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
        connection.execute(f'CREATE DATABASE "{name}"')
PY
    ;;
esac
"$BIN/python" manage.py migrate --noinput
"$BIN/python" manage.py collectstatic --noinput --verbosity 0
