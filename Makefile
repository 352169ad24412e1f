# tidetrace — `make demo` and `make test` work on a fresh machine (Debian, run as root).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements/lock.txt
STAMP := $(VENV)/.installed

# Debian packages: OCR (eng, chi_sim, kor), PostgreSQL for the backend tests, Chromium for
# browser tests, CJK fonts for rendering, ICU headers for pyicu, ffmpeg for video evidence.
APT_RUNTIME := libicu-dev pkg-config g++ tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim \
	tesseract-ocr-kor fonts-noto-cjk fonts-wqy-zenhei
APT_TEST := $(APT_RUNTIME) postgresql chromium ffmpeg openssl

.PHONY: demo test lint bench apt-runtime apt-test venv clean lock format

demo: apt-runtime venv
	$(BIN)/tidetrace demo --home tidetrace-demo

test: apt-test venv
	$(BIN)/pytest -q

lint: venv
	$(BIN)/ruff check tidetrace tests bench
	$(BIN)/ruff format --check tidetrace tests bench
	$(BIN)/mypy

format: venv
	$(BIN)/ruff format tidetrace tests bench
	$(BIN)/ruff check --fix tidetrace tests bench

bench: apt-test venv
	$(BIN)/python -m bench.run

venv: $(STAMP)

$(STAMP): $(LOCK) requirements/bootstrap.txt pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --require-hashes -r requirements/bootstrap.txt
	$(BIN)/uv pip sync -q --python $(BIN)/python --require-hashes $(LOCK)
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

# Regenerate the lock (with hashes) after changing dependencies in pyproject.toml.
lock:
	$(BIN)/uv pip compile pyproject.toml --extra all --python-version 3.11 --generate-hashes -o $(LOCK)

apt-runtime:
	@bash scripts/apt-ensure.sh $(APT_RUNTIME)

apt-test:
	@bash scripts/apt-ensure.sh $(APT_TEST)

clean:
	rm -rf $(VENV) tidetrace-demo .pytest_cache .mypy_cache .ruff_cache
