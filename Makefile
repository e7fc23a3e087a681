# mcptrust: every tool comes from npm at pinned versions (package.json, tools/package.json).
# Targets: setup, build, test, demo, bench, release. `make test` is what CI runs.

SHELL := /bin/bash
.DEFAULT_GOAL := build

DENO := tools/node_modules/.bin/deno
BUN := tools/node_modules/.bin/bun
VERSION := $(shell node -p "require('./package.json').version")
COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
# A compiled binary must not read bunfig.toml, .env, tsconfig.json or package.json from the directory it
# runs in: mcptrust runs in untrusted checkouts (a bunfig.toml `preload` would run code before main).
NO_AUTOLOAD := --no-compile-autoload-bunfig --no-compile-autoload-dotenv --no-compile-autoload-tsconfig --no-compile-autoload-package-json
DEFINES := --define '__MCPTRUST_VERSION__="$(VERSION)"' --define '__MCPTRUST_COMMIT__="$(COMMIT)"'
SOURCES := $(shell find main.ts mod.ts lib commands -name '*.ts' ! -name '*_test.ts' 2>/dev/null)
WASM_SRC := $(wildcard wasm/*.ts wasm/asconfig.json)
WASM_TS := lib/policy/core_wasm.generated.ts

.PHONY: setup build wasm test check lint fmt fmt-check unit e2e test-bun demo bench release clean

## setup: install the project's packages and the Deno/Bun toolchain (npm ci, pinned by the lockfiles)
setup: node_modules/.installed tools/node_modules/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

tools/node_modules/.installed: tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund
	touch $@

## wasm: build the policy core (AssemblyScript -> wasm/build/policy.wasm -> embedded TS module)
wasm: $(WASM_TS)

$(WASM_TS): $(WASM_SRC) scripts/embed_wasm.ts | setup
	node node_modules/assemblyscript/bin/asc.js wasm/policy.ts --config wasm/asconfig.json --target release
	$(DENO) run -A scripts/embed_wasm.ts

## build: compile dist/mcptrust for this machine (bun build --compile, bytecode; --splitting keeps what
## commands import() when they run out of the start-up code: scripts/bench_startup.ts). No identifier
## minification: with --splitting, Bun names the parameter of the CommonJS import() wrapper `m`, which
## can collide with a minified name (`.then((m)=>m(m.default,1))`: sign --sigstore failed).
build: dist/mcptrust

dist/mcptrust: $(SOURCES) $(WASM_TS) | setup
	@mkdir -p dist
	$(BUN) build --compile --bytecode --splitting --format=esm --minify-syntax --minify-whitespace main.ts --outfile $@ $(NO_AUTOLOAD) $(DEFINES)

## test: type check, lint, format check, unit tests, end-to-end tests against dist/mcptrust
test: setup build check lint fmt-check unit e2e

check: setup $(WASM_TS)
	$(DENO) check main.ts mod.ts $$(find lib commands e2e scripts testdata -name '*.ts' 2>/dev/null)

lint: setup
	$(DENO) lint

fmt:
	$(DENO) fmt

fmt-check: setup
	$(DENO) fmt --check

unit: setup $(WASM_TS)
	$(DENO) test -A lib commands testdata

e2e: build
	MCPTRUST_BIN=$(CURDIR)/dist/mcptrust $(DENO) test -A e2e

## test-bun: the unit tests again under Bun's test runner
test-bun: setup $(WASM_TS)
	$(BUN) test lib commands

## demo: lock the bundled filesystem server, then catch a drifted server (offline after setup)
demo: build
	bash scripts/demo.sh

## bench: benchmarks (print figures; never part of `make test`)
bench: build
	$(DENO) run -A scripts/bench_startup.ts
	$(DENO) run -A scripts/bench_lock.ts
	$(DENO) run -A scripts/bench_trust.ts
	$(DENO) run -A scripts/bench_policy_core.ts
	$(DENO) run -A scripts/bench_policy.ts
	$(BUN) scripts/bench_call_rules.ts
	$(BUN) scripts/bench_eras.ts

## release: binaries for every target plus SHA256SUMS (Bun's target runtimes come from npm)
release: setup $(WASM_TS)
	bash scripts/release.sh $(VERSION) $(COMMIT)

clean:
	rm -rf dist wasm/build $(WASM_TS)
