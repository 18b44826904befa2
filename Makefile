# Parrain — see README.md.
.PHONY: test run build bench load lint

# The whole test suite: SQLite and PostgreSQL store tests, API tests and the
# end-to-end test that builds and runs the binary.
test:
	bash scripts/test.sh

run:
	go run ./cmd/parrain serve --demo

build:
	CGO_ENABLED=0 go build -o bin/parrain ./cmd/parrain

bench:
	go test -run XXX -bench . -benchtime 3000x ./internal/...

load:
	bash scripts/load.sh

# Static checks: formatting, go vet, staticcheck (pinned in go.mod's tool
# block) and a tidy go.mod.
lint:
	@test -z "$$(gofmt -l cmd internal e2e)" || { gofmt -l cmd internal e2e; echo "gofmt: files above need formatting"; exit 1; }
	go vet ./...
	go tool staticcheck ./...
	go mod tidy -diff
