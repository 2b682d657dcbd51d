# The two commands a newcomer needs:
#   make demo   install, build (release) and run the main job
#   make test   install, build (debug + sanitizers) and run every test
.PHONY: demo demo-cluster pki-demo test faults deps build release armored bench fuzz fuzz-smoke clean

JOBS ?= $(shell nproc)
# ccache keys on paths relative to the checkout, so a second clone (a CI
# checkout, a worktree) reuses what the first compiled.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

deps:
	@scripts/install-deps.sh

build: deps
	@cmake --preset debug >/dev/null
	@cmake --build --preset debug -j $(JOBS)

release: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

# Only the one program the demos run: a fresh machine need not build every
# test and benchmark first.
armored: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release --target armored -j $(JOBS)

# The services the tests use that they do not start themselves (the shared
# PostgreSQL cluster) are started here, so nothing is skipped on a fresh machine.
test: build
	@scripts/start-services.sh
	@ctest --preset debug -j $(JOBS)

# The "nothing lost" fault matrix at full size (200 devices, 2,000 readings/s,
# minute-long outages; docs/reliability.md). About 20 minutes; prints the table.
faults: build
	@scripts/start-services.sh
	@ARMORED_FAULTS_LONG=1 ctest --preset debug -R 'Reliability|PostgresFault|GatewayKilled|CloudKilled|CloudDown' \
		-V -j 1 > build/faults.log 2>&1; rc=$$?; \
		echo "fault | sent | stored | lost | duplicated | recovered without a manual step"; \
		grep -o '\[ fault    \] .*' build/faults.log | sed 's/^\[ fault    \] //'; \
		echo "(full log: build/faults.log)"; exit $$rc

demo: armored
	@scripts/demo.sh build/release/armored

# The scaled cloud on one machine: NATS JetStream (3 nodes), PostgreSQL, two
# fronts, three workers; a worker and a front killed under load (docs/scale-out.md).
demo-cluster: armored
	@scripts/start-services.sh
	@scripts/demo-cluster.sh build/release/armored

pki-demo: armored
	@scripts/pki-demo.sh build/release/armored

bench: release
	@for b in build/release/bench/*_bench; do echo "== $$b"; $$b; done

fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS)

fuzz-smoke: fuzz
	@scripts/fuzz-smoke.sh build/fuzz/fuzz

clean:
	rm -rf build
