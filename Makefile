# hwr: `make run` serves the app, `make test` runs the whole test suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run serve test migrate train-all bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.web: $(VENV)/bin/python requirements.txt
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/bin/python requirements.txt requirements-ml.txt requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.web $@

/usr/bin/chromium /usr/bin/wrk:
	apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(notdir $@)

migrate: $(VENV)/.web
	$(PY) manage.py migrate --noinput

## Development server with the bundled models, SQLite by default.
run: migrate
	$(PY) manage.py runserver $(HOST):$(PORT)

## Production-style server: gunicorn gthread workers (WORKERS x THREADS, from the environment,
## .env or `make serve WORKERS=4`; see hwrsite/gunicorn_conf.py) + whitenoise.
serve: migrate
	$(PY) manage.py collectstatic --noinput
	HWR_BIND=$(HOST):$(PORT) $(VENV)/bin/gunicorn -c python:hwrsite.gunicorn_conf

test: $(VENV)/.dev /usr/bin/chromium
	$(PY) -m pytest

## Retrain the three bundled models from the datasets (see ml/RESULTS.md for timings).
train-all: $(VENV)/.dev
	$(PY) manage.py train --model digit
	$(PY) manage.py train --model letter
	$(PY) manage.py train --model any

bench: $(VENV)/.dev /usr/bin/wrk
	$(PY) bench/predict.py

clean:
	rm -rf $(VENV) staticfiles test-artifacts
