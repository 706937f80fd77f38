# failoverctl developer tasks. `make` alone lists them.
SWIFT ?= swift
SHELL := /bin/bash

.DEFAULT_GOAL := help
.PHONY: help demo test bench test-deps format clean

help:
	@echo "make demo    install missing Debian packages, build, run the three-site lab demo"
	@echo "make test    install missing Debian packages, build and run all tests (log: .build/test.log)"
	@echo "make bench   install benchmark tools, run every scripts/bench-*.sh"
	@echo "make chaos   50 seeded fault schedules on 3 controllers and etcd in netns, then the partition acceptance (root)"
	@echo "make test-deps  check install-deps' package check 1,000 times a package (0 false missing)"
	@echo "make format  swift format Sources and Tests in place (.swift-format)"
	@echo "make clean   remove .build"
	@echo "SWIFT=$(SWIFT) (override with make SWIFT=/path/to/swift)"

demo:
	SWIFT="$(SWIFT)" scripts/install-deps.sh
	SWIFT="$(SWIFT)" scripts/demo.sh

# swift test runs XCTest, then Swift Testing, whose "Test run with N tests ..." line closes
# the output. pipefail keeps swift test's exit status through tee. --no-parallel: the suites
# start real servers (PostgreSQL, HAProxy, PowerDNS, moto, nginx) and bound timeouts; run side
# by side on two cores, one suite's server start-up starves another's timing.
test:
	SWIFT="$(SWIFT)" scripts/install-deps.sh
	$(SWIFT) build --build-tests
	@mkdir -p .build
	set -o pipefail; $(SWIFT) test --no-parallel 2>&1 | tee .build/test.log

bench:
	SWIFT="$(SWIFT)" scripts/install-deps.sh --bench
	@set -e; found=0; \
	for script in scripts/bench-*.sh; do \
		[ -f "$$script" ] || continue; found=1; \
		echo "== $$script"; SWIFT="$(SWIFT)" bash "$$script"; \
	done; \
	[ $$found = 1 ] || echo "no scripts/bench-*.sh to run"

# 50 long chaos schedules (CHAOS_SCHEDULES, from seed CHAOS_SEED) and the partition
# acceptance (PARTITION_RUNS=20): kill -9 and SIGSTOP of the leader, follower and etcd member
# kills, a controller cut from etcd, primary failures; prints the counts (see scripts/chaos.sh).
.PHONY: chaos
chaos:
	SWIFT="$(SWIFT)" scripts/install-deps.sh
	SWIFT="$(SWIFT)" scripts/chaos.sh

# The package check of scripts/install-deps.sh, 1,000 times for each package it knows.
test-deps:
	scripts/test-install-deps.sh

format:
	@if $(SWIFT) format --version >/dev/null 2>&1; then \
		$(SWIFT) format format --configuration .swift-format --in-place --recursive Sources Tests; \
	else \
		echo "swift format is not available: it ships with Swift 6 toolchains" >&2; exit 1; \
	fi

clean:
	rm -rf .build
