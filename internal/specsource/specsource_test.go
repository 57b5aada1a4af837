package specsource

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

const docPath = "PublicApiSpecs/CRM/Associations Schema/Rollouts/130902/2026-03/associationsSchema.json"

var doc = []byte(`{"openapi":"3.0.1","info":{"title":"t","version":"2026-03"},"paths":{}}`)

func folderMirror(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, filepath.FromSlash(docPath))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestSource_Fetch_folderWithSpaces(t *testing.T) {
	t.Parallel()
	cache := t.TempDir()
	s := &Source{Mirror: folderMirror(t), CacheDir: cache}
	pin := Pin{Version: "2026-03", Path: docPath, SHA256: Sum(doc)}
	got, err := s.Fetch(context.Background(), pin)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(doc) {
		t.Fatalf("got %q", got)
	}
	if _, err := os.Stat(filepath.Join(cache, pin.SHA256+".json")); err != nil {
		t.Errorf("not cached: %v", err)
	}
}

func TestSource_Fetch_httpEscapesAndCaches(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.EscapedPath() != "/base/"+strings.ReplaceAll(docPath, " ", "%20") {
			http.NotFound(w, r)
			return
		}
		w.Write(doc)
	}))
	defer srv.Close()
	s := &Source{Mirror: srv.URL + "/base/", CacheDir: t.TempDir()}
	pin := Pin{Version: "2026-03", Path: docPath, SHA256: Sum(doc)}
	for i := 0; i < 2; i++ {
		if _, err := s.Fetch(context.Background(), pin); err != nil {
			t.Fatal(err)
		}
	}
	if hits.Load() != 1 {
		t.Errorf("server hit %d times, want 1 (second fetch from cache)", hits.Load())
	}
}

func TestSource_Fetch_checksumMismatch(t *testing.T) {
	t.Parallel()
	cache := t.TempDir()
	s := &Source{Mirror: folderMirror(t), CacheDir: cache}
	want := strings.Repeat("0", 64)
	_, err := s.Fetch(context.Background(), Pin{Version: "2026-03", Path: docPath, SHA256: want})
	var ce *ChecksumError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *ChecksumError", err)
	}
	msg := err.Error()
	for _, part := range []string{docPath, want, Sum(doc)} {
		if !strings.Contains(msg, part) {
			t.Errorf("error %q does not name %q", msg, part)
		}
	}
	if entries, _ := os.ReadDir(cache); len(entries) != 0 {
		t.Errorf("cache holds %d files after a mismatch, want none", len(entries))
	}
}

func TestLoadPins_errors(t *testing.T) {
	t.Parallel()
	sha := strings.Repeat("a", 64)
	tests := map[string]string{
		`{"current":"2026-03","pins":[]}`:                                                                                                 `current: version "2026-03" is not pinned`,
		`{"current":"x","pins":[{"version":"x","path":"a","sha256":"` + sha + `"}]}`:                                                      `pins[0].version: "x" is not an API version`,
		`{"current":"v4","pins":[{"version":"v4","path":"/abs","sha256":"` + sha + `"}]}`:                                                 `pins[0].path`,
		`{"current":"v4","pins":[{"version":"v4","path":"a","sha256":"ABC"}]}`:                                                            `pins[0].sha256`,
		`{"current":"v4","pins":[{"version":"v4","path":"a","sha256":"` + sha + `"},{"version":"v4","path":"b","sha256":"` + sha + `"}]}`: `pins[1].version: v4 pinned twice`,
	}
	for in, want := range tests {
		f := filepath.Join(t.TempDir(), "pins.json")
		os.WriteFile(f, []byte(in), 0o644)
		_, err := LoadPins(f)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), f) {
			t.Errorf("LoadPins(%s) = %v, want %q naming the file", in, err, want)
		}
	}
}

func TestLoadPins_repository(t *testing.T) {
	t.Parallel()
	p, err := LoadPins("../../spec/pins.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"2025-09", "v4", "2026-03", "2026-09"} {
		if _, err := p.Find(v); err != nil {
			t.Error(err)
		}
	}
}

// TestPins_matchMirror checks every pin against the mirror, when one is set.
func TestPins_matchMirror(t *testing.T) {
	if _, err := LocalMirror(); err != nil {
		t.Skip(err)
	}
	p, err := LoadPins("../../spec/pins.json")
	if err != nil {
		t.Fatal(err)
	}
	s := FromEnv("")
	for _, pin := range p.Pins {
		if _, err := s.Fetch(context.Background(), pin); err != nil {
			t.Errorf("%s: %v", pin.Version, err)
		}
	}
}

func TestWriteFileAtomic_noPartialFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	target := filepath.Join(dir, "missing-dir-is-a-file")
	os.WriteFile(target, []byte("x"), 0o644)
	if err := WriteFileAtomic(filepath.Join(target, "out.json"), doc); err == nil {
		t.Fatal("want an error writing under a file")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("dir holds %d entries, want only the original file", len(entries))
	}
}

func TestResolveLocal_relativeToModuleRoot(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pkg := filepath.Join(root, "generated", "associations")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(pkg) // where go generate runs a package's generators
	if got, want := ResolveLocal("../shared/specs"), filepath.Join(filepath.Dir(root), "shared", "specs"); got != want {
		t.Errorf("ResolveLocal(relative) = %s, want %s (relative to the module root)", got, want)
	}
	if got := ResolveLocal("/abs/specs/"); got != "/abs/specs" {
		t.Errorf("ResolveLocal(absolute) = %s, want /abs/specs", got)
	}
	t.Setenv(MirrorEnv, "mirror")
	if got, want := FromEnv("").Mirror, filepath.Join(root, "mirror"); got != want {
		t.Errorf("FromEnv().Mirror = %s, want %s", got, want)
	}
	t.Setenv(MirrorEnv, "https://example.com/base")
	if got := FromEnv("").Mirror; got != "https://example.com/base" {
		t.Errorf("FromEnv().Mirror = %s, want the address unchanged", got)
	}
}

// TestGetMirror_oneTruth: the Makefile tells how to get a mirror with the
// line skipped tests print, and LocalMirror refuses what is not a local
// folder with it.
func TestGetMirror_oneTruth(t *testing.T) {
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mk), "GET_MIRROR = "+GetMirror+"\n") {
		t.Errorf("the Makefile's GET_MIRROR differs from specsource.GetMirror %q", GetMirror)
	}
	for _, m := range []string{"", "https://example.com/specs", filepath.Join(t.TempDir(), "missing")} {
		t.Setenv(MirrorEnv, m)
		if _, err := LocalMirror(); err == nil || !strings.HasSuffix(err.Error(), "; "+GetMirror) {
			t.Errorf("LocalMirror() with %s=%q: %v, want an error ending with how to get a mirror", MirrorEnv, m, err)
		}
	}
	d := t.TempDir()
	t.Setenv(MirrorEnv, d)
	if got, err := LocalMirror(); err != nil || got != d {
		t.Errorf("LocalMirror() = %q, %v; want %q", got, err, d)
	}
}
