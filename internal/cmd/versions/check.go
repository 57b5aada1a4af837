package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/crmkit/hubspot-associations/internal/specfix"
	"github.com/crmkit/hubspot-associations/internal/specsource"
)

// variant is one document the client must generate and build from.
type variant struct {
	name    string   // e.g. "2026-09" or "revision 2026-02-09.json"
	file    string   // the document, passed as SPEC_FILE
	version string   // SPEC_VERSION: the pin's version, "" for the document's info.version
	missing []string // operations of the rules the document lacks: it must be refused, in one line naming them
}

type result struct {
	v       variant
	curated []string // curated Go type names generated (docs/type-names.md)
	version string   // APIVersion in the generated code
	failed  string   // step that failed, "" if all passed
	refusal string   // for a document that must be refused: specfix's line
	output  string
	took    time.Duration
}

func cmdCheck(args []string, stdout, stderr io.Writer) error {
	fset := newFlags("check", stderr)
	var c common
	c.register(fset)
	workers := fset.Int("j", 2, "`number` of versions checked at a time (each in its own copy)")
	keep := fset.Bool("keep", false, "keep the temporary copies")
	if err := fset.Parse(args); err != nil {
		return errReported
	}
	mirror := os.Getenv(specsource.MirrorEnv)
	if mirror == "" {
		fmt.Fprintf(stdout, "check-versions: skipped: set %s to a spec mirror to run it, e.g.\n  make check-versions %s=../shared/hubspot-specs\n", specsource.MirrorEnv, specsource.MirrorEnv)
		return nil
	}
	start := time.Now()
	pins, err := specsource.LoadPins(c.pins)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "check-versions-")
	if err != nil {
		return err
	}
	if *keep {
		fmt.Fprintf(stdout, "check-versions: copies kept in %s\n", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	// The documents: every pin (verified), then the revisions in the mirror.
	src := specsource.FromEnv(c.cache)
	var variants []variant
	docs := filepath.Join(tmp, "docs")
	for _, pin := range pins.Pins {
		data, err := src.Fetch(context.Background(), pin)
		if err != nil {
			return err
		}
		f := filepath.Join(docs, pin.Version+".json")
		if err := specsource.WriteFileAtomic(f, data); err != nil {
			return err
		}
		variants = append(variants, variant{name: pin.Version, file: f, version: pin.Version})
	}
	// Earlier revisions of pinned versions (revisions/) and samples of
	// older revisions (samples/, spelled differently: other titles, /crm/v4
	// paths, merged versions, fewer operations) must generate, build,
	// compile internal/contract and keep the guarded surface (the curated
	// names), or be refused in one line when they lack operations.
	rules, err := specfix.LoadRules(c.rules)
	if err != nil {
		return err
	}
	for _, kind := range []string{"revisions", "samples"} {
		found, _ := filepath.Glob(filepath.Join(mirror, kind, "*", "*.json"))
		slices.Sort(found)
		for _, f := range found {
			raw, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			missing, err := rules.MissingOperations(pins.API, raw)
			if err != nil {
				return fmt.Errorf("%s: %v", c.rules, err)
			}
			name := strings.TrimSuffix(kind, "s") + " " + filepath.Base(filepath.Dir(f)) + "/" + filepath.Base(f)
			variants = append(variants, variant{name: name, file: f, missing: missing})
		}
	}

	wantCurated := curatedNames(".")
	files, err := repoFiles(".")
	if err != nil {
		return err
	}
	n := max(1, min(*workers, len(variants)))
	fmt.Fprintf(stdout, "check-versions: %d documents, %d at a time, in copies of the working tree (%d files) under %s\n", len(variants), n, len(files), tmp)

	queue := make(chan int)
	results := make([]result, len(variants))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var copyErr error
	for w := 0; w < n; w++ {
		dir := filepath.Join(tmp, fmt.Sprintf("copy%d", w))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := copyFiles(".", dir, files); err != nil {
				mu.Lock()
				copyErr = err
				mu.Unlock()
				for range queue {
				}
				return
			}
			for i := range queue {
				results[i] = checkOne(dir, variants[i], wantCurated)
				r := results[i]
				mu.Lock()
				status := fmt.Sprintf("ok, the %d curated type names", len(r.curated))
				switch {
				case r.failed != "":
					status = "FAILED at " + r.failed
				case r.refusal != "":
					status = fmt.Sprintf("refused as it must be (%d operations missing)", len(r.v.missing))
				}
				fmt.Fprintf(stdout, "  %-40s APIVersion %-8s %5.1fs  %s\n", r.v.name, r.version, r.took.Seconds(), status)
				mu.Unlock()
			}
		}()
	}
	for i := range variants {
		queue <- i
	}
	close(queue)
	wg.Wait()
	if copyErr != nil {
		return copyErr
	}
	failed := 0
	for _, r := range results {
		if r.refusal != "" {
			fmt.Fprintf(stdout, "\n--- %s: refused: %s\n", r.v.name, r.refusal)
		}
		if r.failed == "" {
			continue
		}
		failed++
		fmt.Fprintf(stdout, "\n--- %s: %s failed:\n%s\n", r.v.name, r.failed, strings.TrimRight(r.output, "\n"))
	}
	fmt.Fprintf(stdout, "check-versions: %d of %d documents passed in %.1fs\n", len(variants)-failed, len(variants), time.Since(start).Seconds())
	if failed > 0 {
		return errReported
	}
	return nil
}

