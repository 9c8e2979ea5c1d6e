# lhk — the two commands that matter are `make demo` and `make test`.

GO ?= go

.PHONY: demo test test-short vet bench build

## demo: run lhkd with demo users and plugins on the embedded default (SQLite)
demo:
	$(GO) run ./cmd/lhkd demo

# The use-case and demo tests run the shipped plugins over the demo dataset,
# and the library's catalog-wide hostile, denied, tenant and stall tests send
# thousands of calls through a plugin: they check answers, not concurrency, and
# under the race detector the pure-Go SQLite and the guests' large JSON are
# several times slower, so they run once without it.
SLOW_E2E = TestUseCase|UseCase$$|TestDemo|TestLibraryHostile|TestLibraryDenied|TestSlowQueriesDoNotStall|TestTenantInference|TestSearchDocFromPlugin

## test: every test of every module, with the race detector
test: vet
	$(GO) test -race -count=1 -timeout 30m -skip '$(SLOW_E2E)' ./...
	$(GO) test -count=1 -timeout 30m -run '$(SLOW_E2E)' ./cmd/lhkd/
	cd pdk && $(GO) test -count=1 ./...
	cd plugins && $(GO) test -count=1 ./...

vet:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)
	$(GO) vet ./...
	cd pdk && $(GO) vet ./... && GOOS=wasip1 GOARCH=wasm $(GO) vet ./...
	cd plugins && GOOS=wasip1 GOARCH=wasm $(GO) vet ./...

## bench: the benchmarks behind docs/performance.md
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./host/ ./registry/... ./invoke/ ./systems/... ./cmd/lhkd/

## build: the daemon binary in ./bin
build:
	$(GO) build -o bin/lhkd ./cmd/lhkd
