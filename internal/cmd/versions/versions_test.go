package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmkit/hubspot-associations/generated/associations"
	"github.com/crmkit/hubspot-associations/internal/specsource"
)

const pinsFile = "../../../spec/pins.json"

// TestGenerated_versionMatchesPin: the User-Agent and APIVersion of the
// generated package always agree with the current pin.
func TestGenerated_versionMatchesPin(t *testing.T) {
	t.Parallel()
	pins, err := specsource.LoadPins(pinsFile)
	if err != nil {
		t.Fatal(err)
	}
	if associations.APIVersion != pins.Current {
		t.Errorf("associations.APIVersion = %q, spec/pins.json current = %q: run make generate", associations.APIVersion, pins.Current)
	}
	if !strings.Contains(associations.UserAgent, pins.Current) {
		t.Errorf("associations.UserAgent = %q does not contain the current version %q: run make generate", associations.UserAgent, pins.Current)
	}
}

// TestFormatPins_keepsFile: spec/pins.json is kept in the form formatPins
// writes, so bumping there and back leaves it byte-identical.
func TestFormatPins_keepsFile(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(pinsFile)
	if err != nil {
		t.Fatal(err)
	}
	pins, err := specsource.LoadPins(pinsFile)
	if err != nil {
		t.Fatal(err)
	}
	if got := formatPins(pins); !bytes.Equal(got, data) {
		t.Errorf("formatPins differs from spec/pins.json:\n%s", got)
	}
}

func TestFormatPins_roundTrip(t *testing.T) {
	t.Parallel()
	p := &specsource.Pins{Current: "2026-03", Pins: []specsource.Pin{
		{Version: "v4", Path: "A B/v4/x.json", SHA256: strings.Repeat("a", 64)},
		{Version: "2026-03", Path: "A B/2026-03/x.json", SHA256: strings.Repeat("b", 64)},
	}}
	first := formatPins(p)
	setPin(p, specsource.Pin{Version: "2026-09", Path: "A B/2026-09/x.json", SHA256: strings.Repeat("c", 64)})
	p.Current = "2026-09"
	p.Current = "2026-03"
	p.Pins = p.Pins[:2]
	if got := formatPins(p); !bytes.Equal(got, first) {
		t.Errorf("not stable:\n%s\n%s", first, got)
	}
	f := filepath.Join(t.TempDir(), "pins.json")
	if err := os.WriteFile(f, first, 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := specsource.LoadPins(f)
	if err != nil {
		t.Fatalf("formatPins output does not load: %v\n%s", err, first)
	}
	if back.Current != "2026-03" || len(back.Pins) != 2 || back.Pins[0].Version != "2026-03" {
		t.Errorf("loaded back %+v", back)
	}
}

func TestPathFor(t *testing.T) {
	t.Parallel()
	from := specsource.Pin{Version: "2026-03", Path: "PublicApiSpecs/CRM/Associations Schema/Rollouts/130902/2026-03/associationsSchema.json"}
	got, err := pathFor(from, "2026-09")
	if err != nil {
		t.Fatal(err)
	}
	if want := "PublicApiSpecs/CRM/Associations Schema/Rollouts/130902/2026-09/associationsSchema.json"; got != want {
		t.Errorf("pathFor = %q, want %q", got, want)
	}
	if _, err := pathFor(specsource.Pin{Version: "v4", Path: "a/b.json"}, "v5"); err == nil {
		t.Error("pathFor accepted a path without the version segment")
	}
}
