#!/usr/bin/env bash
# `make run-scaled`: PROCESSES portal processes behind nginx on 127.0.0.1:PORT, sharing
# PostgreSQL (DATABASE_URL) and Redis (REDIS_URL). Ctrl-C (or SIGTERM) stops everything
# cleanly: each process writes the message-log rows it still holds before it exits.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${PROCESSES:?}" "${PORT:?}" "${DATABASE_URL:?}" "${REDIS_URL:?}" "${UVICORN_FLAGS:?}"
BIN=.venv/bin
case "$DATABASE_URL" in postgres*) ;; *) echo "run-scaled needs a PostgreSQL DATABASE_URL" >&2; exit 2;; esac
# A trial on one machine: unless one is given, a secret key of this run's own, shared by its
# processes (the settings refuse to start on PostgreSQL without one; sign-ins end with the run).
if [ -z "${DJANGO_SECRET_KEY:-}" ]; then
    DJANGO_SECRET_KEY=$("$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(50))')
fi
export DJANGO_SECRET_KEY
# nginx, on this machine, says who the client is (X-Forwarded-For) and how it came.
export DJANGO_TRUSTED_PROXIES="${DJANGO_TRUSTED_PROXIES:-127.0.0.1}"

if ! command -v nginx >/dev/null; then
    echo "== installing nginx (Debian package)"
    apt-get install -y -q --no-install-recommends nginx >/dev/null
fi
ulimit -n "$(ulimit -Hn)"  # thousands of stations: two sockets each through nginx

# The database itself, once (migrate creates the tables, not the database).
"$BIN/python" - <<'PY'
import os, urllib.parse, psycopg
url = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
name = url.path.lstrip("/")
with psycopg.connect(url._replace(path="/postgres").geturl(), autocommit=True) as connection:
    if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
        connection.execute(f'CREATE DATABASE "{name}"')
PY
"$BIN/python" manage.py migrate --noinput
"$BIN/python" manage.py collectstatic --noinput --verbosity 0
"$BIN/python" manage.py seed_demo

prefix=$(mktemp -d -t run-scaled-XXXX)
pids=()
stop() {
    trap - INT TERM EXIT
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
    rm -rf "$prefix"
}
trap stop INT TERM EXIT

ports=()
for number in $(seq 1 "$PROCESSES"); do
    port=$((PORT + number))
    # shellcheck disable=SC2086  # the flags are words
    "$BIN/uvicorn" supervision.asgi:application --host 127.0.0.1 --port "$port" \
        $UVICORN_FLAGS &
    pids+=($!)
    ports+=("$port")
done
"$BIN/python" deploy/nginx_conf.py "$prefix" "$PORT" "${ports[@]}"
echo "Portal: http://127.0.0.1:$PORT/admin/   OCPP: ws://127.0.0.1:$PORT/ocpp/<charge_point_id>"
echo "($PROCESSES processes on ports $((PORT + 1))-$((PORT + PROCESSES)), nginx in front; Ctrl-C stops)"
nginx -p "$prefix" -c "$prefix/nginx.conf" -e stderr &
pids+=($!)
wait -n "${pids[@]}"  # any of them ending ends the whole
