# Maintainer entry points. CI runs `make verify test lint check-versions`
# with HUBSPOT_SPEC_MIRROR=../shared/hubspot-specs (.ci/run), or with a clone
# of HubSpot's spec collection (.github/workflows/ci.yml).

GO ?= go
# HUBSPOT_SPEC_MIRROR: where HubSpot's published documents are read from: a
# local folder laid out like HubSpot's spec collection (a clone of it; the
# line make test prints says how to get one), or an https base address.
# Unset, the commands that need a document (generate, bump, spec-diff,
# versions) read the public collection on GitHub, while tests never use the
# network: without a local folder the tests that need the documents skip.
# A relative folder is made absolute, so tests in any package find it.
export HUBSPOT_SPEC_MIRROR := $(if $(filter http://% https://%,$(HUBSPOT_SPEC_MIRROR)),$(HUBSPOT_SPEC_MIRROR),$(abspath $(HUBSPOT_SPEC_MIRROR)))
# SPEC_FILE=/any/path.json generates from that document instead of the pin.
# SPEC_API names the API whose rules apply (default: spec/pins.json's "api");
# SPEC_VERSION the version kept from a document publishing several (default:
# the current pin's, or with SPEC_FILE the document's info.version).
export SPEC_FILE SPEC_API SPEC_VERSION
# GET_MIRROR is specsource.GetMirror, the line every skipped test prints (a
# test keeps the two equal).
GET_MIRROR = get a mirror: git clone --depth 1 https://github.com/HubSpot/HubSpot-public-api-spec-collection ../hubspot-specs, then HUBSPOT_SPEC_MIRROR=../hubspot-specs make test

# STATICCHECK and ACTIONLINT are run with go run at pinned versions: they are
# tools of the maintainers, not requirements of the module.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
ACTIONLINT ?= github.com/rhysd/actionlint/cmd/actionlint@v1.7.12

# REDIS_TAGGED are the packages with files built only with -tags redis
# (examples/limits' -redis, left out of its default build to keep the first
# build light); test, vet and lint check them with the tag too.
REDIS_TAGGED = ./examples/limits

.PHONY: generate verify test lint race bench fuzz example

## generate: fetch the pinned document, normalize it, regenerate generated/.
generate:
	$(GO) generate ./generated/...

## verify: regenerate and fail on any difference from what is committed.
verify: generate
	@status=$$(git status --porcelain -- generated docs/type-names.md); \
	if [ -n "$$status" ]; then \
		echo "make verify: generated code differs from what is committed:"; echo "$$status"; \
		git --no-pager diff --stat -- generated docs/type-names.md; exit 1; \
	fi
	@echo "make verify: generated code is up to date"
	@$(MAKE) --no-print-directory verify-surface

## test: run every test (tests needing HubSpot's documents read the local folder $$HUBSPOT_SPEC_MIRROR).
test:
	@if [ ! -d "$(HUBSPOT_SPEC_MIRROR)" ]; then echo "make test: no local spec mirror ($(if $(HUBSPOT_SPEC_MIRROR),HUBSPOT_SPEC_MIRROR=$(HUBSPOT_SPEC_MIRROR) is not a folder,HUBSPOT_SPEC_MIRROR is unset)), so the tests needing HubSpot's documents skip; $(GET_MIRROR)"; fi
	@command -v redis-server >/dev/null 2>&1 || echo "make test: redis-server not found, so the Redis tests skip; to run them install it (Debian: apt-get install redis-server)"
	$(GO) vet ./...
	$(GO) vet -tags redis $(REDIS_TAGGED)
	$(GO) test -race -count=1 ./...
	$(GO) test -race -count=1 -tags redis -run Redis $(REDIS_TAGGED)

## lint: staticcheck every package; actionlint the GitHub workflows.
lint:
	$(GO) run $(STATICCHECK) ./...
	$(GO) run $(STATICCHECK) -tags redis $(REDIS_TAGGED)
	$(GO) run $(ACTIONLINT) .github/workflows/*.yml

## bench: measure the rate-limit scheduler, small jobs, latency, client cost,
## generation and shared budgets; write docs/BENCHMARKS.md (about 3 minutes;
## never part of make test).
bench:
	$(GO) run ./internal/cmd/bench -out docs/BENCHMARKS.md

## fuzz: fuzz specfix for a while.
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzNormalize -fuzztime 60s ./internal/specfix/

## example: run the example job against the in-process fake server.
example:
	$(GO) run ./examples/limits

# Version tracking targets (bump, spec-diff, verify-surface).
include mk/versions.mk
