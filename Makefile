# OpsTeam: `make run` runs the whole product, `make test` runs every test. Both need only Python 3.11.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint check test-fast test-integration test-faults test-browser messages clean bench bench-scale bench-peak

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

## The product on this machine: SQLite, a filesystem broker, web + worker + beat, demo team loaded.
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_playbook
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py load_demo_duties
	$(BIN)/python manage.py load_demo_history
	$(BIN)/python manage.py run_jobs --job generate_checklists --job generate_duties --job escalate --job create_meetings
	@echo ""
	@echo "OpsTeam is starting on http://127.0.0.1:$${OPSTEAM_PORT:-8000}/  (Ctrl-C stops web, worker and beat)"
	@echo "Log in as director / opsteam-demo (more logins above and in README.md)"
	@echo ""
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/honcho start -f Procfile

## Everything CI checks: lint, Django checks, migrations, the fast tier, the integration tier, the faults tier, the browser tier.
test: install lint check test-fast test-integration test-faults test-browser

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check: install messages
	DJANGO_SETTINGS_MODULE=opsteam.settings.test $(BIN)/python manage.py check --fail-level WARNING
	DJANGO_SETTINGS_MODULE=opsteam.settings.test $(BIN)/python manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=opsteam.settings.test $(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null

test-fast: install
	$(BIN)/pytest tests --ignore=tests/integration --ignore=tests/browser --ignore=tests/faults -q

test-integration: install
	$(BIN)/pytest tests/integration -q -p no:cacheprovider --ds=opsteam.settings.integration

## Faults (issue 7): private PostgreSQL and Redis stopped and restarted, workers killed, two beats. ~2-4 minutes.
test-faults: install
	$(BIN)/pytest tests/faults -q -p no:cacheprovider --ds=opsteam.settings.integration

test-browser: install
	$(BIN)/pytest tests/browser -q

## Performance (issue 8), not part of `make test`: PostgreSQL and Redis on 127.0.0.1 (its own database
## opsteam_bench, Redis database 10); prints the table and writes bench/results.json. 2-3 minutes on 2 cores (limit 10); HTTP load by wrk when installed.
bench: install
	$(BIN)/python -m bench.run

## The cost curve (issue 22), not part of `make test`: 1,000, 10,000 and 100,000 members, each size against its own
## reference; its own database opsteam_bench_scale and Redis database 6. Writes bench/scale-results.json and
## bench/scale.png. About 10 minutes on 2 cores (limit 20). See docs/performance.md.
bench-scale: install
	$(BIN)/python -m bench.scale

## The morning peak (issue 22): 2,000 members' phones against gunicorn while the worker generates and sweeps;
## p50/p95/p99 per request, errors, every tick recorded once. 10 minutes of load (PEAK_ARGS="--seconds 300" to change); its own
## database opsteam_bench_peak, Redis database 6 as bench-scale (run them one after the other). Writes bench/peak-results.json.
bench-peak: install
	$(BIN)/python -m bench.peak $(PEAK_ARGS)

## Translations: compile locale/*/LC_MESSAGES/*.po (needs gettext's msgfmt).
messages:
	@command -v msgfmt >/dev/null || { echo "msgfmt not found: install gettext (apt-get install gettext)"; exit 1; }
	$(BIN)/python manage.py compilemessages --ignore=.venv -v0

clean:
	rm -rf $(VENV) var
