// Command bench runs the benchmarks of package internal/bench and writes
// docs/BENCHMARKS.md (`make bench`). Every figure is measured in the same
// run; the document says how.
//
//	go run ./internal/cmd/bench -out docs/BENCHMARKS.md
//	go run ./internal/cmd/bench -only window,small   # some sections, to stdout
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crmkit/hubspot-associations/internal/bench"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// sections are the report's sections, in order; -only picks some by name.
var sections = []struct {
	name  string
	write func(ctx context.Context, w io.Writer, progress func(string, ...any)) error
}{
	{"window", windowSection},
	{"small", smallSection},
	{"latency", latencySection},
	{"client", clientSection},
	{"generate", generateSection},
	{"workers", workersSection},
	{"joiner", joinerSection},
	{"margin", marginSection},
}

func run(args []string) error {
	if len(args) > 0 && args[0] == "-worker" {
		return runWorker(args[1:])
	}
	names := make([]string, len(sections))
	for i, s := range sections {
		names[i] = s.name
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	out := fs.String("out", "", "write the Markdown report here (default: standard output)")
	only := fs.String("only", strings.Join(names, ","), "comma-separated sections: "+strings.Join(names, ", "))
	fs.Bool("worker", false, "internal, first argument only: run as one process of the workers section")
	if err := fs.Parse(args); err != nil {
		return err
	}
	want := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		s = strings.TrimSpace(s)
		if !slices.Contains(names, s) {
			return fmt.Errorf("-only: unknown section %q (have %s)", s, strings.Join(names, ", "))
		}
		want[s] = true
	}
	ctx := context.Background()
	var doc bytes.Buffer
	start := time.Now()
	header(&doc)
	progress := func(format string, a ...any) { fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...) }
	for _, s := range sections {
		if want[s.name] {
			if err := s.write(ctx, &doc, progress); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(&doc, "\nThe whole run took %s.\n", time.Since(start).Round(time.Second))
	if *out == "" {
		_, err := os.Stdout.Write(doc.Bytes())
		return err
	}
	tmp := *out + ".tmp"
	if err := os.WriteFile(tmp, doc.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, *out)
}

func header(w io.Writer) {
	fmt.Fprintf(w, "# Benchmarks\n\n")
	fmt.Fprintf(w, "Written by `make bench` (`go run ./internal/cmd/bench -out docs/BENCHMARKS.md`, package\n")
	fmt.Fprintf(w, "`internal/bench`). Every figure below is a ratio or count measured in this one run, on this\n")
	fmt.Fprintf(w, "machine; rerun `make bench` to measure yours. Nothing here is part of `make test`.\n\n")
	fmt.Fprintf(w, "- Machine: %s, %d CPUs, %s/%s\n", cpuModel(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(w, "- Go: %s\n", runtime.Version())
	if la, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(la))
		if len(f) >= 3 {
			fmt.Fprintf(w, "- Load average when the run started: %s %s %s (other work shares these CPUs)\n", f[0], f[1], f[2])
		}
	}
	fmt.Fprintf(w, "- Command: `make bench`\n")
	fmt.Fprintf(w, "- Date: %s\n\n", time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(w, "The server is `hubspottest` on a loopback port: a strict rolling window per token (every accepted\n")
	fmt.Fprintf(w, "request's arrival time is kept; a request is refused with HubSpot's 429 body while Max arrivals\n")
	fmt.Fprintf(w, "lie within the last Interval), `X-HubSpot-RateLimit-Max/-Remaining/-Interval-Milliseconds` on\n")
	fmt.Fprintf(w, "every answer, and `Retry-After` on 429s. The client reaches it through a transport that adds a\n")
	fmt.Fprintf(w, "network round trip (half before the server sees the request, half after it answers).\n")
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func windowSection(ctx context.Context, w io.Writer, progress func(string, ...any)) error {
	fmt.Fprintf(w, "\n## 1. 20,000 updates under a rolling window\n\n")
	fmt.Fprintf(w, "20,000 limit updates (200 requests of 100) with `Schema.UpdateConfigurations` (default options,\n")
	fmt.Fprintf(w, "a fresh limiter) and, beside it, a plain sequential loop over the generated client that sleeps\n")
	fmt.Fprintf(w, "1 s after a 429, a 5xx or a connection error (what a user writes by hand). Round trips 5-15 ms.\n")
	fmt.Fprintf(w, "Faults: 5%% of requests answered 503, 3%% reset after the change was applied (seeded).\n\n")
	fmt.Fprintf(w, "- bound = (ceil(R/Max) - 1) x Interval + one mean round trip, R = requests the server accepted\n")
	fmt.Fprintf(w, "  (retries included): a rolling window admits Max at once, then Max per Interval.\n")
	fmt.Fprintf(w, "- late 429s = 429s after the first Interval; misreported = inputs whose reported outcome\n")
	fmt.Fprintf(w, "  disagrees with the server's state (reported succeeded but not set, failed without\n")
	fmt.Fprintf(w, "  `ErrOutcomeUnknown` or not attempted but set, or not accounted for exactly once).\n\n")
	fmt.Fprintf(w, "| limit | faults | client | wall | bound | wall / bound | requests | 429s (late) | late 429s per 1,000 | misreported |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|---|---|---|---|\n")
	type lim struct {
		max int
		iv  time.Duration
	}
	seed := int64(1)
	for _, l := range []lim{{50, time.Second}, {190, 10 * time.Second}} {
		for _, faults := range []bool{false, true} {
			for _, plain := range []bool{false, true} {
				seed++
				progress("window: %d per %s, faults %v, plain %v", l.max, l.iv, faults, plain)
				r, err := bench.RunWindow(ctx, 20000, l.max, l.iv, faults, plain, seed)
				if err != nil {
					return fmt.Errorf("window %d/%s: %w", l.max, l.iv, err)
				}
				f := "none"
				if faults {
					f = "5% 503, 3% reset"
				}
				per := 1000 * float64(r.Late429) / float64(max(r.Requests, 1))
				fmt.Fprintf(w, "| %s | %s | %s | %s | %s | **%.3f** | %d | %d (%d) | %.1f | %d |\n",
					r.Limit, f, r.Client, ms(r.Wall), ms(r.Bound), r.Ratio(), r.Requests, r.RateLimited, r.Late429, per, r.Misreported)
			}
		}
	}
	return nil
}

func smallSection(ctx context.Context, w io.Writer, progress func(string, ...any)) error {
	fmt.Fprintf(w, "\n## 2. Small jobs\n\n")
	fmt.Fprintf(w, "Jobs that fit in one window (server: 190 per 10 s; round trips 5-15 ms), each run on a fresh\n")
	fmt.Fprintf(w, "limiter and with no limiter at all (`hubspot.WithLimiter(nil)`), default Schema options,\n")
	fmt.Fprintf(w, "alternating, median of 5 runs each.\n\n")
	fmt.Fprintf(w, "| requests (inputs) | fresh limiter | no limiter | ratio |\n|---|---|---|---|\n")
	for _, n := range []int{1, 10, 40} {
		progress("small: %d requests", n)
		r, err := bench.RunSmall(ctx, n, 5, int64(100+n))
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "| %d (%d) | %.1f ms | %.1f ms | **%.2f** |\n", n, n*100,
			float64(r.WithLimiter.Microseconds())/1000, float64(r.NoLimiter.Microseconds())/1000, r.Ratio())
	}
	return nil
}

func latencySection(ctx context.Context, w io.Writer, progress func(string, ...any)) error {
	fmt.Fprintf(w, "\n## 3. 80 ms round trips\n\n")
	fmt.Fprintf(w, "Requests of 10 inputs with default Schema options at an 80 ms round trip: four windows' worth,\n")
	fmt.Fprintf(w, "and 200 requests at 190 per 1 s (a fresh window, then one more). Reached = accepted requests\n")
	fmt.Fprintf(w, "after the first window over the time from the Max-th to the last arrival at the server;\n")
	fmt.Fprintf(w, "allowed = Max / Interval; bound as in section 1 (with the 80 ms round trip).\n\n")
	fmt.Fprintf(w, "| limit | requests | allowed req/s | reached req/s | reached / allowed | wall | bound | wall / bound | late 429s | misreported |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for i, l := range []struct {
		max, requests int
		iv            time.Duration
	}{{190, 760, time.Second}, {50, 200, time.Second}, {190, 200, time.Second}} {
		progress("latency: %d requests at %d per %s", l.requests, l.max, l.iv)
		r, err := bench.RunLatency(ctx, l.max, l.iv, l.requests, int64(200+i))
		if err != nil {
			return err
		}
		reached, ratio := fmt.Sprintf("%.1f", r.Reached), fmt.Sprintf("**%.3f**", r.Reached/r.Allowed)
		if l.requests < 2*l.max {
			reached, ratio = "-", "- (one window after the first)"
		}
		fmt.Fprintf(w, "| %s | %d | %.1f | %s | %s | %s | %s | **%.3f** | %d | %d |\n", r.Limit, r.Requests, r.Allowed, reached, ratio,
			ms(r.Wall), ms(r.Bound), r.Ratio(), r.Late429, r.Misreports)
	}
	fmt.Fprintf(w, "\nWithout a limiter (`hubspot.WithLimiter(nil)`) there is no window to respect: the same\n")
	fmt.Fprintf(w, "requests of 10 inputs at 80 ms against a server allowing 10,000 per 10 s (never full), beside a\n")
	fmt.Fprintf(w, "fresh limiter; each keeps as many chunks in flight as it sizes alone.\n\n")
	fmt.Fprintf(w, "| requests | no limiter | fresh limiter | no limiter / limiter |\n|---|---|---|---|\n")
	progress("latency: 200 requests without a limiter")
	u, err := bench.RunUnpaced(ctx, 200, 210)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "| %d | %s | %s | **%.2f** |\n", u.Requests, ms(u.NoLimiter), ms(u.Limiter), u.Ratio())
	return nil
}

var benchLine = regexp.MustCompile(`^Benchmark(\S+?)-\d+\s+\d+\s+([\d.]+) ns/op\s+([\d.]+) B/op\s+([\d.]+) allocs/op`)

func clientSection(_ context.Context, w io.Writer, progress func(string, ...any)) error {
	progress("client: go test -bench")
	args := []string{"test", "-run", "^$", "-bench", "Client", "-benchmem", "-benchtime", "200x", "-count", "3", "./internal/bench/"}
	cmd := exec.Command("go", args...)
	cmd.Stderr = os.Stderr
	outb, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	type fig struct{ ns, b, allocs []float64 }
	figs := map[string]*fig{}
	for _, line := range strings.Split(string(outb), "\n") {
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		f := figs[m[1]]
		if f == nil {
			f = &fig{}
			figs[m[1]] = f
		}
		for i, dst := range []*[]float64{&f.ns, &f.b, &f.allocs} {
			v, _ := strconv.ParseFloat(m[2+i], 64)
			*dst = append(*dst, v/bench.JobInputs)
		}
	}
	plain, batch := figs["Client_plainLoop"], figs["Client_schema"]
	if plain == nil || batch == nil {
		return fmt.Errorf("client: benchmark output not understood:\n%s", outb)
	}
	fmt.Fprintf(w, "\n## 4. Client cost per input\n\n")
	fmt.Fprintf(w, "`go %s`: a job of %d updates against an in-memory transport that answers\n", strings.Join(args, " "), bench.JobInputs)
	fmt.Fprintf(w, "with prepared bodies (no network, no server), so only the client is measured; figures per input,\n")
	fmt.Fprintf(w, "median of 3. The plain loop uses the generated client (chunks of 100, results collected); the\n")
	fmt.Fprintf(w, "Schema adds validation, key matching, accounting, the runtime's transport and a limiter that never\n")
	fmt.Fprintf(w, "waits.\n\n")
	fmt.Fprintf(w, "| | ns/input | B/input | allocs/input |\n|---|---|---|---|\n")
	fmt.Fprintf(w, "| plain loop | %.0f | %.0f | %.2f |\n", bench.Median(plain.ns), bench.Median(plain.b), bench.Median(plain.allocs))
	fmt.Fprintf(w, "| Schema | %.0f | %.0f | %.2f |\n", bench.Median(batch.ns), bench.Median(batch.b), bench.Median(batch.allocs))
	fmt.Fprintf(w, "| **Schema / plain** | **%.2f** | **%.2f** | **%.2f** |\n",
		bench.Median(batch.ns)/bench.Median(plain.ns), bench.Median(batch.b)/bench.Median(plain.b), bench.Median(batch.allocs)/bench.Median(plain.allocs))
	return nil
}

func generateSection(_ context.Context, w io.Writer, progress func(string, ...any)) error {
	progress("generate: building binaries")
	dir, err := os.MkdirTemp("", "bench-gen-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := func(name string) string { return filepath.Join(dir, name) }
	for name, pkg := range map[string]string{
		"specfix":      "./internal/cmd/specfix",
		"gen":          "./gen",
		"oapi-codegen": "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen",
	} {
		if err := runCmd("go", "build", "-o", bin(name), pkg); err != nil {
			return err
		}
	}
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	abs := func(p string) string { return filepath.Join(root, p) }
	// oapi-codegen writes the configuration's output file into its working
	// folder: each run gets its own, two levels below dir as
	// generated/associations is below the module root, with dir/spec
	// pointing at spec/ so the configuration's relative template path
	// (../../spec/templates) resolves as it does under go generate.
	out, aloneDir := filepath.Join(dir, "w", "out"), filepath.Join(dir, "w", "alone")
	if err := os.Symlink(abs("spec"), filepath.Join(dir, "spec")); err != nil {
		return err
	}
	raw, norm := filepath.Join(dir, "raw.json"), filepath.Join(dir, "normalized.json")
	pipeline := [][]string{
		{bin("specfix"), "fetch", "-pins", abs("spec/pins.json"), "-cache", abs(".cache/specs"), "-out", raw},
		{bin("specfix"), "-in", raw, "-rules", abs("spec/rules.json"), "-pins", abs("spec/pins.json"), "-out", norm},
		{bin("gen"), "-clean", "."},
		{bin("gen"), "-clean", "./openapispec"},
		{bin("oapi-codegen"), "-config", abs("spec/oapi-codegen.yaml"), norm},
		{bin("oapi-codegen"), "-config", abs("spec/oapi-codegen-openapispec.yaml"), norm},
		{bin("gen"), "-in", norm, "-out", ".", "-docs", filepath.Join(dir, "type-names.md")},
	}
	alone := []string{bin("oapi-codegen"), "-config", abs("spec/oapi-codegen.yaml"), raw}
	for _, d := range []string{out, filepath.Join(out, "openapispec"), aloneDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	var tp, ta []time.Duration
	aloneErr := ""
	for range 5 {
		start := time.Now()
		for _, c := range pipeline {
			if err := runCmdIn(out, c[0], c[1:]...); err != nil {
				return err
			}
		}
		tp = append(tp, time.Since(start))
		start = time.Now()
		if err := runCmdIn(aloneDir, alone[0], alone[1:]...); err != nil {
			aloneErr = err.Error()
		}
		ta = append(ta, time.Since(start))
	}
	for _, f := range []string{filepath.Join(out, "associations.gen.go"), filepath.Join(out, "schema.gen.go"), filepath.Join(out, "openapispec", "openapispec.gen.go")} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("generate: the pipeline did not write %s: %w", filepath.Base(f), err)
		}
	}
	fmt.Fprintf(w, "\n## 5. Generation\n\n")
	fmt.Fprintf(w, "Built binaries (`go build` of `internal/cmd/specfix`, `gen` and oapi-codegen v2.8.2), median of 5.\n")
	fmt.Fprintf(w, "Pipeline = specfix fetch (pinned document from `$HUBSPOT_SPEC_MIRROR`, sha256 checked, cached),\n")
	fmt.Fprintf(w, "specfix normalize, gen -clean, oapi-codegen on the normalized document, gen (Schema, version);\n")
	fmt.Fprintf(w, "oapi-codegen alone = the same oapi-codegen configuration on the raw document.\n\n")
	fmt.Fprintf(w, "| | time | ratio |\n|---|---|---|\n")
	fmt.Fprintf(w, "| oapi-codegen alone (raw document) | %.0f ms | 1.00 |\n", float64(bench.Median(ta).Microseconds())/1000)
	fmt.Fprintf(w, "| whole pipeline | %.0f ms | **%.2f** |\n", float64(bench.Median(tp).Microseconds())/1000, float64(bench.Median(tp))/float64(bench.Median(ta)))
	if aloneErr != "" {
		fmt.Fprintf(w, "\noapi-codegen alone on the raw document failed: `%s`\n", firstLine(aloneErr))
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

func runCmd(name string, args ...string) error { return runCmdIn("", name, args...) }

func runCmdIn(dir, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w: %s", filepath.Base(name), strings.Join(args, " "), err, firstLine(stderr.String()))
	}
	return nil
}
