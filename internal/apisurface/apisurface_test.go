package apisurface

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/crmkit/hubspot-associations/internal/specfix"
)

const src = `package p

import (
	"context"
	"io"
)

// Version changes with every API version: recorded by kind only.
const Version = "2026-03"

type Kind string

const KindSmall Kind = "SMALL"

var Default *Client

type Client struct {
	Timeout int
	hidden  int
	io.Writer
}

type Doer interface {
	Do(ctx context.Context, n int) error
}

type Func func(name string) error

func New(base string, opts ...Option) (*Client, error) { return nil, nil }

type Option func(*Client) error

func (c *Client) Get(ctx context.Context, id string) ([]byte, error) { return nil, nil }
func (c Client) String() string                                     { return "" }
func (c *Client) internal()                                         {}

func Map[K comparable, V any](m map[K]V) []K { return nil }
`

func writeModule(t *testing.T, code string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/m\n\ngo 1.22\n",
		"p/p.go": code,
	}
	for name, data := range files {
		f := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoad_lines(t *testing.T) {
	t.Parallel()
	lines, err := Load(writeModule(t, src), "./p")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"const KindSmall Kind = \"SMALL\"",
		"const Version untyped string",
		"func Map[K comparable, V any](map[K]V) []K",
		"func New(string, ...Option) (*Client, error)",
		"method (*Client) Get(context.Context, string) ([]byte, error)",
		"method (Client) String() string",
		"type Client struct",
		"type Client struct, Timeout int",
		"type Client struct, embedded io.Writer",
		"type Doer interface",
		"type Doer interface, Do(context.Context, int) error",
		"type Func func(string) error",
		"type Kind string",
		"type Option func(*Client) error",
		"var Default *Client",
	}
	for i := range want {
		want[i] = "pkg example.com/m/p, " + want[i]
	}
	if !slices.Equal(lines, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestDiff_removedChangedAdded(t *testing.T) {
	t.Parallel()
	recorded := []string{
		"pkg p, func New(string) *Client",
		"pkg p, type Client struct",
		"pkg p, type Client struct, Timeout int",
		"pkg p, method (*Client) Close() error",
	}
	current := []string{
		"pkg p, func New(string, ...Option) *Client",
		"pkg p, type Client struct",
		"pkg p, type Client struct, Timeout int",
		"pkg p, type Client struct, Retries int",
	}
	broken, added := Diff(recorded, current)
	if len(broken) != 2 || broken[0].Current == "" || broken[1].Current != "" {
		t.Errorf("broken = %v", broken)
	}
	if !strings.HasPrefix(broken[0].String(), "changed: pkg p, func New(string) *Client") {
		t.Errorf("changed reported as %q", broken[0])
	}
	if !strings.HasPrefix(broken[1].String(), "removed: pkg p, method (*Client) Close") {
		t.Errorf("removed reported as %q", broken[1])
	}
	if len(added) != 1 || added[0].Current != "pkg p, type Client struct, Retries int" {
		t.Errorf("added = %v", added)
	}
}

func TestKey(t *testing.T) {
	t.Parallel()
	for line, key := range map[string]string{
		"pkg p, const A untyped int":                  "pkg p, const A",
		"pkg p, method (*C) Do(int) error":            "pkg p, method (*C) Do",
		"pkg p, type C struct":                        "pkg p, type C",
		"pkg p, type C struct, F []int":               "pkg p, type C struct, F",
		"pkg p, type R[T any] struct, F T":            "pkg p, type R[T any] struct, F",
		"pkg p, type I interface, M() error":          "pkg p, type I interface, M",
		"pkg p, type K string":                        "pkg p, type K",
		"pkg p, type C struct, embedded *other.Thing": "pkg p, type C struct, embedded *other.Thing",
	} {
		if got := Key(line); got != key {
			t.Errorf("Key(%q) = %q, want %q", line, got, key)
		}
	}
}

func TestReadFile_formatRoundTrip(t *testing.T) {
	t.Parallel()
	lines := []string{"pkg p, const A untyped int", "pkg p, type K string"}
	f := filepath.Join(t.TempDir(), "p.txt")
	data := append([]byte("# header\n\n"), Format(lines)...)
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(f)
	if err != nil || !slices.Equal(got, lines) {
		t.Errorf("ReadFile = %v, %v", got, err)
	}
}

// TestLoad_uncuratedLeftOut: types generated from schemas no type rule
// names carry specfix.UncuratedNote and stay out of the surface, with
// their fields and methods; curated ones stay in.
func TestLoad_uncuratedLeftOut(t *testing.T) {
	t.Parallel()
	code := `package p

// Limit HubSpot schema: PublicAssociationDefinitionUserConfiguration.
type Limit struct {
	TypeID int32
}

// BatchResponseThing HubSpot schema: BatchResponseThing. ` + specfix.UncuratedNote + `
type BatchResponseThing struct {
	Status string
}

func (BatchResponseThing) Valid() bool { return true }

type (
	// PagingX HubSpot schema: PagingX. Not curated: the name is HubSpot's
	// and may change between revisions.
	PagingX struct{ After string }
	Other   struct{}
)
`
	lines, err := Load(writeModule(t, code), "./p")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(lines, "\n")
	for _, want := range []string{"type Limit struct, TypeID int32", "type Other struct"} {
		if !strings.Contains(got, want) {
			t.Errorf("surface lacks %q:\n%s", want, got)
		}
	}
	for _, gone := range []string{"BatchResponseThing", "PagingX"} {
		if strings.Contains(got, gone) {
			t.Errorf("surface holds the uncurated %s:\n%s", gone, got)
		}
	}
}
