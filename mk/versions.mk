# Version tracking: owned by the version-bump work (issue 5).
.PHONY: verify-surface
verify-surface:
	@echo "verify-surface: no surface file yet"
