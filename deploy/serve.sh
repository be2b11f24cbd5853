#!/usr/bin/env bash
# One portal process (uvicorn, lifespan on): what `make run-scaled` starts PROCESSES times and
# what the container image runs. HOST and PORT say where it listens; UVICORN_FLAGS as the
# Makefile's. uvicorn rewrites no client address (--no-proxy-headers): the portal reads
# X-Forwarded-For itself, from the proxies DJANGO_TRUSTED_PROXIES lists.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${HOST:=127.0.0.1}" "${PORT:=8000}"
: "${UVICORN_FLAGS:=--lifespan on --backlog 4096 --ws-max-size 1048576 --timeout-graceful-shutdown 30 --no-proxy-headers}"
# shellcheck disable=SC2086  # the flags are words
exec .venv/bin/uvicorn supervision.asgi:application --host "$HOST" --port "$PORT" \
    $UVICORN_FLAGS
