# `make run` and `make test` are the contract with every newcomer: they work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# How the portal is served, by `make run`, `make run-scaled` and `make bench` alike: a listen
# backlog for boot storms (thousands of stations reconnecting at once), frames cut by the
# server past 1 MiB (the gateway logs and refuses those over OCPP_MAX_FRAME_BYTES itself), a
# bounded clean stop; and the client's address left as the socket's (the portal itself reads
# X-Forwarded-For, from DJANGO_TRUSTED_PROXIES only: uvicorn would believe any local client).
UVICORN_FLAGS ?= --lifespan on --backlog 4096 --ws-max-size 1048576 --timeout-graceful-shutdown 30 --no-proxy-headers
# `make run-scaled`: this many processes behind nginx, on PostgreSQL + Redis.
PROCESSES ?= $(shell nproc)
# `make bench STATIONS=500` for a quick run, `STATIONS=10000` for the big one (bench/README.md);
# scenario 6 needs PostgreSQL and Redis on 127.0.0.1 (a throwaway database is created there and
# dropped). The table is also written as JSON to BENCH_JSON.
STATIONS ?= 5000
BENCH_JSON ?= bench-results.json
BENCH_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/postgres
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/15
BENCH_ARGS ?=

.PHONY: run run-scaled test lint format messages clean bench

# Running needs requirements.txt; testing and the tools, requirements-dev.txt (which has it).
$(BIN)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(BIN)/.installed-dev: $(BIN)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

run: $(BIN)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@# The demo admin login exists only in the embedded default (no DATABASE_URL).
	$(BIN)/python manage.py seed_demo $(if $(DATABASE_URL),,--with-admin)
	@echo "Portal: http://127.0.0.1:$(PORT)/   Admin: http://127.0.0.1:$(PORT)/admin/   OCPP: ws://127.0.0.1:$(PORT)/ocpp/<charge_point_id>"
	$(BIN)/uvicorn supervision.asgi:application --host 127.0.0.1 --port $(PORT) $(UVICORN_FLAGS)

# Several processes behind nginx on PORT, sharing PostgreSQL and Redis (README, "Running at
# scale"); DATABASE_URL and REDIS_URL default to local servers.
run-scaled: $(BIN)/.installed
	PROCESSES=$(PROCESSES) PORT=$(PORT) UVICORN_FLAGS="$(UVICORN_FLAGS)" \
	DATABASE_URL="$(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/supervision)" \
	REDIS_URL="$(or $(REDIS_URL),redis://127.0.0.1:6379/0)" deploy/run-scaled.sh

# Every scenario against the portal and the reference server, same run; see bench/README.md.
# A socket per station on each side (the generator's and the server's): 10,000 stations need
# more than 10,000 descriptors per process.
bench: $(BIN)/.installed-dev
	ulimit -n 20000 && $(BIN)/python -m bench.run --stations $(STATIONS) \
		--uvicorn-flags "$(UVICORN_FLAGS)" --postgres "$(BENCH_POSTGRES_URL)" \
		--redis "$(BENCH_REDIS_URL)" --json "$(BENCH_JSON)" $(BENCH_ARGS)

test: $(BIN)/.installed-dev
	$(BIN)/python -m pytest

lint: $(BIN)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/hadolint Dockerfile

format: $(BIN)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Needs GNU gettext (apt-get install gettext); the compiled catalogue is committed.
messages: $(BIN)/.installed-dev
	$(BIN)/python manage.py makemessages --locale fr --ignore ".venv/*"
	$(BIN)/python manage.py compilemessages --ignore ".venv/*"

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .pytest-db.sqlite3*
