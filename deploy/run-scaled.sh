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

"deploy/prepare.sh"
"$BIN/python" manage.py seed_demo

prefix=$(mktemp -d -t run-scaled-XXXX)
# The processes' metrics, in files one of them reads for all (/metrics); new at each start.
export PROMETHEUS_MULTIPROC_DIR="$prefix/metrics"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
pids=()
stop() {
    trap - INT TERM EXIT
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
    rm -rf "$prefix"
}
trap stop INT TERM EXIT

# The scheduled jobs run in a worker of their own, not in the portal processes.
export JOBS_IN_SERVER=false
deploy/jobs.sh &
pids+=($!)
ports=()
for number in $(seq 1 "$PROCESSES"); do
    port=$((PORT + number))
    HOST=127.0.0.1 PORT="$port" deploy/serve.sh &
    pids+=($!)
    ports+=("$port")
done
"$BIN/python" deploy/nginx_conf.py "$prefix" "$PORT" "${ports[@]}"
echo "Portal: http://127.0.0.1:$PORT/admin/   OCPP: ws://127.0.0.1:$PORT/ocpp/<charge_point_id>"
echo "($PROCESSES processes on ports $((PORT + 1))-$((PORT + PROCESSES)), nginx in front, a jobs worker; Ctrl-C stops)"
nginx -p "$prefix" -c "$prefix/nginx.conf" -e stderr &
pids+=($!)
wait -n "${pids[@]}"  # any of them ending ends the whole
