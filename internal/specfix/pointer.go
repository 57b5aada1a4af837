package specfix

import (
	"fmt"
	"strings"
)

// splitPointer splits an RFC 6901 JSON pointer into unescaped tokens.
func splitPointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("JSON pointer %q does not start with /", p)
	}
	parts := strings.Split(p[1:], "/")
	for i, s := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
	}
	return parts, nil
}

// pointer joins tokens into an RFC 6901 JSON pointer.
func pointer(tokens ...string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

// lookup returns the value at pointer p in doc.
func lookup(doc any, p string) (any, bool) {
	toks, err := splitPointer(p)
	if err != nil {
		return nil, false
	}
	cur := doc
	for _, t := range toks {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[t]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// obj returns m[key] as an object, or nil.
func obj(m map[string]any, key string) map[string]any {
	if m == nil {
		return nil
	}
	v, _ := m[key].(map[string]any)
	return v
}

// ensureObj returns m[key] as an object, creating it when absent.
func ensureObj(m map[string]any, key string) map[string]any {
	if v := obj(m, key); v != nil {
		return v
	}
	v := map[string]any{}
	m[key] = v
	return v
}
