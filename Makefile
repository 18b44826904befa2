# Parrain — see README.md.
.PHONY: test run build bench bench-go load lint clients

# The whole test suite: SQLite and PostgreSQL store tests, API tests and the
# end-to-end test that builds and runs the binary.
test:
	bash scripts/test.sh

run:
	go run ./cmd/parrain serve --demo

build:
	CGO_ENABLED=0 go build -o bin/parrain ./cmd/parrain

# The hot paths against bare baselines, side by side in one run (wrk,
# alternating rounds; docs/performance.md). PostgreSQL rows need
# PARRAIN_BENCH_POSTGRES_URL (a database the bench may fill); more flags:
# make bench BENCH_ARGS='-rounds 5 -duration 20s'.
bench:
	CGO_ENABLED=0 go build -o bin/parrain ./cmd/parrain
	CGO_ENABLED=0 go build -o bin/parrain-bench ./cmd/parrain-bench
	bin/parrain-bench run -parrain bin/parrain $(BENCH_ARGS)

# The in-process Go benchmarks (ns/op against an in-process baseline).
bench-go:
	go test -run XXX -bench . -benchtime 3000x ./internal/...

load:
	bash scripts/load.sh

# Static checks: formatting, go vet, staticcheck (pinned in go.mod's tool
# block) and a tidy go.mod.
lint:
	@test -z "$$(gofmt -l cmd internal e2e clients)" || { gofmt -l cmd internal e2e clients; echo "gofmt: files above need formatting"; exit 1; }
	go vet ./...
	go tool staticcheck ./...
	go mod tidy -diff

# Static release binaries with version information (`parrain version`):
# dist/parrain-VERSION-OS-ARCH and SHA256SUMS. Override VERSION=v1.2.3.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
PLATFORMS ?= linux/amd64 linux/arm64 darwin/arm64 darwin/amd64
DIST ?= dist
RELEASE_LDFLAGS = -s -w -X github.com/parrainhq/parrain/internal/app.version=$(VERSION) -X github.com/parrainhq/parrain/internal/app.commit=$(COMMIT)
.PHONY: release
release:
	@mkdir -p $(DIST)
	@for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; out=$(DIST)/parrain-$(VERSION)-$$os-$$arch; \
		echo "building $$out"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch go build -trimpath -buildvcs=false -ldflags "$(RELEASE_LDFLAGS)" -o $$out ./cmd/parrain || exit 1; \
	done
	cd $(DIST) && sha256sum parrain-$(VERSION)-* > SHA256SUMS
	@echo "$(DIST)/: $$(ls $(DIST) | tr '\n' ' ')"

# The typed API clients, regenerated from internal/api/openapi.json with the
# pinned generators: clients/go (oapi-codegen, go.mod's tool block, through
# clients/gen's 3.0 copy of the document) and clients/ts (openapi-typescript,
# pinned in clients/ts/package.json). A test (clients/gen) fails when they
# are out of date.
clients:
	go run ./clients/gen
	npm ci --prefix clients/ts --no-audit --no-fund
	npm run --prefix clients/ts generate
