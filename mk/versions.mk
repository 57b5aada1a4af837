# Version tracking: owned by the version-bump work (issue 5). See docs/versions.md.
#
#   make bump VERSION=2026-09   pin VERSION, make it current, regenerate, write docs/api-changes/<old>_<new>.md
#   make spec-diff              what changed in the current version's document since it was pinned ($$SPEC_FILE to try a file)
#   make api-report FROM=v TO=w print the change report between two pinned versions
#   make verify-surface         fail when the Go API loses or changes an identifier listed in api/*.txt
#   make api-update             accept the current Go API: rewrite api/*.txt
#   make check-versions         regenerate, build, vet and surface-check every pinned version and revision in temp copies
#   make versions               the versions the mirror publishes, the pins, their support by HubSpot's calendar (spec/calendar.json)
#   make versions-check         fail when the current pin is unsupported or will be within DAYS (default 90), or was re-published

VERSIONS = $(GO) run ./internal/cmd/versions

.PHONY: bump spec-diff api-report verify-surface api-update check-versions versions versions-check

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

## versions: list the versions the mirror publishes, the pins, each one's support state and end by
## HubSpot's calendar (spec/calendar.json), and what a bump to the newest would change.
versions:
	@$(VERSIONS) status

## versions-check: fail when the current pin is unsupported or will be within DAYS days (default:
## the calendar's 90), or when its document was re-published; the message names the command to run.
versions-check:
	@$(VERSIONS) status -check $(if $(DAYS),-days "$(DAYS)")
