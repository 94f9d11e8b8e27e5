# Satchel — two commands on a fresh machine: `make run` and `make test`.
GO        ?= go
BIN       ?= satchel
WORKSPACE ?=
GOTESTFLAGS ?= -count=1 -timeout 20m
# VERSION overrides FyneApp.toml's version in a build (make build VERSION=1.2.3).
VERSION   ?=
LDFLAGS   ?= $(if $(VERSION),-X main.version=$(VERSION))

.PHONY: deps build run test check vet fuzz bench loadtest screenshots dist clean media

deps: ## install system packages, Go modules, Azurite and test media
	bash scripts/deps.sh

media:
	bash testdata/make.sh

build: deps
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) .

run: build ## build and start the GUI on the default workspace with the sample ladder preloaded
	./$(BIN) $(if $(WORKSPACE),--workspace $(WORKSPACE)) --samples testdata/media

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

test: deps vet ## every test, Azurite-backed publish tests included
	SATCHEL_REQUIRE_AZURITE=1 $(GO) test $(GOTESTFLAGS) ./...

check: vet ## gofmt, vet, the layer test (internal/layers), engine and packaging tests: no root, no network
	$(GO) test $(GOTESTFLAGS) ./internal/... ./engine/... ./packaging/...

fuzz: ## run each fuzz target briefly (FUZZTIME per target)
	bash scripts/fuzz.sh $(or $(FUZZTIME),15s)

loadtest: ## the license ledger under a longer load: LOADTEST_CLIENTS (64) clients, LOADTEST_DURATION (60s) per phase
	SATCHEL_LOADTEST_CLIENTS=$(or $(LOADTEST_CLIENTS),64) SATCHEL_LOADTEST_DURATION=$(or $(LOADTEST_DURATION),60s) \
		$(GO) test -count=1 -timeout 30m -run '^TestLedgerUnderLoad$$' -v .

bench: build ## packaging throughput and peak RSS versus ffmpeg on a ~150 MB 720p input
	bash scripts/bench.sh

screenshots: ## render every screen of a real session (the ui screen tour) to docs/screenshots
	bash scripts/screenshots.sh

dist: deps ## desktop package for Linux (tar.xz with a .desktop file)
	bash scripts/dist.sh

clean:
	rm -rf $(BIN) dist
