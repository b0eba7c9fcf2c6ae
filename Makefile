# The two commands: `make run` and `make test`. Everything else is a step of theirs.
SHELL := /bin/bash
.DEFAULT_GOAL := run

HOST ?= 127.0.0.1
PORT ?= 8000
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
VAR := var
SECRET_FILE := $(VAR)/secret-key
# The server's VAPID key pair for Web Push (chat/notifications/vapid.py), made once.
VAPID_FILE := $(VAR)/vapid-private-key
# VAPID_PRIVATE_KEY and VAPID_PUBLIC_KEY from the environment when set there, else var/'s pair.
VAPID_ENV := if [ -z "$${VAPID_PRIVATE_KEY:-}" ]; then export VAPID_PRIVATE_KEY="$$(cat ../$(VAR)/vapid-private-key)" \
	  VAPID_PUBLIC_KEY="$$(cat ../$(VAR)/vapid-public-key)"; fi
FRONTEND_SOURCES := $(shell find frontend/src frontend/index.html -type f 2>/dev/null) vite.config.js tsconfig.json

.PHONY: run test install install-test build migrate test-backend test-frontend test-browser chromium test-packages dev clean bench bench-scale screenshots

# ---- install ---------------------------------------------------------------

# Two stamps: what running needs (`make run`), and the test extra on top of it
# (`make test`). Each is redone only when pyproject.toml changes; a `make run`
# after a `make test` finds both up to date and installs nothing.
$(VENV)/.installed-run: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed-run
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed-run node_modules/.installed

install-test: install $(VENV)/.installed-test

# ---- build -----------------------------------------------------------------

frontend/dist/.vite/manifest.json: node_modules/.installed $(FRONTEND_SOURCES)
	npm run build --silent

build: frontend/dist/.vite/manifest.json

$(SECRET_FILE):
	mkdir -p $(VAR)
	$(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))' > $@
	chmod 600 $@

# Order-only on the install: a new pyproject.toml must not make a new pair
# (every browser's subscription is bound to the public key).
$(VAPID_FILE): | $(VENV)/.installed-run
	cd backend && ../$(PY) -m chat.notifications.vapid ../$(VAR)

migrate: $(VENV)/.installed-run $(SECRET_FILE)
	mkdir -p $(VAR)
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-$$(cat $(SECRET_FILE))} $(PY) backend/manage.py migrate --noinput

# ---- run -------------------------------------------------------------------

# chat.serve is Daphne with our server class (backend/chat/transport.py).
run: install build migrate $(VAPID_FILE)
	cd backend && $(VAPID_ENV); DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-$$(cat ../$(SECRET_FILE))} \
	  exec ../$(PY) -m chat.serve --bind $(HOST) --port $(PORT)

# Daphne with DEBUG on and DEV_ORIGINS for the Vite dev server; run `npm run dev`
# beside it (with the same VITE_PORT, and VITE_HTTP_BASE when PORT is not 8000).
VITE_PORT ?= 5173
dev: install migrate $(VAPID_FILE)
	cd backend && $(VAPID_ENV); DEBUG=1 DEV_ORIGINS=$${DEV_ORIGINS:-http://localhost:$(VITE_PORT),http://127.0.0.1:$(VITE_PORT)} \
	  VITE_DEV_SERVER_PORT=$${VITE_DEV_SERVER_PORT:-$(VITE_PORT)} \
	  exec ../$(PY) -m chat.serve --bind $(HOST) --port $(PORT)

# ---- test ------------------------------------------------------------------

# Debian's packages for the tests: Chromium for the browser tests (test tools
# cannot download browsers here), nginx for the production-shape proxy test,
# redis-server for the tests that start, stop and restart a Redis of their own.
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

test-packages:
	@missing=""; \
	{ command -v nginx || test -x /usr/sbin/nginx; } >/dev/null || missing="$$missing nginx"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	if [ -n "$$missing" ]; then apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; fi

# In BACKEND_WORKERS processes (pytest-xdist), a module to a process, so a
# module's servers start once: most of a test's time is spent waiting on the
# Daphne, Redis and PostgreSQL processes it talks to. Each worker starts its own
# servers on free ports with databases of its own.
BACKEND_WORKERS ?= 2
test-backend: install-test build test-packages
	$(VENV)/bin/pytest -q -n $(BACKEND_WORKERS) --dist loadscope backend

test-frontend: install-test
	npm run typecheck
	npm run lint
	npm test

test-browser: install-test build chromium
	npm run test:browser

# Once everything is installed and built: the backend and frontend suites at
# once, then the browser suite. They share no port and no database (each test
# starts its servers on free ports, with databases of its own). All three at
# once took the longest suite's time on a fast machine; on one about three times
# slower, the browser suite and the backend's two workers
# starved each other (a request the app gave up on after 10 s, a drain or a
# reconnect seconds late) and took 12.5 minutes, where this order took 13 and
# passed. Each suite's output is printed whole when it ends.
test: install-test build test-packages chromium
	$(MAKE) --no-print-directory -j2 --output-sync=target test-backend test-frontend
	$(MAKE) --no-print-directory test-browser

# The README's pictures (docs/screenshots/): two people chat in Chromium, light,
# dark and phone. A color emoji font, so the pictures show the reactions' emoji as
# people's own systems do (Chromium from Debian has none).
screenshots: install-test build chromium
	@test -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf || { apt-get update -qq && apt-get install -y -qq fonts-noto-color-emoji >/dev/null; }
	npm run screenshots

# ---- bench -----------------------------------------------------------------

# bench/README.md's harness: ours against the Channels tutorial design and
# python-socketio, interleaved, two repetitions (about half an hour); keep other
# load off the machine meanwhile. Prints the tables; raw lines in bench/results/raw/.
BENCH_ARGS ?= --targets tutorial,socketio,project --scenarios s1,s2,s4,s3,s5 --reps 2
bench: install-test build
	bash bench/setup.sh
	cd bench && BENCH_PROJECT=$(CURDIR) bash run.sh $(BENCH_ARGS)

# docs/deploy.md's simulation: 4 Daphne processes over 2 Redis servers, 10,000
# sockets, then 1 process on 1 Redis at 2,500 (about 6 minutes; SCALE_ARGS to
# change, e.g. SCALE_ARGS="--sockets 400 --rooms 20 --rate 8 --compare-sockets 100").
bench-scale: install-test build test-packages
	cd bench/loadgen && npm ci --no-audit --no-fund
	$(VENV)/bin/python bench/scale.py $(SCALE_ARGS)

clean:
	rm -rf $(VENV) node_modules frontend/dist $(VAR)/staticfiles
