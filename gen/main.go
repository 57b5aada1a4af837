// Command gen writes the hand-designed parts of generated/associations
// that oapi-codegen does not: the API version constants and Schema, one
// call per operation returning a value or an error, with the batch and list
// helpers, rendered with dave/jennifer from the normalized document.
//
// Usage:
//
//	gen -in NORMALIZED.json -out DIR [-docs FILE]   write DIR/*.gen.go (and the type-name table)
//	gen -clean DIR                     delete generated files in DIR
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/crmkit/hubspot-associations/internal/specsource"
)

// markerRE matches the line Go tools recognise as marking generated code.
var markerRE = regexp.MustCompile(`^// Code generated .* DO NOT EDIT\.$`)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "normalized OpenAPI document (`file`)")
	out := fs.String("out", "", "output `dir`")
	clean := fs.String("clean", "", "delete files carrying the generated-code marker in `dir`")
	docs := fs.String("docs", "", "write the table of Go types and HubSpot schemas to `file` (docs/type-names.md)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *clean != "" {
		if err := cleanDir(*clean); err != nil {
			fmt.Fprintf(stderr, "gen: %v\n", err)
			return 1
		}
		return 0
	}
	if *in == "" || *out == "" {
		fmt.Fprintln(stderr, "gen: usage: gen -in NORMALIZED.json -out DIR | gen -clean DIR")
		return 2
	}
	data, err := os.ReadFile(*in)
	if err != nil {
		fmt.Fprintf(stderr, "gen: %v\n", err)
		return 1
	}
	m, err := loadModel(*in, data)
	if err != nil {
		fmt.Fprintf(stderr, "gen: %v\n", err)
		return 1
	}
	files, err := render(m)
	if err != nil {
		fmt.Fprintf(stderr, "gen: %s: %v\n", *in, err)
		return 1
	}
	if err := writeFiles(*out, files); err != nil {
		fmt.Fprintf(stderr, "gen: %v\n", err)
		return 1
	}
	if *docs != "" {
		if err := specsource.WriteFileAtomic(*docs, renderTypeNames(m)); err != nil {
			fmt.Fprintf(stderr, "gen: %v\n", err)
			return 1
		}
	}
	return 0
}

// cleanDir deletes the files in dir whose first line is the generated-code
// marker, so an operation removed upstream leaves no stale file.
func cleanDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		gen, err := isGenerated(p)
		if err != nil {
			return err
		}
		if gen {
			if err := os.Remove(p); err != nil {
				return err
			}
		}
	}
	return nil
}

func isGenerated(p string) (bool, error) {
	f, err := os.Open(p)
	if err != nil {
		return false, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	if s.Scan() {
		return markerRE.MatchString(s.Text()), nil
	}
	return false, s.Err()
}

// writeFiles writes every file atomically, in name order.
func writeFiles(dir string, files map[string][]byte) error {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := specsource.WriteFileAtomic(filepath.Join(dir, n), files[n]); err != nil {
			return err
		}
	}
	return nil
}
