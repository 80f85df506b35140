# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
HOST    ?= 127.0.0.1
PORT    ?= 5000

.PHONY: demo test install lint bench clean frontend frontend-test chromium

NODE_OK := $(shell node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' 2>/dev/null && echo yes)
CHROMIUM ?= /usr/bin/chromium

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install frontend
	$(VENV)/bin/metacrm demo --host $(HOST) --port $(PORT)

# The web app: built into frontend/dist, which the server serves at /. Needs Node.js 20+.
frontend:
ifeq ($(NODE_OK),yes)
	cd frontend && npm ci --no-audit --no-fund && npm run build
else
	@echo "*** Node.js 20 or newer is missing: the web app is NOT built; the server will show a page"
	@echo "*** saying so (the API works). Install Node.js (Debian: apt-get install -y nodejs npm), then"
	@echo "*** run: cd frontend && npm ci && npm run build"
endif

frontend-test: frontend
ifeq ($(NODE_OK),yes)
	cd frontend && npm test
else
	@echo "*** Node.js 20 or newer is missing: the web app's unit tests (Vitest) are SKIPPED"
endif

# Browser tests drive Debian's chromium (never a downloaded browser) with a CJK font (screenshots of
# the Chinese UI): install them when missing and root; otherwise tests/e2e skip with the reason
# (fail when METACRM_REQUIRE_SERVICES=1).
CJK_FONT ?= /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
chromium:
	@if [ ! -x $(CHROMIUM) ] || [ ! -f $(CJK_FONT) ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    (apt-get install -y -q chromium fonts-wqy-zenhei >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q chromium fonts-wqy-zenhei >/dev/null)) \
	      && echo "installed Debian chromium and a CJK font" || echo "*** could not install chromium: browser tests will skip"; \
	  else echo "*** $(CHROMIUM) or a CJK font is missing and this is not root: browser tests (tests/e2e) may skip"; fi; \
	fi

lint: install
	$(VENV)/bin/ruff check platform tests bench
	$(VENV)/bin/lint-imports

# Two workers (the machine has 2 cores); one test file stays on one worker (shared module fixtures).
test: lint frontend-test chromium
	$(PY) -m pytest -n 2 --dist loadfile --durations=30

bench: install
	$(PY) bench/records.py --n 20000

clean:
	rm -rf $(VENV) instance build *.egg-info platform/*.egg-info frontend/dist frontend/node_modules test-output
