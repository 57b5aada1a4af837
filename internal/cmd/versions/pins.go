package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/crmkit/hubspot-associations/internal/specsource"
)

// formatPins renders pins the way spec/pins.json is kept: two-space
// indent, one pin per line, pins sorted by version. The same pins always
// give the same bytes, so a bump and the bump back leave the file as it was.
func formatPins(p *specsource.Pins) []byte {
	pins := slices.Clone(p.Pins)
	slices.SortFunc(pins, func(a, b specsource.Pin) int { return strings.Compare(a.Version, b.Version) })
	var b bytes.Buffer
	b.WriteString("{\n")
	if p.API != "" {
		fmt.Fprintf(&b, "  \"api\": %s,\n", jsonString(p.API))
	}
	fmt.Fprintf(&b, "  \"current\": %s,\n", jsonString(p.Current))
	b.WriteString("  \"pins\": [\n")
	for i, pin := range pins {
		fmt.Fprintf(&b, "    {\"version\": %s, \"path\": %s, \"sha256\": %s}", jsonString(pin.Version), jsonString(pin.Path), jsonString(pin.SHA256))
		if i < len(pins)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("  ]\n}\n")
	return b.Bytes()
}

func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// pathFor returns the collection path of version next, following the
// layout of from: the segment equal to from.Version is replaced.
func pathFor(from specsource.Pin, next string) (string, error) {
	segs := strings.Split(from.Path, "/")
	n := 0
	for i, s := range segs {
		if s == from.Version {
			segs[i] = next
			n++
		}
	}
	if n != 1 {
		return "", fmt.Errorf("pin %s: path %q has %d segments %q; cannot derive the path of %s", from.Version, from.Path, n, from.Version, next)
	}
	return strings.Join(segs, "/"), nil
}

// setPin adds pin or replaces the pin of the same version.
func setPin(p *specsource.Pins, pin specsource.Pin) {
	for i := range p.Pins {
		if p.Pins[i].Version == pin.Version {
			p.Pins[i] = pin
			return
		}
	}
	p.Pins = append(p.Pins, pin)
}
