# km — see README.md. `make demo` and `make test` work on a fresh machine with Go and git.
GO      ?= go
BIN     := bin
LDFLAGS := -s -w -buildid=
# km version's commit where Go's VCS stamping is off (-buildvcs=false, git worktrees).
COMMIT  := $(shell git rev-parse HEAD 2>/dev/null)

.PHONY: build demo test race vet clean deps deps-demo

build:
	@mkdir -p $(BIN)
	$(GO) build -trimpath -ldflags='-X main.linkedCommit=$(COMMIT)' -o $(BIN)/km ./cmd/km
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -buildvcs=false -ldflags='$(LDFLAGS)' -o $(BIN)/bootstrap ./cmd/km-refresher
	$(GO) run ./cmd/mkzip -o $(BIN)/km-refresher.zip $(BIN)/bootstrap
	@sha256sum $(BIN)/km-refresher.zip

# deps installs what the tests drive (chromium, openssl, git) only when missing
# (sudo when not root); when it cannot, it prints the one command to run and
# stops make before any test.
deps:
	@bash .ci/install-packages.sh

deps-demo:
	@bash .ci/install-packages.sh git

demo: deps-demo build
	$(GO) build -o $(BIN)/km-sim ./cmd/km-sim
	$(GO) build -o $(BIN)/km-refresher-host ./cmd/km-refresher
	./scripts/demo.sh

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt needed'; exit 1; }

test: deps vet
	$(GO) test -count=1 -timeout 15m ./...

# The suite under the race detector (needs cgo and a C compiler); not part of
# make test so that a machine without gcc still runs the README's command.
race: deps
	$(GO) test -race -count=1 -timeout 30m ./...

clean:
	rm -rf $(BIN) demo demo.log
