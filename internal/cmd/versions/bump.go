package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/crmkit/hubspot-associations/internal/apidiff"
	"github.com/crmkit/hubspot-associations/internal/specfix"
	"github.com/crmkit/hubspot-associations/internal/specsource"
)

// common holds the flags every document command takes.
type common struct {
	pins, rules, cache string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.pins, "pins", "spec/pins.json", "pins `file`")
	fs.StringVar(&c.rules, "rules", "spec/rules.json", "normalization rules `file`")
	fs.StringVar(&c.cache, "cache", ".cache/specs", "cache `dir` for fetched documents")
}

func (c *common) load() (*specsource.Pins, *specfix.Rules, *specsource.Source, error) {
	pins, err := specsource.LoadPins(c.pins)
	if err != nil {
		return nil, nil, nil, err
	}
	rules, err := specfix.LoadRules(c.rules)
	if err != nil {
		return nil, nil, nil, err
	}
	return pins, rules, specsource.FromEnv(c.cache), nil
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("versions "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func cmdBump(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bump", stderr)
	var c common
	c.register(fs)
	version := fs.String("version", "", "API `version` to move to, e.g. 2026-09")
	reports := fs.String("reports", "docs/api-changes", "`dir` for change reports")
	if err := fs.Parse(args); err != nil {
		return errReported
	}
	if *version == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: versions bump -version V (make bump VERSION=V)")
		return errReported
	}
	pins, rules, src, err := c.load()
	if err != nil {
		return err
	}
	ctx := context.Background()
	oldPin, err := pins.Find(pins.Current)
	if err != nil {
		return err
	}
	oldDoc, err := src.Fetch(ctx, oldPin)
	if err != nil {
		return err
	}

	newPin, pinned := specsource.Pin{}, false
	if p, err := pins.Find(*version); err == nil {
		newPin, pinned = p, true
	} else {
		path, err := pathFor(oldPin, *version)
		if err != nil {
			return err
		}
		newPin = specsource.Pin{Version: *version, Path: path}
	}
	newDoc, err := src.Read(ctx, newPin.Path)
	if err != nil {
		return err
	}
	sum := specsource.Sum(newDoc)
	switch {
	case !pinned:
		fmt.Fprintf(stdout, "pinned %s: %s (sha256 %s)\n", *version, newPin.Path, sum)
	case sum != newPin.SHA256:
		fmt.Fprintf(stdout, "re-pinned %s: the mirror's document changed: sha256 %s -> %s\n", *version, newPin.SHA256, sum)
	default:
		fmt.Fprintf(stdout, "%s is pinned already (sha256 %s)\n", *version, sum)
	}
	if *version == pins.Current && sum == oldPin.SHA256 {
		fmt.Fprintf(stdout, "%s is the current version and its document is unchanged: nothing to do\n", *version)
		return nil
	}
	newPin.SHA256 = sum

	fromName, toName := oldPin.Version, newPin.Version
	file := fromName + "_" + toName + ".md"
	if fromName == toName { // a re-published revision of the current version
		fromName += "@" + oldPin.SHA256[:12]
		toName += "@" + sum[:12]
		file = fromName + "_" + toName + ".md"
	}
	r, err := apidiff.Compare(apidiff.Document{Name: fromName, Raw: oldDoc}, apidiff.Document{Name: toName, Raw: newDoc}, rules)
	if err != nil {
		return err
	}
	if r.To.Version != "" && r.To.Version != *version {
		fmt.Fprintf(stderr, "versions bump: warning: %s declares info.version %q\n", newPin.Path, r.To.Version)
	}
	reportFile := filepath.Join(*reports, file)
	if err := specsource.WriteFileAtomic(reportFile, r.Markdown()); err != nil {
		return err
	}
	// Keep the verified document in the cache, so generation finds it.
	if c.cache != "" {
		if err := specsource.WriteFileAtomic(filepath.Join(c.cache, sum+".json"), newDoc); err != nil {
			return err
		}
	}
	setPin(pins, newPin)
	pins.Current = *version
	if err := specsource.WriteFileAtomic(c.pins, formatPins(pins)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "current: %s -> %s (%s)\n", oldPin.Version, *version, c.pins)
	fmt.Fprintf(stdout, "report: %s (%d entries; raw oasdiff: %d breaking, %d in all)\n", reportFile, r.Entries(), r.Raw.Breaking, r.Raw.All)
	printSummary(stdout, r)
	return nil
}

// printSummary prints the summary section of the report.
func printSummary(w io.Writer, r *apidiff.Report) {
	md := string(r.Markdown())
	if i := strings.Index(md, "## Summary\n\n"); i >= 0 {
		md = md[i+len("## Summary\n\n"):]
		if j := strings.Index(md, "\n\n"); j >= 0 {
			md = md[:j+1]
		}
		fmt.Fprint(w, md)
	}
}

func cmdSpecDiff(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("spec-diff", stderr)
	var c common
	c.register(fs)
	version := fs.String("version", "", "pinned `version` to check (default: the current one)")
	if err := fs.Parse(args); err != nil {
		return errReported
	}
	pins, rules, src, err := c.load()
	if err != nil {
		return err
	}
	v := *version
	if v == "" {
		v = pins.Current
	}
	pin, err := pins.Find(v)
	if err != nil {
		return err
	}
	ctx := context.Background()
	old, err := src.Fetch(ctx, pin)
	if err != nil {
		return err
	}
	var now []byte
	where := src.Where(pin)
	if f := os.Getenv("SPEC_FILE"); f != "" {
		where = f
		now, err = os.ReadFile(f)
	} else {
		now, err = src.Read(ctx, pin.Path)
	}
	if err != nil {
		return err
	}
	sum := specsource.Sum(now)
	r, err := apidiff.Compare(
		apidiff.Document{Name: v + " pinned", Raw: old},
		apidiff.Document{Name: v + " now", Raw: now}, rules)
	if err != nil {
		return err
	}
	stdout.Write(r.Markdown())
	fmt.Fprintln(stdout)
	if sum == pin.SHA256 {
		fmt.Fprintf(stdout, "sha256 unchanged: %s is the pinned document (%s)\n", where, sum)
		return nil
	}
	fmt.Fprintf(stdout, "sha256 changed: pinned %s, %s has %s\n", pin.SHA256, where, sum)
	if os.Getenv("SPEC_FILE") == "" {
		fmt.Fprintf(stdout, "to adopt it: make bump VERSION=%s\n", v)
	}
	return nil
}

func cmdReport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", stderr)
	var c common
	c.register(fs)
	from := fs.String("from", "", "pinned `version` to compare from")
	to := fs.String("to", "", "pinned `version` to compare to")
	out := fs.String("out", "-", "`file` to write, - for stdout")
	if err := fs.Parse(args); err != nil {
		return errReported
	}
	if *from == "" || *to == "" {
		fmt.Fprintln(stderr, "usage: versions report -from V -to W [-out FILE]")
		return errReported
	}
	pins, rules, src, err := c.load()
	if err != nil {
		return err
	}
	docs := make([]apidiff.Document, 2)
	for i, v := range []string{*from, *to} {
		pin, err := pins.Find(v)
		if err != nil {
			return err
		}
		raw, err := src.Fetch(context.Background(), pin)
		if err != nil {
			return err
		}
		docs[i] = apidiff.Document{Name: v, Raw: raw}
	}
	r, err := apidiff.Compare(docs[0], docs[1], rules)
	if err != nil {
		return err
	}
	if *out == "-" {
		_, err = stdout.Write(r.Markdown())
		return err
	}
	return specsource.WriteFileAtomic(*out, r.Markdown())
}
