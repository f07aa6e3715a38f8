# mtls.nginx: `make demo` shows it working, `make test` proves it. See README.md.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PYTHONPATH := $(CURDIR)/.collections
COLLECTION_LINK := .collections/ansible_collections/mtls/nginx
DEMO_CONTAINER := mtls-nginx-demo
IMAGE := mtls-nginx-target:bookworm

N ?= 200
BENCH_VENV := .venv-bench

.PHONY: deps venv link lint sanity unit image image-bookworm molecule molecule-deps test ee test-ee demo demo-down demo-check kit-check kit-check-two-tiers bench bench-site bench-compare bench-serve bench-ee clean

# Debian packages make test needs (Docker, debootstrap, NSS tools, Java, Chromium, shellcheck).
deps:
	scripts/system-deps.sh

venv: $(VENV)/.installed link

$(VENV)/.installed: requirements.txt requirements-test.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

# The work tree is the collection: expose it where Ansible looks for mtls.nginx.
link:
	@mkdir -p $(dir $(COLLECTION_LINK))
	@ln -sfn ../../.. $(COLLECTION_LINK)

lint: venv
	yamllint --strict .
	ansible-lint
	antsibull-changelog lint
	python scripts/role-vars-doc.py --check

# ansible-test sanity on the collection as Galaxy would install it.
sanity: venv
	scripts/check-package.sh

unit: venv
	pytest -q tests/unit

# The demo runs Debian 12 only; Molecule also needs Debian 13 (trixie, fleet).
image-bookworm:
	scripts/docker-engine.sh
	scripts/build-image.sh bookworm

image: image-bookworm
	scripts/build-image.sh trixie

# sslyze pins its own cryptography: it gets an environment of its own, used by the TLS policy test.
SSLYZE_VENV := .venv-sslyze
export MTLS_SSLYZE_PYTHON := $(CURDIR)/$(SSLYZE_VENV)/bin/python

$(SSLYZE_VENV)/.installed:
	python3 -m venv $(SSLYZE_VENV)
	$(SSLYZE_VENV)/bin/python -m pip install --quiet 'sslyze>=6.1,<7'
	touch $@

SCENARIOS := default trixie fleet rollover rollover-trixie

molecule-deps: venv image $(SSLYZE_VENV)/.installed

molecule: molecule-deps
	scripts/timed.sh $(addprefix molecule:,$(SCENARIOS))

demo-check: venv image-bookworm
	scripts/demo.sh check

# The users' side, against the demo (demo-check leaves it running; or run make demo first):
# every bundle through OpenSSL, NSS, Java, Python and curl, and headless Chromium.
kit-check: venv
	pytest -q -p no:cacheprovider tests/kit

# The demo's PKI moved to two tiers (a root signs its client CA, as mtls_root_ca does to a running
# PKI), served from a new Debian 12 host and then a Debian 13 one, each checked as demo-check does,
# then every kit through the same clients again; then the demo is removed (its inventory names no
# root: `make demo` starts a one-tier demo afresh).
kit-check-two-tiers: venv image
	scripts/demo.sh two-tiers
	pytest -q -p no:cacheprovider tests/kit
	MTLS_TARGET_IMAGE=mtls-nginx-target:trixie scripts/demo.sh two-tiers
	pytest -q -p no:cacheprovider tests/kit
	scripts/demo.sh down
	rm -rf examples/pki

# Each step timed; the table of durations is printed at the end, also when a step fails.
test: deps
	scripts/timed.sh lint sanity unit molecule-deps $(addprefix molecule:,$(SCENARIOS)) demo-check kit-check \
	  kit-check-two-tiers test-ee

# The execution environment (ee/execution-environment.yml) built with ansible-builder, then jobs run
# in it by ansible-runner as AWX runs them, against a host reached by SSH (tests/ee). README,
# "Running from AWX / AAP and CI".
ee: venv
	scripts/docker-engine.sh
	scripts/ee.sh

test-ee: ee
	scripts/build-image.sh bookworm ssh
	pytest -q -p no:cacheprovider tests/ee

demo: venv image-bookworm
	scripts/demo.sh up

demo-down:
	scripts/demo.sh down

# Benchmark (not a test): our PKI play against community.crypto, the floor and an empty play.
bench: link $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python bench/bench.py --users $(N)

# A full site.yml no-change rerun with N users against the demo host, next to the demo's 2 users;
# with SITES sites (mtls_sites) on the host next to 1 site; with HOSTS (e.g. HOSTS="1 4 8"), the
# rerun with fleets of those sizes next to an empty play.
HOSTS ?=
SITES ?= 10
bench-site: demo
	$(PY) bench/site_rerun.py --users $(N)
	$(PY) bench/sites_rerun.py --sites $(SITES)
	$(if $(HOSTS),$(PY) bench/fleet_rerun.py --hosts "$(HOSTS)")

# This tree's site.yml (no-change reruns, a first run) next to another revision's (BASE), N users,
# against the demo host; the base converges first, so this is also the upgrade from it.
bench-compare: demo
	$(if $(BASE),,$(error give the revision to compare with: make bench-compare BASE=<revision>))
	$(PY) bench/compare_revisions.py --base $(BASE) --users $(N)

# A no-change job inside the execution environment (ansible-runner, a fresh container) next to the
# same run here.
bench-ee: ee
	scripts/build-image.sh bookworm ssh
	$(PY) bench/ee_rerun.py

# How fast the demo serves: full, resumed and verification-off handshakes, keep-alive requests.
bench-serve: demo
	$(PY) bench/serve.py

$(BENCH_VENV)/.installed: bench/requirements.txt
	python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -r bench/requirements.txt
	touch $@

clean: demo-down
	rm -rf $(VENV) $(BENCH_VENV) $(SSLYZE_VENV) .collections examples/pki bench/out ee/build
