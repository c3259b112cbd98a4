# The README's test command is `make test`. Each layer also runs alone (see CONTRIBUTING.md).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= $(CURDIR)/.venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt tests/requirements.txt | sha256sum | cut -c1-12)
# The collection as ansible sees it: .build/collections/ansible_collections/calico_egress/aws -> this checkout.
COLLECTIONS := $(CURDIR)/.build/collections
LINK := $(COLLECTIONS)/ansible_collections/calico_egress/aws

export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_HOME := $(CURDIR)/.build/ansible-home
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help test venv link lint sanity ruff units pytest build clean vm-deps vm-start vm-stop vm-status vm-test lab lab-up lab-down lab-status

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

test: venv lint sanity ruff pytest  ## Everything CI runs, in order; ends with pytest's summary

$(STAMP): requirements.txt tests/requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r tests/requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

venv: $(STAMP) link  ## Create or reuse .venv with every tool the tests need

link:
	@mkdir -p $(dir $(LINK))
	@test -L $(LINK) || ln -s $(CURDIR) $(LINK)

lint: venv  ## ansible-lint, production profile
	ansible-lint

sanity: venv  ## ansible-test sanity (on a copy under .build/sanity)
	PYTHON=$(BIN)/python tools/sanity.sh

ruff: venv  ## ruff lint and format check
	ruff check .
	ruff format --check .

units: venv  ## Unit tests only
	python -m pytest tests/unit

pytest: venv vm-deps  ## Every pytest layer (units, packaging, vm, ...)
	python -m pytest

# The VM layer (lab/vm, tests/vm): QEMU TCG boots a cached Debian image built with mmdebstrap.
VM_DEBS := qemu-system-x86 mmdebstrap e2fsprogs openssh-client nftables bird

vm-deps:  ## Debian packages of the VM and lab layers (QEMU, mmdebstrap, e2fsprogs, ssh; nft and bird check what the twins render)
	tools/apt-install.sh $(VM_DEBS)

vm-start: venv vm-deps  ## Build (once, cached in ~/.cache/calico-egress-lab/vm) and boot the lab VM; prints its inventory
	python -m lab.vm start

vm-stop: venv  ## Power the lab VM off
	python -m lab.vm stop

vm-status: venv  ## Is the lab VM running? (port, inventory)
	python -m lab.vm status

vm-test: venv vm-deps  ## The VM layer alone: role gre_tunnel on a real kernel, BGP interop
	python -m pytest tests/vm

# The local lab (lab/twin, inventories/lab): three VMs, the stand-ins and their twins; stays up until lab-down.
lab: lab-up  ## The blog's Figure 1 on this machine: lab up, then site.yml (AWS, nodes, cluster, firewall, verify table)
	ansible-playbook -i inventories/lab playbooks/site.yml

lab-up: venv vm-deps  ## Start the lab (or find it running); prints its world.json
	python -m lab.twin up

lab-down: venv  ## Stop the lab (daemon and VMs)
	python -m lab.twin down

lab-status: venv  ## Is the lab running? (world.json)
	python -m lab.twin status

build: venv  ## Build the collection tarball into .build/dist
	ansible-galaxy collection build --force --output-path .build/dist

clean:  ## Remove build output (keeps .venv)
	rm -rf .build tests/output
