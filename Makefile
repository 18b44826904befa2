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
