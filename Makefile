# The two commands of the README: `make demo` and `make test`. Both install what they need:
# Debian's mariadb-server (the sandbox's real database) and the Python packages, into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-test.txt | md5sum | cut -c1-8)
BUILD := $(abspath build)
# The collection seen where Ansible looks for it: build/collections/ansible_collections/tidbops/manager.
COLLECTIONS := $(BUILD)/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/tidbops/manager
SANITY_TREE := $(or $(TMPDIR),/tmp)/tidbops-sanity/ansible_collections/tidbops/manager
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_NOCOLOR := 1

.PHONY: test test-checks test-suites demo deps system-deps lint sanity unit integration molecule build docs bench clean

# Two lanes at once, one per core (each keeps about one busy), of about equal length: the
# integration tests, and everything else. Each lane's output is printed when it ends (make -O).
test: deps
	$(MAKE) --no-print-directory -j2 --output-sync=recurse test-checks test-suites
	@echo "make test: lint, sanity, unit, integration and molecule all passed"

test-checks: deps
	$(MAKE) --no-print-directory -j1 lint sanity unit molecule

test-suites: deps
	$(MAKE) --no-print-directory -j1 integration

deps: system-deps $(STAMP) $(COLLECTION_LINK)

system-deps:
	@command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || { \
	  echo "installing Debian's mariadb-server (the sandbox's database)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq mariadb-server >/dev/null; }

$(STAMP): requirements.txt requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -q -r requirements-test.txt
	rm -f $(VENV)/.installed-* && touch $@

$(COLLECTION_LINK):
	mkdir -p $(dir $@) && ln -sfn $(CURDIR) $@

# An installed copy of this collection in ~/.ansible/collections (left by an older molecule
# prerun, or by hand) would shadow this checkout for ansible-lint and molecule: remove it.
STALE_COPY := $(HOME)/.ansible/collections/ansible_collections/tidbops/manager

lint: deps
	rm -rf $(STALE_COPY)
	cd $(COLLECTION_LINK) && $(BIN)/ansible-lint --profile production --offline

# ansible-test must run from a real ansible_collections/<ns>/<name> directory (not a symlink,
# and outside this git work tree, or it asks git which files it may test),
# so it gets a copy of the files git knows. Its per-test virtualenvs fetch pip from a host
# this project cannot reach; tests/sanity/pip_bootstrap.py does that job instead.
sanity: deps
	rm -rf $(SANITY_TREE) && mkdir -p $(SANITY_TREE)
	git ls-files -co --exclude-standard | tar -T - -c | tar -x -C $(SANITY_TREE)
	mkdir -p $(HOME)/.ansible/test/cache
	for v in $$($(BIN)/python -c "from ansible_test._internal.python_requirements import get_venv_packages as g; import inspect,re; print(' '.join(set(re.findall(r\"pip='([0-9.]+)'\", inspect.getsource(g)))))"); do \
	  cp tests/sanity/pip_bootstrap.py $(HOME)/.ansible/test/cache/get_pip_$$(echo $$v | tr . _).py; done
	cd $(SANITY_TREE) && $(BIN)/ansible-test sanity --python 3.11 --requirements --color no

unit: deps
	$(BIN)/pytest -q tests/unit

integration: deps
	$(BIN)/pytest -q tests/integration

# molecule keeps a scenario's state between runs ("already prepared"): reset it so that every
# run starts its own sandbox.
molecule: deps
	@rm -rf $(STALE_COPY)
	@for role in roles/*/; do \
	  [ -d "$$role/molecule" ] || continue; \
	  echo "molecule test: $$role"; \
	  (cd $$role && PATH=$(BIN):$$PATH $(BIN)/molecule reset >/dev/null 2>&1; \
	   PATH=$(BIN):$$PATH $(BIN)/molecule test --all) || exit 1; \
	done

build: deps
	mkdir -p $(BUILD)/dist && $(BIN)/ansible-galaxy collection build --force --output-path $(BUILD)/dist

docs: deps
	$(BIN)/python -m tests.tools.error_codes_doc

bench: deps
	$(BIN)/python -m tests.bench.bench_backup
	$(BIN)/python -m tests.bench.bench_transfers

demo: deps
	$(BIN)/python -m tests.demo

clean:
	rm -rf $(BUILD)
