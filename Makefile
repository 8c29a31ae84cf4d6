# kubelab — `make help` lists the targets.
SHELL := /bin/bash
SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)
KUBELAB := .build/debug/kubelab

.PHONY: help deps build run test bench clean
.PHONY: fuzz test-asan

help: ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

deps: ## install liblua5.4-dev (and pkg-config) when they are missing
	@if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists lua5.4; then \
		echo "installing liblua5.4-dev and pkg-config"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq liblua5.4-dev pkg-config >/dev/null; \
	fi
	@pkg-config --exists lua5.4 || { echo "liblua5.4-dev is still missing" >&2; exit 1; }

build: deps ## build kubelab (debug)
	$(SWIFT) build

run: build ## build and run the showcase: a node crashes under the binpack scheduler
	$(KUBELAB) run plugins/scenarios/node-crash.lua --scheduler plugins/schedulers/binpack.lua --seed 1

test: deps ## build and run every test, then the determinism and boundary checks
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	@./scripts/check-boundaries.sh
	@./scripts/check-determinism.sh $(KUBELAB)

bench: deps ## scheduler benchmarks: 5,000 nodes, scheduler_perf templates, release build (docs/benchmarks.md)
	@command -v lua5.4 >/dev/null 2>&1 || { echo "installing lua5.4 (the floor of the full-scan benchmark)"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq lua5.4 >/dev/null; }
	bench/scheduler/workload.sh 5000 10000 .build-bench/workload
	@# SwiftPM keeps the path dependency's file list from its last build plan; start a new one.
	rm -f Benchmarks/.build/release.yaml
	cd Benchmarks && $(SWIFT) build -c release -Xswiftc -enforce-exclusivity=unchecked
	Benchmarks/.build/release/KubelabBench schedule .build-bench/workload bench/scheduler/binpack.lua \
		--floor-command "lua5.4 bench/scheduler/floor.lua bench/scheduler/binpack.lua 5000 1000 100 tables" \
		--proxy-floor-command "lua5.4 bench/scheduler/floor.lua bench/scheduler/binpack.lua 5000 1000 100 proxies" \
		--lua-floor-command "lua5.4 bench/scheduler/floor.lua bench/scheduler/binpack.lua 5000 10000 0 tables"
	Benchmarks/.build/release/KubelabBench memory .build-bench/workload 150000

fuzz: deps ## fuzz the manifest decoder, the quantity parser and the plugin loader (FUZZ_SECONDS each, default 60)
	./scripts/fuzz.sh

test-asan: deps ## run the Lua host tests under the address sanitizer
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	$(SWIFT) test --skip-build --disable-xctest --sanitize=address --scratch-path .build-asan --filter 'LuaHostTests|AdversarialPlugin'

clean: ## remove build products
	rm -rf .build
