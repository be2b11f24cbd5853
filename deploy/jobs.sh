#!/usr/bin/env bash
# The scheduled jobs' worker, for portal processes started with JOBS_IN_SERVER=false
# (`make run-scaled`, compose.yaml): see supervision/jobs.py. SIGTERM stops it cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python manage.py run_jobs
