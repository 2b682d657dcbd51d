# The two commands a newcomer needs:
#   make demo   install, build (release) and run the main job
#   make test   install, build (debug + sanitizers) and run every test
.PHONY: demo pki-demo test deps build release bench fuzz fuzz-smoke clean

JOBS ?= $(shell nproc)

deps:
	@scripts/install-deps.sh

build: deps
	@cmake --preset debug >/dev/null
	@cmake --build --preset debug -j $(JOBS)

release: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

test: build
	@ctest --preset debug -j $(JOBS)

demo: release
	@scripts/demo.sh build/release/armored

pki-demo: release
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
