# salespulse: build, test, benchmark.
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: build test vet generate fuzz bench-load clean

build: ## the salespulse binary
	$(GO) build -ldflags '$(LDFLAGS)' -o salespulse .

test: vet ## the whole test suite (needs PostgreSQL, see README)
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -run '^$$' -fuzz '^FuzzTransform$$' -fuzztime 20s ./etl

vet: ## static checks, and generated SQL code in step with the .sql files
	$(GO) vet ./...
	$(GO) tool sqlc diff
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt: files above need formatting"; exit 1; }

generate: ## regenerate the sqlc code after changing schema/ or queries/
	$(GO) tool sqlc generate

fuzz: ## a long fuzz run of the CSV row reader
	$(GO) test -run '^$$' -fuzz '^FuzzTransform$$' -fuzztime 10m ./etl

bench-load: ## load of 1,000,000 rows against psql \copy of the same file
	scripts/bench-load.sh

clean:
	rm -f salespulse
