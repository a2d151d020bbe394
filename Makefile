# salespulse: build, test, benchmark.
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X salespulse/internal/cli.version=$(VERSION)

.PHONY: build demo test vet compose-check generate fuzz proof clean

build: web ## the salespulse binary
	$(GO) build -ldflags '$(LDFLAGS)' -o salespulse .

demo: build ## the whole system in one process (needs PostgreSQL, see README)
	./salespulse demo

test: web vet compose-check ## the whole test suite (needs PostgreSQL, Chromium, docker-compose, versitygw: see README)
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -run '^$$' -fuzz '^FuzzTransform$$' -fuzztime 20s ./etl

vet: ## static checks (go vet, staticcheck, also of the WebAssembly build), generated SQL code in step with the .sql files, gofmt
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./ui/...
	$(GO) tool staticcheck ./...
	GOOS=js GOARCH=wasm $$($(GO) tool -n staticcheck) ./ui/...
	$(GO) tool sqlc diff
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt: files above need formatting"; exit 1; }

compose-check: ## docker-compose.yml is valid, with the example settings
	@command -v docker-compose >/dev/null || { echo "compose-check: docker-compose is not installed (apt-get install docker-compose)"; exit 1; }
	@tmp=$$(mktemp -d) && cp docker-compose.yml $$tmp/ && cp .env.example $$tmp/.env && \
	  (cd $$tmp && docker-compose config -q && docker-compose --profile generator config -q) && rm -rf $$tmp && \
	  echo "compose-check: docker-compose.yml is valid"

generate: ## regenerate the sqlc code after changing schema/ or queries/
	$(GO) tool sqlc generate

fuzz: ## a long fuzz run of the CSV row reader
	$(GO) test -run '^$$' -fuzz '^FuzzTransform$$' -fuzztime 10m ./etl

proof: web ## every benchmark and fault test, report in docs/PERFORMANCE.md (about two hours, more the first time: it builds two databases of 10 million sales; PROOF_QUICK=1 for a fast check of the machinery; SECTIONS=load,push for some)
	$(GO) run ./internal/proof/run $(if $(SECTIONS),-sections $(SECTIONS))

clean:
	rm -f salespulse ui/web/app.wasm ui/web/app.wasm.gz ui/web/echarts.min.js

.PHONY: web
WEB := ui/web

web: $(WEB)/echarts.min.js ## the dashboard: app.wasm (and a gzip -9 copy) and ECharts, into ui/web
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags '-s -w' -o $(WEB)/app.wasm ./ui/wasm
	gzip -9 -n -k -f $(WEB)/app.wasm
	@echo "app.wasm: $$(wc -c <$(WEB)/app.wasm) bytes, $$(wc -c <$(WEB)/app.wasm.gz) gzipped"

$(WEB)/echarts.min.js: node_modules/.package-lock.json
	cp node_modules/echarts/dist/echarts.min.js $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
