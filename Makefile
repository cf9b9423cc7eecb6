# slokit — run `make help` for the targets.
GO        ?= go
FUZZTIME  ?= 10s
BIN       ?= bin/slokit
# A release tag when there is one; empty lets `slokit version` say "dev" plus the commit.
VERSION   ?= $(shell git describe --tags --dirty 2>/dev/null)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS   := -s -w -X github.com/slokit/slokit/internal/cli.Version=$(VERSION) -X github.com/slokit/slokit/internal/cli.Commit=$(COMMIT)
# make test pipes go test through the summariser: bash for pipefail.
SHELL     := bash

.PHONY: help build install test test-unit test-e2e bench bench-rules bench-thanos bench-throughput fuzz golden demo lint example

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z0-9-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build bin/slokit
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/slokit

install: ## install slokit into $GOBIN (default $GOPATH/bin, ~/go/bin)
	$(GO) install -trimpath -ldflags "$(LDFLAGS)" ./cmd/slokit
	@bin=$$($(GO) env GOBIN); echo "installed $${bin:-$$($(GO) env GOPATH)/bin}/slokit"

test: lint ## every test (bounded fuzzing, then unit, golden, real components) and a summary of what ran and skipped
	$(MAKE) fuzz FUZZTIME=$(FUZZTIME)
	set -o pipefail; $(GO) test -json -count=1 -timeout 30m ./... 2>&1 | $(GO) run ./internal/testsummary/cmd/testsummary

test-unit: ## unit and golden tests only (-short skips real components)
	$(GO) test -short ./...

test-e2e: ## the end-to-end tests against real Prometheus/Alertmanager/Chromium
	$(GO) test -count=1 -run 'E2E|Real|Promtool' ./...

bench: ## run the benchmarks with -benchmem
	$(GO) test -run '^$$' -bench . -benchmem ./...

bench-rules: ## measure rule evaluation cost in a real Prometheus, slokit vs Sloth
	bash bench/rules/run.sh

bench-thanos: ## rule evaluation cost of N global SLOs in Thanos Ruler vs per cluster in Prometheus
	THANOS=$$(bash .ci/thanos.sh) $(GO) run ./bench/thanos

bench-throughput: ## shortlink requests/s with and without sli instrumentation under wrk
	bash bench/throughput/run.sh

fuzz: ## run every fuzz target for FUZZTIME each
	@bash .ci/fuzz.sh $(FUZZTIME)

golden: ## rewrite golden files from the current output
	UPDATE_GOLDEN=1 $(GO) test ./...

example: ## validate and generate the bundled shortlink example into out/
	$(GO) run ./cmd/slokit generate -f examples/shortlink.yaml --out out

demo: ## the whole loop on one machine: service, load, fault, alert, verdict
	$(GO) run ./cmd/slokit demo

lint: ## gofmt, go vet, staticcheck (staticcheck.conf), import rules; tools cached by .ci/tools.sh
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)
	$(GO) vet ./...
	"$$(bash .ci/tools.sh staticcheck)" ./...
	$(GO) test -count=1 ./internal/archtest

vulncheck: ## govulncheck against an offline snapshot of the Go vulnerability database
	"$$(bash .ci/tools.sh govulncheck)" -db "$$(bash .ci/tools.sh vulndb)" ./...
