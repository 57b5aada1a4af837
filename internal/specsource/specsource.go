// Package specsource reads HubSpot's published OpenAPI documents by pin:
// a path in HubSpot's public spec collection plus the document's sha256.
// Documents come from a mirror (a local folder laid out like the
// collection, or an https base address), are cached in a git-ignored
// folder, and are verified against the pin before use.
package specsource

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// MirrorEnv names the environment variable that selects the mirror.
const MirrorEnv = "HUBSPOT_SPEC_MIRROR"

// DefaultMirror is the raw address of HubSpot's public spec collection.
const DefaultMirror = "https://raw.githubusercontent.com/HubSpot/HubSpot-public-api-spec-collection/main"

// GetMirror is the one way messages say how to get a local mirror: a clone
// of HubSpot's public spec collection (the Makefile prints the same line;
// a test keeps them equal).
const GetMirror = "get a mirror: git clone --depth 1 https://github.com/HubSpot/HubSpot-public-api-spec-collection ../hubspot-specs, then HUBSPOT_SPEC_MIRROR=../hubspot-specs make test"

// LocalMirror returns the local mirror folder $HUBSPOT_SPEC_MIRROR names
// (a relative one taken from the module root, see ResolveLocal), or an
// error, one line saying why there is none and how to get one. Tests that
// need HubSpot's documents skip with that line: they read a local folder
// only, never the network, so an unset variable, an https address and a
// folder that does not exist are all "no mirror".
func LocalMirror() (string, error) {
	m := os.Getenv(MirrorEnv)
	switch {
	case m == "":
		return "", fmt.Errorf("needs HubSpot's documents: $%s is unset; %s", MirrorEnv, GetMirror)
	case isHTTP(m):
		return "", fmt.Errorf("needs HubSpot's documents in a local folder: $%s is an address (%s), and tests never use the network; %s", MirrorEnv, m, GetMirror)
	}
	d := ResolveLocal(m)
	if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("needs HubSpot's documents: $%s=%s is not a folder; %s", MirrorEnv, d, GetMirror)
	}
	return d, nil
}

// MaxDocumentBytes caps the size of a fetched document.
const MaxDocumentBytes = 64 << 20

// Pin identifies one published document.
type Pin struct {
	Version string `json:"version"` // API version, e.g. 2026-03
	Path    string `json:"path"`    // path in the spec collection
	SHA256  string `json:"sha256"`  // lowercase hex
}

// Pins is the content of spec/pins.json.
type Pins struct {
	// API names the API the pins are for: the rule set of spec/rules.json
	// that specfix applies to their documents (whatever title HubSpot
	// gives a revision). Empty: specfix picks the rule set whose
	// operations the document holds.
	API string `json:"api,omitempty"`
	// Current is the version the committed client is generated from.
	Current string `json:"current"`
	Pins    []Pin  `json:"pins"`
}

var (
	shaRE     = regexp.MustCompile(`^[0-9a-f]{64}$`)
	versionRE = regexp.MustCompile(`^(v[0-9]+|[0-9]{4}-[0-9]{2}(-[a-z]+)?)$`)
)

// LoadPins reads and checks a pins file.
func LoadPins(file string) (*Pins, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var p Pins
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	seen := map[string]bool{}
	for i, pin := range p.Pins {
		switch {
		case !versionRE.MatchString(pin.Version):
			return nil, fmt.Errorf("%s: pins[%d].version: %q is not an API version", file, i, pin.Version)
		case seen[pin.Version]:
			return nil, fmt.Errorf("%s: pins[%d].version: %s pinned twice", file, i, pin.Version)
		case pin.Path == "" || strings.HasPrefix(pin.Path, "/") || strings.Contains(pin.Path, ".."):
			return nil, fmt.Errorf("%s: pins[%d].path: %q must be a relative path in the collection", file, i, pin.Path)
		case !shaRE.MatchString(pin.SHA256):
			return nil, fmt.Errorf("%s: pins[%d].sha256: %q is not a lowercase hex sha256", file, i, pin.SHA256)
		}
		seen[pin.Version] = true
	}
	if _, err := p.Find(p.Current); err != nil {
		return nil, fmt.Errorf("%s: current: %v", file, err)
	}
	return &p, nil
}

// Find returns the pin of version.
func (p *Pins) Find(version string) (Pin, error) {
	for _, pin := range p.Pins {
		if pin.Version == version {
			return pin, nil
		}
	}
	return Pin{}, fmt.Errorf("version %q is not pinned", version)
}

// Source fetches pinned documents.
type Source struct {
	Mirror   string       // folder or http(s) base address; "" means DefaultMirror
	CacheDir string       // where fetched documents are kept; "" disables caching
	Client   *http.Client // for http mirrors; nil means a client with a timeout
}

