package apidiff

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Markdown renders the report. The output depends only on the report.
func (r *Report) Markdown() []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	title := r.Title
	if title == "" {
		title = "API"
	}
	p("# %s: %s → %s\n\n", title, label(r.From), label(r.To))
	p("From %s to %s. ", docLine(r.From), docLine(r.To))
	p("Both documents are normalized with spec/rules.json (as for code generation) and compared with oasdiff, with the version segment of paths written `{version}`; security scopes are left out.\n\n")

	p("## Summary\n\n")
	p("- Breaking changes: %s\n", breakingSummary(r.Breaking))
	p("- Operations: %s\n", kinds(r.Operations))
	p("- Fields: %s\n", kinds(r.Fields))
	p("- Enum values: %s\n", kinds(r.Enums))
	p("- Response codes and bodies: %s\n", kinds(r.Responses))
	p("- Schemas (Go types): %s\n", kinds(r.Schemas))
	if len(r.Omitted) > 0 {
		var parts []string
		n := 0
		for _, k := range slices.Sorted(maps.Keys(r.Omitted)) {
			parts = append(parts, fmt.Sprintf("%s ×%d", k, r.Omitted[k]))
			n += r.Omitted[k]
		}
		p("- Not shown: %d (%s)\n", n, strings.Join(parts, ", "))
	}
	p("- Raw oasdiff on the published documents (not normalized, security included): %d breaking, %d in all\n", r.Raw.Breaking, r.Raw.All)

	if goBreaking(r.Fields) || goBreaking(r.Schemas) || goBreaking(r.Operations) {
		p("\nRemoved or retyped operations, fields and schemas remove or change Go identifiers even where oasdiff sees no breaking change: `make verify-surface` names them (see docs/versions.md).\n")
	}

	section := func(heading string, entries []Entry) {
		if len(entries) == 0 {
			return
		}
		p("\n## %s\n\n", heading)
		for _, e := range entries {
			if e.Level != "" {
				p("- **%s** `%s`: %s [%s]\n", e.Level, e.Where, e.What, e.ID)
				continue
			}
			p("- `%s`: %s\n", e.Where, e.What)
		}
	}
	section("Breaking changes", r.Breaking)
	section("Operations", r.Operations)
	section("Fields", r.Fields)
	section("Enum values", r.Enums)
	section("Response codes and bodies", r.Responses)
	section("Schemas (Go types)", r.Schemas)
	if r.Entries() == 0 {
		p("\nNo changes that affect the client.\n")
	}
	return b.Bytes()
}

func label(d Document) string {
	if d.Version != "" && !strings.Contains(d.Name, d.Version) {
		return d.Name + " (" + d.Version + ")"
	}
	return d.Name
}

func docLine(d Document) string {
	s := d.SHA256
	if len(s) > 12 {
		s = s[:12]
	}
	return fmt.Sprintf("%s (sha256 %s…)", d.Name, s)
}

func breakingSummary(es []Entry) string {
	if len(es) == 0 {
		return "none"
	}
	n := map[string]int{}
	for _, e := range es {
		n[e.Level]++
	}
	var parts []string
	for _, l := range []string{"error", "warning"} {
		if n[l] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[l], plural(l, n[l])))
		}
	}
	return strings.Join(parts, ", ")
}

func plural(s string, n int) string {
	if n == 1 {
		return s
	}
	return s + "s"
}

func kinds(es []Entry) string {
	if len(es) == 0 {
		return "none"
	}
	n := map[string]int{}
	for _, e := range es {
		n[e.Kind]++
	}
	var parts []string
	for _, k := range []string{Added, Removed, Changed} {
		if n[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[k], k))
		}
	}
	return strings.Join(parts, ", ")
}

func goBreaking(es []Entry) bool {
	for _, e := range es {
		if e.Kind == Removed || (e.Kind == Changed && (strings.HasPrefix(e.What, "type ") || strings.HasPrefix(e.What, "format "))) {
			return true
		}
	}
	return false
}

// Summary is the report in one line, from the counts its Summary section
// shows: the entries, breaking changes always, then each section that has
// any, e.g. "7 changes (breaking: none; fields: 4 added; schemas (Go
// types): 1 removed)".
func (r *Report) Summary() string {
	parts := []string{"breaking: " + breakingSummary(r.Breaking)}
	for _, s := range []struct {
		name    string
		entries []Entry
	}{
		{"operations", r.Operations},
		{"fields", r.Fields},
		{"enum values", r.Enums},
		{"response codes and bodies", r.Responses},
		{"schemas (Go types)", r.Schemas},
	} {
		if len(s.entries) > 0 {
			parts = append(parts, s.name+": "+kinds(s.entries))
		}
	}
	n := r.Entries()
	return fmt.Sprintf("%d %s (%s)", n, plural("change", n), strings.Join(parts, "; "))
}
