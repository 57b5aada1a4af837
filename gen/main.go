// Command gen writes the hand-designed parts of generated/associations
// that oapi-codegen does not: the API version constant and the batch and
// list helpers on Batcher, rendered with dave/jennifer from the normalized
// document.
//
// Usage:
//
//	gen -in NORMALIZED.json -out DIR [-docs FILE]   write DIR/*.gen.go (and the type-name table)
//	gen -clean DIR                     delete generated files in DIR
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/crmkit/hubspot-associations/internal/specsource"
)

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