// FromEnv returns a Source using $HUBSPOT_SPEC_MIRROR (or the default).
// A relative folder is taken relative to the module root (see
// ResolveLocal), so `make generate` and `go generate ./...` agree.
func FromEnv(cacheDir string) *Source {
	m := os.Getenv(MirrorEnv)
	if m != "" && !isHTTP(m) {
		m = ResolveLocal(m)
	}
	return &Source{Mirror: m, CacheDir: cacheDir}
}

// ResolveLocal makes a relative path from the environment absolute against
// the module root: the nearest folder above the working directory that
// holds go.mod. go generate runs each generator in its package's folder, so
// a path the user wrote relative to the module root (where they ran
// `go generate ./...` or make) would otherwise point elsewhere. Absolute
// paths, and relative ones outside any module, are returned cleaned.
func ResolveLocal(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	wd, err := os.Getwd()
	if err != nil {
		return filepath.Clean(p)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, p)
		}
		if filepath.Dir(dir) == dir {
			return filepath.Join(wd, p)
		}
	}
}

func (s *Source) mirror() string {
	if s.Mirror == "" {
		return DefaultMirror
	}
	return s.Mirror
}

func isHTTP(m string) bool {
	return strings.HasPrefix(m, "https://") || strings.HasPrefix(m, "http://")
}

// IsLocal reports whether the mirror is a local folder (not an address).
func (s *Source) IsLocal() bool { return !isHTTP(s.mirror()) }

// Location returns the mirror: a folder or an address.
func (s *Source) Location() string { return s.mirror() }

// Where describes where pin is read from (for messages).
func (s *Source) Where(pin Pin) string {
	if isHTTP(s.mirror()) {
		return documentURL(s.mirror(), pin.Path)
	}
	return filepath.Join(s.mirror(), filepath.FromSlash(pin.Path))
}

func documentURL(base, p string) string {
	segs := strings.Split(p, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	return strings.TrimRight(base, "/") + "/" + strings.Join(segs, "/")
}

// ChecksumError reports a document whose sha256 differs from its pin.
type ChecksumError struct {
	Path, Want, Got string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("%s: sha256 mismatch: expected %s, got %s", e.Path, e.Want, e.Got)
}

// Sum returns the lowercase hex sha256 of data.
func Sum(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// Fetch returns the pinned document, verified against its sha256.
func (s *Source) Fetch(ctx context.Context, pin Pin) ([]byte, error) {
	cached := ""
	if s.CacheDir != "" {
		cached = filepath.Join(s.CacheDir, pin.SHA256+".json")
		if data, err := os.ReadFile(cached); err == nil && Sum(data) == pin.SHA256 {
			return data, nil
		}
	}
	data, err := s.read(ctx, pin.Path)
	if err != nil {
		return nil, err
	}
	if got := Sum(data); got != pin.SHA256 {
		return nil, &ChecksumError{Path: pin.Path, Want: pin.SHA256, Got: got}
	}
	if cached != "" {
		if err := WriteFileAtomic(cached, data); err != nil {
			return nil, err
		}
	}
	return data, nil
}

// Read returns the document at path p in the mirror, unverified. A document
// the mirror does not have is an error errors.Is(err, fs.ErrNotExist).
func (s *Source) Read(ctx context.Context, p string) ([]byte, error) { return s.read(ctx, p) }

func (s *Source) read(ctx context.Context, p string) ([]byte, error) {
	m := s.mirror()
	if !isHTTP(m) {
		f, err := os.Open(filepath.Join(m, filepath.FromSlash(p)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w (mirror folder %s, from $%s)", p, errors.Unwrap(err), m, MirrorEnv)
		}
		defer f.Close()
		return readCapped(f, p)
	}
	u := documentURL(m, p)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	c := s.Client
	if c == nil {
		c = &http.Client{Timeout: 60 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %v (set $%s to a local mirror to work offline)", p, err, MirrorEnv)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &statusError{msg: fmt.Sprintf("%s: GET %s: %s", p, u, resp.Status), code: resp.StatusCode}
	}
	return readCapped(resp.Body, p)
}

// statusError is a mirror's answer other than 200; a 404 is
// fs.ErrNotExist, as a missing file in a local mirror is.
type statusError struct {
	msg  string
	code int
}

func (e *statusError) Error() string { return e.msg }

func (e *statusError) Is(target error) bool {
	return e.code == http.StatusNotFound && target == fs.ErrNotExist
}

func readCapped(r io.Reader, name string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxDocumentBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if len(data) > MaxDocumentBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, MaxDocumentBytes)
	}
	return data, nil
}

// WriteFileAtomic writes data to a temporary file beside path and renames
// it into place, so a failure never leaves a half-written file.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
