// Command specfix normalizes a HubSpot OpenAPI document for code generation
// and fetches pinned documents from the spec mirror.
//
// Usage:
//
//	specfix -in RAW -out NORMALIZED [-rules spec/rules.json] [-pins spec/pins.json] [-api NAME] [-version V] [-name DOC] [-report]
//	specfix fetch -pins spec/pins.json [-version V] -cache DIR -out FILE
//
// "-" means stdin or stdout. On failure specfix prints one line naming the
// file (-name, else -in) and the JSON pointer at fault, exits non-zero and
// writes no output.
// fetch reads $SPEC_FILE instead of the pin when it is set (no checksum),
// so a maintainer can try an unreleased revision.
//
// The rules applied are the API's that -api names, else the pins file's
// ("api" in spec/pins.json), else the rule set whose operations the
// document holds; never chosen by the document's title. A document that
// publishes the same operations under several versions keeps those of
// -version, else (with -pins, when $SPEC_FILE is unset) the current pin's
// version, else the document's info.version; the others are left out and
// reported.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/crmkit/hubspot-associations/internal/specfix"
	"github.com/crmkit/hubspot-associations/internal/specsource"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "fetch" {
		return fetch(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("specfix", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "raw OpenAPI document (`file`, - for stdin)")
	out := fs.String("out", "", "normalized document (`file`, - for stdout)")
	rulesFile := fs.String("rules", "", "API-specific rules (`file`, optional)")
	report := fs.Bool("report", false, "print what each rule changed to stderr")
	pinsFile := fs.String("pins", "", "pins `file` naming the API and its current version (optional)")
	docName := fs.String("name", "", "the document's `name` in errors and warnings (default: -in; go generate passes $SPEC_FILE, whose copy -in is)")
	var opts specfix.Options
	fs.StringVar(&opts.API, "api", "", "the API whose rules apply (`name` in the rules file; default: the pins file's, else matched by operations)")
	fs.StringVar(&opts.Version, "version", "", "`version` kept from a document that publishes several (default: the current pin's unless $SPEC_FILE is set, else info.version)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *in == "" || *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "specfix: usage: specfix -in RAW -out NORMALIZED [-rules FILE] [-pins FILE] [-api NAME] [-version V] [-name DOC] [-report]")
		return 2
	}
	if *pinsFile != "" {
		pins, err := specsource.LoadPins(*pinsFile)
		if err != nil {
			fmt.Fprintf(stderr, "specfix: %v\n", err)
			return 1
		}
		if opts.API == "" {
			opts.API = pins.API
		}
		if opts.Version == "" && os.Getenv("SPEC_FILE") == "" {
			opts.Version = pins.Current
		}
	}
	var rules *specfix.Rules
	if *rulesFile != "" {
		r, err := specfix.LoadRules(*rulesFile)
		if err != nil {
			fmt.Fprintf(stderr, "specfix: %v\n", err)
			return 1
		}
		rules = r
	}
	var raw []byte
	var err error
	name := *in
	if *in == "-" {
		name = "<stdin>"
		raw, err = io.ReadAll(stdin)
	} else {
		raw, err = os.ReadFile(*in)
	}
	if *docName != "" {
		name = *docName
	}
	if err != nil {
		fmt.Fprintf(stderr, "specfix: %v\n", err)
		return 1
	}
	res, err := specfix.Normalize(name, raw, rules, opts)
	if err != nil {
		fmt.Fprintf(stderr, "specfix: %v\n", err)
		return 1
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(stderr, "specfix: warning: %s\n", w)
	}
	if *report {
		for _, c := range res.Changes {
			fmt.Fprintln(stderr, c)
		}
	}
	if *out == "-" {
		_, err = stdout.Write(res.Output)
	} else {
		err = specsource.WriteFileAtomic(*out, res.Output)
	}
	if err != nil {
		fmt.Fprintf(stderr, "specfix: %v\n", err)
		return 1
	}
	return 0
}

func fetch(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("specfix fetch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pinsFile := fs.String("pins", "spec/pins.json", "pins `file`")
	version := fs.String("version", "", "API `version` to fetch (default: the current one)")
	cache := fs.String("cache", "", "cache `dir` for fetched documents")
	out := fs.String("out", "", "where to write the document (`file`, - for stdout)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "specfix: usage: specfix fetch -pins FILE [-version V] [-cache DIR] -out FILE")
		return 2
	}
	var data []byte
	if f := os.Getenv("SPEC_FILE"); f != "" {
		f = specsource.ResolveLocal(f) // relative to the module root, as the mirror
		d, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintf(stderr, "specfix: SPEC_FILE: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "specfix: using SPEC_FILE=%s instead of the pin (no checksum)\n", f)
		data = d
	} else {
		pins, err := specsource.LoadPins(*pinsFile)
		if err != nil {
			fmt.Fprintf(stderr, "specfix: %v\n", err)
			return 1
		}
		v := *version
		if v == "" {
			v = pins.Current
		}
		pin, err := pins.Find(v)
		if err != nil {
			fmt.Fprintf(stderr, "specfix: %s: %v\n", *pinsFile, err)
			return 1
		}
		data, err = specsource.FromEnv(*cache).Fetch(context.Background(), pin)
		if err != nil {
			fmt.Fprintf(stderr, "specfix: %v\n", err)
			return 1
		}
	}
	var err error
	if *out == "-" {
		_, err = stdout.Write(data)
	} else {
		err = specsource.WriteFileAtomic(*out, data)
	}
	if err != nil {
		fmt.Fprintf(stderr, "specfix: %v\n", err)
		return 1
	}
	return 0
}
