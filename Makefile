# slokit — run `make help` for the targets.
GO        ?= go
FUZZTIME  ?= 10s
# What an advisory reached in the Go standard library does in make vulncheck: warn or fail.
VULN_STDLIB ?= warn
BIN       ?= bin/slokit
# A release tag when there is one; empty lets `slokit version` say "dev" plus the commit.
VERSION   ?= $(shell git describe --tags --dirty 2>/dev/null)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS   := -s -w -X github.com/slokit/slokit/internal/cli.Version=$(VERSION) -X github.com/slokit/slokit/internal/cli.Commit=$(COMMIT)
# make test pipes go test through the summariser: bash for pipefail.
SHELL     := bash

.PHONY: help build build-nok8s install test test-nok8s vulncheck test-unit test-e2e bench bench-rules bench-generate bench-thanos bench-throughput fuzz golden demo lint example

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z0-9-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build bin/slokit
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/slokit

build-nok8s: ## build bin/slokit-nok8s: slokit without Kubernetes support (no apply, operator, chaos rbac, chaosmesh backend), smaller
	$(GO) build -tags slokit_nok8s -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)-nok8s ./cmd/slokit

install: ## install slokit into $GOBIN (default $GOPATH/bin, ~/go/bin)
	$(GO) install -trimpath -ldflags "$(LDFLAGS)" ./cmd/slokit
	@bin=$$($(GO) env GOBIN); echo "installed $${bin:-$$($(GO) env GOPATH)/bin}/slokit"

test: lint ## every test (bounded fuzzing, then unit, golden, real components) and a summary of what ran and skipped
	$(MAKE) fuzz FUZZTIME=$(FUZZTIME)
	set -o pipefail; $(GO) test -json -count=1 -timeout 30m ./... 2>&1 | $(GO) run ./internal/testsummary/cmd/testsummary
	$(MAKE) test-nok8s

test-nok8s: ## the CLI's tests built with -tags slokit_nok8s (-short: the real-component tests run in the default build)
	$(GO) test -count=1 -short -tags slokit_nok8s ./internal/cli

test-unit: ## unit and golden tests only (-short skips real components)
	$(GO) test -short ./...

test-e2e: ## the end-to-end tests against real Prometheus/Alertmanager/Chromium
	$(GO) test -count=1 -run 'E2E|Real|Promtool' ./...

bench: ## run the benchmarks with -benchmem
	$(GO) test -run '^$$' -bench . -benchmem ./...

bench-rules: ## rule evaluation cost in one real Prometheus: slokit vs Sloth vs Pyrra, A/A control, raw and steady state
	bash bench/rules/run.sh

bench-generate: ## validate + generate of 5,000 SLOs against Sloth v0.16's generate, same run: time, memory, output size
	bash bench/generate/run.sh

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

lint: ## no conflict markers, gofmt, go mod tidy, go vet (both builds), staticcheck (staticcheck.conf), import and length rules, govulncheck; tools cached by .ci/tools.sh
	@! git grep -nE '^(<<<<<<<|>>>>>>>)( |$$)' || (echo "merge conflict markers left in the files above"; exit 1)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)
	@$(GO) mod tidy -diff || (echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1)
	$(GO) vet ./...
	$(GO) vet -tags slokit_nok8s ./internal/cli ./cmd/slokit
	"$$(bash .ci/tools.sh staticcheck)" ./...
	"$$(bash .ci/tools.sh staticcheck)" -tags slokit_nok8s ./internal/cli ./cmd/slokit
	$(GO) test -count=1 ./internal/archtest
	$(MAKE) vulncheck

vulncheck: ## govulncheck on a pinned offline snapshot of the Go vulnerability database: fails on a reached advisory in a required module; VULN_STDLIB=fail for the standard library too
	set -o pipefail; "$$(bash .ci/tools.sh govulncheck)" -format json -db "$$(bash .ci/tools.sh vulndb)" ./... | $(GO) run .ci/vulncheck.go -stdlib=$(VULN_STDLIB)