// checkOne regenerates dir from v and builds, vets and checks the surface;
// the curated type names generated must be wantCurated, the committed ones.
func checkOne(dir string, v variant, wantCurated []string) result {
	start := time.Now()
	r := result{v: v}
	env := append(os.Environ(), "SPEC_FILE="+v.file, "SPEC_VERSION="+v.version, "SPEC_API=")
	if len(v.missing) > 0 {
		return checkRefused(dir, v, env, start)
	}
	steps := []struct {
		name string
		args []string
	}{
		{"go generate", []string{"go", "generate", "./generated/..."}},
		{"go build", []string{"go", "build", "./..."}},
		{"go vet", []string{"go", "vet", "./generated/..."}},
	}
	for _, s := range steps {
		cmd := exec.Command(s.args[0], s.args[1:]...)
		cmd.Dir = dir
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			r.failed, r.output = s.name, string(out)+err.Error()
			r.took = time.Since(start)
			return r
		}
		if s.name == "go generate" {
			r.version = generatedVersion(dir)
			r.curated = curatedNames(dir)
			if !slices.Equal(r.curated, wantCurated) {
				r.failed, r.output = "curated names", fmt.Sprintf("generated %q, committed %q", r.curated, wantCurated)
				r.took = time.Since(start)
				return r
			}
		}
	}
	var buf bytes.Buffer
	ok, err := surfaceOpts(dir, false, false, false, &buf)
	switch {
	case err != nil:
		r.failed, r.output = "surface check", err.Error()
	case !ok:
		r.failed, r.output = "surface check", buf.String()
	}
	r.took = time.Since(start)
	return r
}

// checkRefused runs the generator on a document lacking operations: it must
// fail with one line from specfix naming every missing operation, and
// leave the generated code as it was.
func checkRefused(dir string, v variant, env []string, start time.Time) result {
	r := result{v: v, version: "-"}
	before, _ := os.ReadFile(filepath.Join(dir, "generated", "associations", "associations.gen.go"))
	cmd := exec.Command("go", "generate", "./generated/...")
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	r.took = time.Since(start)
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "specfix: ") && !strings.HasPrefix(l, "specfix: using SPEC_FILE") && !strings.HasPrefix(l, "specfix: warning:") {
			lines = append(lines, l)
		}
	}
	after, _ := os.ReadFile(filepath.Join(dir, "generated", "associations", "associations.gen.go"))
	switch {
	case err == nil:
		r.failed, r.output = "refusal", fmt.Sprintf("generated although %s are missing:\n%s", strings.Join(v.missing, ", "), out)
	case len(lines) != 1:
		r.failed, r.output = "refusal", fmt.Sprintf("want one specfix line naming %s, got %d:\n%s", strings.Join(v.missing, ", "), len(lines), out)
	case !bytes.Equal(before, after):
		r.failed, r.output = "refusal", "the refused document changed the generated code"
	default:
		for _, m := range v.missing {
			if !strings.Contains(lines[0], m) {
				r.failed, r.output = "refusal", fmt.Sprintf("the refusal does not name %s: %s", m, lines[0])
				return r
			}
		}
		r.refusal = lines[0]
	}
	return r
}

// curatedNames reads the curated Go type names from dir's
// docs/type-names.md (written by gen with the generated code).
func curatedNames(dir string) []string {
	data, _ := os.ReadFile(filepath.Join(dir, "docs", "type-names.md"))
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Split(l, "|")
		if len(f) == 5 && strings.TrimSpace(f[3]) == "curated" {
			out = append(out, strings.Trim(strings.TrimSpace(f[1]), "`"))
		}
	}
	return out
}

// generatedVersion reads APIVersion from the generated code in dir.
func generatedVersion(dir string) string {
	data, err := os.ReadFile(filepath.Join(dir, "generated", "associations", "version.gen.go"))
	if err != nil {
		return "?"
	}
	const marker = "const APIVersion = \""
	s := string(data)
	i := strings.Index(s, marker)
	if i < 0 {
		return "?"
	}
	s = s[i+len(marker):]
	return s[:strings.IndexByte(s, '"')]
}

// repoFiles lists the files of the working tree git knows or would add:
// tracked files (as they are now) and untracked files not ignored.
func repoFiles(root string) ([]string, error) {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git ls-files: %v", err)
	}
	var files []string
	for _, f := range strings.Split(string(out), "\x00") {
		if f == "" {
			continue
		}
		st, err := os.Lstat(filepath.Join(root, f))
		if err != nil || !st.Mode().IsRegular() {
			continue // deleted in the working tree, or not a plain file
		}
		files = append(files, f)
	}
	slices.Sort(files)
	return slices.Compact(files), nil
}

func copyFiles(from, to string, files []string) error {
	for _, f := range files {
		if err := copyFile(filepath.Join(from, f), filepath.Join(to, f)); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, st.Mode().Perm()|0o200)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
