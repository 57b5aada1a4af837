package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/crmkit/hubspot-associations/internal/apisurface"
	"github.com/crmkit/hubspot-associations/internal/specsource"
)

// guarded lists the packages whose exported API is recorded, and where.
var guarded = []struct {
	file, pkg string
}{
	{"api/associations.txt", "github.com/crmkit/hubspot-associations/generated/associations"},
	{"api/hubspot.txt", "github.com/crmkit/hubspot-associations/hubspot"},
}

const surfaceHeader = `# Exported Go API of %s, one identifier per line (see docs/versions.md).
# make verify-surface fails when the code removes or changes a line; make api-update rewrites this file.
`

func cmdSurface(args []string, stdout, stderr io.Writer) error {
	fset := newFlags("surface", stderr)
	check := fset.Bool("check", false, "fail on removed or changed identifiers; record additions")
	update := fset.Bool("update", false, "rewrite the surface files from the code")
	dir := fset.String("C", ".", "module root `dir`")
	record := fset.Bool("record", true, "with -check: write additions to the files when nothing was removed or changed")
	if err := fset.Parse(args); err != nil {
		return errReported
	}
	if *check == *update {
		fmt.Fprintln(stderr, "usage: versions surface -check | -update")
		return errReported
	}
	ok, err := surface(*dir, *update, *record, stdout)
	if err != nil {
		return err
	}
	if !ok {
		return errReported
	}
	return nil
}

// surface compares the guarded packages in dir with their files. With
// update it rewrites the files; otherwise it reports removed or changed
// identifiers (ok is false) and, when record is set and nothing broke,
// writes additions to the files.
func surface(dir string, update, record bool, out io.Writer) (ok bool, err error) {
	return surfaceOpts(dir, update, record, true, out)
}

// surfaceOpts is surface; listAdded prints each added identifier.
func surfaceOpts(dir string, update, record, listAdded bool, out io.Writer) (ok bool, err error) {
	var patterns []string
	for _, g := range guarded {
		patterns = append(patterns, g.pkg)
	}
	lines, err := apisurface.Load(dir, patterns...)
	if err != nil {
		return false, err
	}
	ok = true
	for _, g := range guarded {
		var current []string
		prefix := "pkg " + g.pkg + ", "
		for _, l := range lines {
			if strings.HasPrefix(l, prefix) {
				current = append(current, l)
			}
		}
		file := filepath.Join(dir, filepath.FromSlash(g.file))
		recorded, err := apisurface.ReadFile(file)
		if errors.Is(err, fs.ErrNotExist) {
			recorded, err = nil, nil
		}
		if err != nil {
			return false, err
		}
		broken, added := apisurface.Diff(recorded, current)
		write := update || (record && len(broken) == 0 && len(added) > 0)
		if len(broken) > 0 {
			verb := "removed or changed"
			if update {
				verb = "accepted removal or change of"
			} else {
				ok = false
			}
			fmt.Fprintf(out, "%s: %s %d identifiers:\n", g.file, verb, len(broken))
			for _, c := range broken {
				fmt.Fprintln(out, "  "+strings.ReplaceAll(c.String(), "\n", "\n  "))
			}
		}
		if len(added) > 0 {
			verb := "new identifiers (not recorded: make verify-surface records them)"
			if len(broken) > 0 && !update {
				verb = "new identifiers (not recorded until the removals are fixed)"
			}
			if write {
				verb = "recorded new identifiers"
			}
			fmt.Fprintf(out, "%s: %s: %d\n", g.file, verb, len(added))
			for _, c := range added {
				if !listAdded {
					break
				}
				fmt.Fprintln(out, "  "+c.String())
			}
		}
		if write {
			data := append([]byte(fmt.Sprintf(surfaceHeader, g.pkg)), apisurface.Format(current)...)
			if err := specsource.WriteFileAtomic(file, data); err != nil {
				return false, err
			}
		}
		if len(broken) == 0 && len(added) == 0 {
			fmt.Fprintf(out, "%s: %d identifiers, unchanged\n", g.file, len(current))
		}
	}
	if !ok {
		fmt.Fprintln(out, "The Go API lost or changed the identifiers above. Keep them (a specfix rule in spec/rules.json, a hand-written\n"+
			"alias next to the generated code), or accept the break with `make api-update` and say so in the changelog (docs/versions.md).")
	}
	return ok, nil
}
