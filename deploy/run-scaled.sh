#!/usr/bin/env bash
# `make run-scaled`: PROCESSES portal processes behind nginx on 127.0.0.1:PORT, sharing
# PostgreSQL (DATABASE_URL) and Redis (REDIS_URL). Ctrl-C (or SIGTERM) stops everything
# cleanly: each process writes the message-log rows it still holds before it exits.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${PROCESSES:?}" "${PORT:?}" "${DATABASE_URL:?}" "${REDIS_URL:?}" "${UVICORN_FLAGS:?}"
BIN=.venv/bin
case "$DATABASE_URL" in postgres*) ;; *) echo "run-scaled needs a PostgreSQL DATABASE_URL" >&2; exit 2;; esac

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
upstreams=""
for number in $(seq 1 "$PROCESSES"); do
    port=$((PORT + number))
    HOST=127.0.0.1 PORT="$port" deploy/serve.sh &
    pids+=($!)
    upstreams+="        server 127.0.0.1:${port} max_fails=3 fail_timeout=10s;"$'\n'
done
mkdir -p "$prefix"/{client_body,proxy,fastcgi,uwsgi,scgi}
python3 - "$prefix" "$PORT" "$upstreams" <<'PY'
import os, sys
prefix, port, upstreams = sys.argv[1:]
text = open("deploy/nginx.conf.template").read()
text = text.replace("@PREFIX@", prefix).replace("@PORT@", port).replace("@UPSTREAMS@", upstreams)
text = text.replace("@DEPLOY@", os.path.abspath("deploy"))
open(f"{prefix}/nginx.conf", "w").write(text)
PY
echo "Portal: http://127.0.0.1:$PORT/admin/   OCPP: ws://127.0.0.1:$PORT/ocpp/<charge_point_id>"
echo "($PROCESSES processes on ports $((PORT + 1))-$((PORT + PROCESSES)), nginx in front, a jobs worker; Ctrl-C stops)"
nginx -p "$prefix" -c "$prefix/nginx.conf" -e stderr &
pids+=($!)
wait -n "${pids[@]}"  # any of them ending ends the whole
