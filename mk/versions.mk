# Version tracking: owned by the version-bump work (issue 5). See docs/versions.md.
#
#   make bump VERSION=2026-09   pin VERSION, make it current, regenerate, write docs/api-changes/<old>_<new>.md
#   make spec-diff              what changed in the current version's document since it was pinned ($$SPEC_FILE to try a file)
#   make api-report FROM=v TO=w print the change report between two pinned versions
#   make verify-surface         fail when the Go API loses or changes an identifier listed in api/*.txt
#   make api-update             accept the current Go API: rewrite api/*.txt
#   make check-versions         regenerate, build, vet and surface-check every pinned version and revision in temp copies

VERSIONS = $(GO) run ./internal/cmd/versions

.PHONY: bump spec-diff api-report verify-surface api-update check-versions

## bump: pin VERSION, make it current, regenerate, write the change report.
bump:
	@if [ -z "$(VERSION)" ]; then echo "usage: make bump VERSION=2026-09"; exit 2; fi
	$(VERSIONS) bump -version "$(VERSION)"
	$(MAKE) --no-print-directory generate
	@$(VERSIONS) surface -check -record=false || { \
		echo "make bump: $(VERSION) is pinned and generated, but the Go API lost or changed identifiers (above)."; \
		echo "make bump: make verify will fail until they are kept or accepted with make api-update (docs/versions.md)."; }

## spec-diff: report what changed in the current version's document since it was pinned.
spec-diff:
	@$(VERSIONS) spec-diff

## api-report: print the change report between two pinned versions.
api-report:
	@if [ -z "$(FROM)" ] || [ -z "$(TO)" ]; then echo "usage: make api-report FROM=2026-03 TO=2026-09"; exit 2; fi
	@$(VERSIONS) report -from "$(FROM)" -to "$(TO)"

## verify-surface: fail when the Go API loses or changes an identifier listed in api/*.txt; record additions.
verify-surface:
	@$(VERSIONS) surface -check

## api-update: accept the current Go API (rewrites api/*.txt).
api-update:
	@$(VERSIONS) surface -update

## check-versions: regenerate every pinned version and revision in temporary copies; build, vet, check the surface.
check-versions:
	@$(VERSIONS) check -j $(or $(CHECK_JOBS),2)
