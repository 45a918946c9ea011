# The commands a person types. `make run` and `make test` work on a fresh machine with Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# For commands that only need the settings to load (with DEBUG off they need a key): a random key made
# when the command runs, never stored (and throwaway ID-number keys). The tests get theirs from kernel/tests/secret_key_plugin.py.
THROWAWAY_KEY = SECRET_KEY_FILE= SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
  ID_NUMBER_KEYS="$$($(BIN)/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
  ID_NUMBER_HASH_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(32))')"

.PHONY: run test test-smoke lint format seed bench install clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: install
	DEBUG=1 $(MANAGE) migrate --noinput
	DEBUG=1 $(MANAGE) seed_demo
	@mkdir -p var/celery
	@echo "Portal: http://127.0.0.1:8000  (worker and beat log: var/celery/worker.log)"
	@trap 'kill 0' INT TERM EXIT; \
	  DEBUG=1 $(BIN)/celery -A practice_center worker --beat --loglevel=INFO --concurrency=2 \
	    --logfile=var/celery/worker.log & \
	  DEBUG=1 $(MANAGE) runserver 127.0.0.1:8000

# The suite runs on two worker processes (pytest-xdist), each with databases of its own.
TEST_WORKERS ?= 2

test: install
	$(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# The part of the suite that must also pass on the embedded default (SQLite, filesystem broker).
test-smoke: install
	env -u DATABASE_URL -u REDIS_URL $(BIN)/pytest -m smoke $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(THROWAWAY_KEY) $(MANAGE) makemigrations --check --dry-run

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

seed: install
	DEBUG=1 $(MANAGE) migrate --noinput
	DEBUG=1 $(MANAGE) seed_demo

bench: install
	@export $(THROWAWAY_KEY); for script in bench/[!_]*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache test-results
