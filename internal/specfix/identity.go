package specfix

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Options say what is being generated: which API's rules apply and which
// version a document that publishes several keeps.
type Options struct {
	// API names the rule set to apply (Rules.Documents[].API), as the pin
	// or a flag says. Empty: the rule set whose required operations the
	// document holds (at least one of them), if any.
	API string
	// Version is the API version kept when a document publishes the same
	// operation under several versions (HubSpot's merged documents).
	// Empty: the document's info.version.
	Version string
}

// CanonicalPath is the identity of an operation's path across HubSpot's
// spellings: the version segment is removed wherever it stands and every
// path parameter is written {}. /crm/v4/associations/X/{a},
// /crm/associations/v4/X/{b} and /crm/associations/2026-03/X/{c} are all
// /crm/associations/X/{}. A rule path's {version} segment is removed too.
func CanonicalPath(p string) string {
	segs := strings.Split(p, "/")
	out := segs[:0:0]
	dropped := false
	for _, s := range segs {
		if !dropped && (s == "{version}" || versionSegment.MatchString(s)) {
			dropped = true
			continue
		}
		if isParam(s) {
			s = "{}"
		}
		out = append(out, s)
	}
	return strings.Join(out, "/")
}

// pathVersion returns the version segment of p, "" when it has none.
func pathVersion(p string) string {
	for _, s := range strings.Split(p, "/") {
		if versionSegment.MatchString(s) {
			return s
		}
	}
	return ""
}

func isParam(s string) bool { return strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") }

// checkTemplate reports a path with an unbalanced, nested or empty
// {parameter} (/x/{y): oapi-codegen cannot generate a client for it.
func checkTemplate(p string) error {
	for _, s := range strings.Split(p, "/") {
		open := -1
		for i, r := range s {
			switch {
			case r == '{' && open < 0:
				open = i
			case r == '}' && open >= 0 && i > open+1:
				open = -1
			case r == '{' || r == '}':
				return fmt.Errorf("path segment %q: unbalanced, nested or empty {parameter}", s)
			}
		}
		if open >= 0 {
			return fmt.Errorf("path segment %q: unbalanced, nested or empty {parameter}", s)
		}
	}
	return nil
}

// opKey identifies an operation across spellings.
func opKey(method, path string) string { return strings.ToLower(method) + " " + CanonicalPath(path) }

// selectRules picks the rule set: the one opts.API names, or else the one
// whose required operations the document holds.
func (n *normalizer) selectRules(rules *Rules, api string) error {
	if api != "" {
		n.rules = rules.forAPI(api)
		if n.rules == nil {
			return n.errorf("", "no rules for API %q (rules name: %s)", api, strings.Join(rules.APIs(), ", "))
		}
		return nil
	}
	if rules == nil {
		return nil
	}
	present := map[string]bool{}
	n.eachOperation(func(p, m string, _ map[string]any) error {
		present[opKey(m, p)] = true
		return nil
	})
	for i := range rules.Documents {
		for _, r := range rules.Documents[i].Operations {
			if !r.Optional && present[opKey(r.Method, r.Path)] {
				n.rules = &rules.Documents[i]
				return nil
			}
		}
	}
	return nil
}

// compareVersions orders API versions: v1 < v4 < 2025-09 < 2026-03 <
// 2026-03-beta... (dated versions are newer than numbered ones).
func compareVersions(a, b string) int {
	num := func(v string) (int, bool) {
		if len(v) > 1 && v[0] == 'v' {
			n, err := strconv.Atoi(v[1:])
			return n, err == nil
		}
		return 0, false
	}
	na, aNum := num(a)
	nb, bNum := num(b)
	switch {
	case aNum && bNum:
		return na - nb
	case aNum:
		return -1
	case bNum:
		return 1
	}
	return strings.Compare(a, b)
}

// mergedVersions keeps one version of operations a document publishes
// under several (HubSpot's merged documents hold /crm/associations/v4/X
// and /crm/associations/2025-09/X): the requested version's, or the newest
// when the requested one is not among them. Operations published once stay
// whatever their version.
func (n *normalizer) mergedVersions() error {
	type entry struct{ path, method, version string }
	groups := map[string][]entry{}
	n.eachOperation(func(p, m string, _ map[string]any) error {
		if v := pathVersion(p); v != "" {
			k := opKey(m, p)
			groups[k] = append(groups[k], entry{p, m, v})
		}
		return nil
	})
	paths := obj(n.doc, "paths")
	dropped := map[[2]string]int{} // {left out, kept} -> operations
	for _, k := range slices.Sorted(maps.Keys(groups)) {
		g := groups[k]
		versions := map[string]bool{}
		for _, e := range g {
			versions[e.version] = true
		}
		if len(versions) < 2 {
			continue
		}
		keep := n.version
		if !versions[keep] {
			keep = slices.MaxFunc(slices.Collect(maps.Keys(versions)), compareVersions)
		}
		var kept string
		for _, e := range g {
			if e.version == keep {
				kept = strings.ToUpper(e.method) + " " + e.path
				break
			}
		}
		for _, e := range g {
			if e.version == keep {
				continue
			}
			item := obj(paths, e.path)
			delete(item, e.method)
			dropped[[2]string{e.version, keep}]++
			n.changed("merged-versions", pointer("paths", e.path, e.method), "left out: version %s of %s (kept)", e.version, kept)
			if !hasOperation(item) {
				delete(paths, e.path)
			}
		}
	}
	keys := slices.SortedFunc(maps.Keys(dropped), func(a, b [2]string) int {
		return strings.Compare(a[0]+"\x00"+a[1], b[0]+"\x00"+b[1])
	})
	for _, k := range keys {
		n.warnings = append(n.warnings, fmt.Sprintf("%s: the document publishes several versions (requested: %s); kept %s, left out %d duplicate operations of %s (see -report)", n.file, n.version, k[1], dropped[k], k[0]))
	}
	return nil
}

func hasOperation(item map[string]any) bool {
	for m := range item {
		if httpMethods[m] {
			return true
		}
	}
	return false
}
