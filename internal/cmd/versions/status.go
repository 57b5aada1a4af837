package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/crmkit/hubspot-associations/internal/apidiff"
	"github.com/crmkit/hubspot-associations/internal/specfix"
	"github.com/crmkit/hubspot-associations/internal/specsource"
)

// Document states of a pinned version in the mirror.
const (
	docAsPinned    = "as pinned"
	docRepublished = "re-published"
	docMissing     = "not in mirror"
	docUnpinned    = "not pinned"
	docUnknown     = "-" // no mirror to compare with
)

// versionRow is one line of the status table.
type versionRow struct {
	Version   string
	Pin       string // "current", "pinned" or "-"
	Published bool   // the mirror has a document for it
	Document  string // one of the doc* states
	Sum       string // sha256 the mirror serves, when read
	Path      string // path in the collection, when published
	Support   support
}

// statusReport is what `versions status` finds.
type statusReport struct {
	Day      time.Time
	Mirror   string // where documents were read from
	Offline  string // one line when the mirror could not be read; "" otherwise
	Current  specsource.Pin
	Rows     []versionRow // sorted: date versions by date, then the others
	Newest   string       // newest published version newer than the current one; "" if none
	Notice   int          // days of notice the check allows
	Calendar *calendar
}

// maxProbes caps the versions probed on an address mirror (it cannot be
// listed): the pins plus the calendar's next releases.
const maxProbes = 16

func cmdStatus(args []string, stdout, stderr io.Writer) error {
	fset := newFlags("status", stderr)
	var c common
	c.register(fset)
	calFile := fset.String("calendar", "spec/calendar.json", "HubSpot's support calendar `file`")
	check := fset.Bool("check", false, "fail when the current pin is unsupported or will be within -days, or when its document was re-published")
	days := fset.Int("days", 0, "with -check: notice in `days` (default: the calendar's noticeDays)")
	today := fset.String("today", "", "judge by this `date` (YYYY-MM-DD) instead of today (UTC)")
	next := fset.Bool("next", false, "print only the version make bump should move to: the newest published one newer than the current pin, or the current one when re-published; nothing when neither")
	if err := fset.Parse(args); err != nil {
		return errReported
	}
	if fset.NArg() > 0 || *days < 0 || *days > 3650 {
		fmt.Fprintln(stderr, "usage: versions status [-check [-days N]] [-next] [-today YYYY-MM-DD] (N: 0..3650)")
		return errReported
	}
	day := time.Now()
	if *today != "" {
		t, err := time.Parse(time.DateOnly, *today)
		if err != nil {
			return fmt.Errorf("-today: %q is not YYYY-MM-DD", *today)
		}
		day = t
	}
	pins, rules, src, err := c.load()
	if err != nil {
		return err
	}
	cal, err := loadCalendar(*calFile)
	if err != nil {
		return err
	}
	ctx := context.Background()
	r, err := gatherStatus(ctx, pins, cal, src, day)
	if err != nil {
		return err
	}
	r.Notice = cal.NoticeDays
	if *days > 0 {
		r.Notice = *days
	}

	if *next {
		if r.Offline != "" {
			fmt.Fprintln(stderr, "versions status: "+r.Offline)
			return errReported
		}
		if v := r.nextBump(); v != "" {
			fmt.Fprintln(stdout, v)
		}
		return nil
	}

	r.print(stdout, *calFile)
	if !*check {
		if line := r.bumpSummary(ctx, rules, src); line != "" {
			fmt.Fprintln(stdout, line)
		}
		return nil
	}
	problems := r.check()
	for _, p := range problems {
		fmt.Fprintln(stderr, "versions check: "+p)
	}
	if len(problems) > 0 {
		return errReported
	}
	fmt.Fprintf(stdout, "versions check: ok: current pin %s %s\n", r.Current.Version, r.currentLine())
	return nil
}

// gatherStatus reads what the mirror publishes next to the current pin and
// judges every version by the calendar on day.
func gatherStatus(ctx context.Context, pins *specsource.Pins, cal *calendar, src *specsource.Source, day time.Time) (*statusReport, error) {
	cur, err := pins.Find(pins.Current)
	if err != nil {
		return nil, err
	}
	r := &statusReport{Day: dateOf(day), Mirror: src.Location(), Current: cur, Calendar: cal}
	rows := map[string]*versionRow{}
	for _, p := range pins.Pins {
		pin := "pinned"
		if p.Version == pins.Current {
			pin = "current"
		}
		rows[p.Version] = &versionRow{Version: p.Version, Pin: pin, Document: docUnknown}
	}

	published, offline := publishedVersions(ctx, src, cur, pins, cal, r.Day)
	r.Offline = offline
	for _, v := range published {
		if rows[v.version] == nil {
			rows[v.version] = &versionRow{Version: v.version, Pin: "-", Document: docUnpinned}
		}
		rows[v.version].Published = true
		rows[v.version].Sum = v.sum
		rows[v.version].Path = v.path
	}
	if r.Offline == "" {
		for _, p := range pins.Pins {
			row := rows[p.Version]
			switch {
			case !row.Published:
				row.Document = docMissing
			case row.Sum == p.SHA256:
				row.Document = docAsPinned
			default:
				row.Document = docRepublished
			}
		}
	}
	for _, row := range rows {
		row.Support = cal.support(row.Version, r.Day)
		if row.Published && newer(row.Version, cur.Version) && (r.Newest == "" || newer(row.Version, r.Newest)) {
			r.Newest = row.Version
		}
	}
	for _, row := range rows {
		r.Rows = append(r.Rows, *row)
	}
	slices.SortFunc(r.Rows, func(a, b versionRow) int {
		switch {
		case newer(a.Version, b.Version):
			return 1
		case newer(b.Version, a.Version):
			return -1
		}
		return strings.Compare(a.Version, b.Version)
	})
	return r, nil
}

type publishedDoc struct {
	version, path, sum string
}

// publishedVersions returns the versions the mirror publishes beside the
// current pin (same path, another version segment) with their sha256. A
// local folder is listed; an address is probed for the pins and the
// calendar's releases up to one period after day. When the mirror cannot
// be read it returns one line saying so.
func publishedVersions(ctx context.Context, src *specsource.Source, cur specsource.Pin, pins *specsource.Pins, cal *calendar, day time.Time) ([]publishedDoc, string) {
	var candidates []string
	if src.IsLocal() {
		mirror := src.Location()
		if fi, err := os.Stat(mirror); err != nil || !fi.IsDir() {
			return nil, fmt.Sprintf("no mirror: $%s=%s is not a folder, so published versions, re-published documents and what a bump changes are not shown; %s", specsource.MirrorEnv, mirror, specsource.GetMirror)
		}
		parent, err := versionParent(cur)
		if err != nil {
			return nil, err.Error()
		}
		entries, err := os.ReadDir(filepath.Join(mirror, filepath.FromSlash(parent)))
		if err != nil {
			return nil, fmt.Sprintf("mirror %s: %v", mirror, err)
		}
		for _, e := range entries {
			if e.IsDir() && versionName(e.Name()) {
				candidates = append(candidates, e.Name())
			}
		}
	} else {
		for _, p := range pins.Pins {
			candidates = append(candidates, p.Version)
		}
		// The calendar's releases after the newest date version pinned,
		// up to one Current period ahead of day.
		last := ""
		for _, v := range candidates {
			if isDateVersion(v) && v > last {
				last = v
			}
		}
		if last != "" {
			ga := cal.support(last, day).GA
			for range maxProbes {
				ga = ga.AddDate(0, cal.CurrentMonths, 0)
				if ga.After(day.AddDate(0, cal.CurrentMonths, 0)) {
					break
				}
				candidates = append(candidates, ga.Format("2006-01"))
			}
		}
	}
	var out []publishedDoc
	for _, v := range candidates {
		p, err := pathFor(cur, v)
		if err != nil {
			return nil, err.Error()
		}
		if pin, err := pins.Find(v); err == nil {
			p = pin.Path
		}
		data, err := src.Read(ctx, p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Sprintf("offline: %v; published versions, re-published documents and what a bump changes are not shown", oneLineErr(err))
		}
		out = append(out, publishedDoc{version: v, path: p, sum: specsource.Sum(data)})
	}
	return out, ""
}

// versionParent is the folder holding one folder per version, from the
// current pin's path.
func versionParent(cur specsource.Pin) (string, error) {
	p, err := pathFor(cur, "{version}")
	if err != nil {
		return "", err
	}
	i := strings.Index(p, "/{version}/")
	if i < 0 {
		return "", fmt.Errorf("pin %s: path %q has no folder per version", cur.Version, cur.Path)
	}
	return path.Clean(p[:i]), nil
}

// versionName reports whether a folder name in the mirror is an API version.
func versionName(s string) bool {
	return len(s) <= 32 && mirrorVersionRE.MatchString(s)
}

// mirrorVersionRE matches the version folders of HubSpot's collection
// (2026-03, 2026-09-beta, v4), as pins do.
var mirrorVersionRE = regexp.MustCompile(`^(v[0-9]+|[0-9]{4}-[0-9]{2}(-[a-z]+)?)$`)

// nextBump is the version the scheduled workflow bumps to: the newest
// published one newer than the current pin, else the current one when its
// document was re-published, else "".
func (r *statusReport) nextBump() string {
	if r.Newest != "" {
		return r.Newest
	}
	if r.row(r.Current.Version).Document == docRepublished {
		return r.Current.Version
	}
	return ""
}

func (r *statusReport) row(v string) versionRow {
	for _, row := range r.Rows {
		if row.Version == v {
			return row
		}
	}
	return versionRow{}
}

// print writes the table and the mirror line.
func (r *statusReport) print(w io.Writer, calFile string) {
	fmt.Fprintf(w, "API versions on %s by HubSpot's calendar (%s, from %s)\n", r.Day.Format(time.DateOnly), calFile, r.Calendar.Source)
	if r.Offline != "" {
		fmt.Fprintln(w, r.Offline)
	} else {
		fmt.Fprintf(w, "mirror: %s\n", r.Mirror)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tPIN\tPUBLISHED\tDOCUMENT\tSTATE\tGA\tCURRENT UNTIL\tUNSUPPORTED FROM\tDAYS LEFT")
	for _, row := range r.Rows {
		pub := "-"
		if r.Offline == "" {
			pub = "no"
			if row.Published {
				pub = "yes"
			}
		}
		left := "-"
		if !row.Support.Ends.IsZero() {
			left = fmt.Sprint(row.Support.DaysLeft)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", row.Version, row.Pin, pub, row.Document, row.Support.State,
			day(row.Support.GA), day(row.Support.CurrentUntil), day(row.Support.Ends), left)
	}
	tw.Flush()
	fmt.Fprintln(w)
}

func day(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format(time.DateOnly)
}

// bumpSummary is one line on what `make bump` to the newest version would
// change (the change report's summary), or on why there is none.
func (r *statusReport) bumpSummary(ctx context.Context, rules *specfix.Rules, src *specsource.Source) string {
	if r.Offline != "" {
		return ""
	}
	if r.Newest == "" {
		return fmt.Sprintf("newest: %s is the newest version the mirror publishes; nothing to bump to", r.Current.Version)
	}
	old, err := src.Fetch(ctx, r.Current)
	if err != nil {
		return fmt.Sprintf("newest: %s; what a bump changes is not shown: %s", r.Newest, oneLineErr(err))
	}
	newest := r.row(r.Newest)
	raw, err := src.Read(ctx, newest.Path)
	if err != nil {
		return fmt.Sprintf("newest: %s; what a bump changes is not shown: %s", r.Newest, oneLineErr(err))
	}
	rep, err := apidiff.Compare(apidiff.Document{Name: r.Current.Version, Raw: old}, apidiff.Document{Name: r.Newest, Raw: raw}, rules)
	if err != nil {
		return fmt.Sprintf("newest: %s; what a bump changes is not shown: %s", r.Newest, oneLineErr(err))
	}
	return fmt.Sprintf("newest: %s; make bump VERSION=%s would report %s", r.Newest, r.Newest, rep.Summary())
}

// check returns the problems that fail `versions status -check`, each one
// line naming the one command to run.
func (r *statusReport) check() []string {
	var problems []string
	cur := r.row(r.Current.Version)
	fix := "make bump VERSION=" + r.Newest
	if r.Newest == "" {
		fix = fmt.Sprintf("update the mirror (git -C %s pull) and run make versions: no newer version is published in it", r.Mirror)
	}
	s := cur.Support
	switch {
	case s.State == stateUnknown:
		problems = append(problems, fmt.Sprintf("current pin %s has no end of support in the calendar: add it to spec/calendar.json (fixed) or run: %s", r.Current.Version, fix))
	case s.DaysLeft <= 0:
		problems = append(problems, fmt.Sprintf("current pin %s is unsupported since %s; run: %s", r.Current.Version, day(s.Ends), fix))
	case s.DaysLeft <= r.Notice:
		problems = append(problems, fmt.Sprintf("current pin %s is unsupported from %s, in %d days (within the %d days' notice); run: %s", r.Current.Version, day(s.Ends), s.DaysLeft, r.Notice, fix))
	}
	if cur.Document == docRepublished {
		problems = append(problems, fmt.Sprintf("the document of current pin %s was re-published: sha256 %s, pinned %s; see what changed with make spec-diff, then run: make bump VERSION=%s", r.Current.Version, cur.Sum, r.Current.SHA256, r.Current.Version))
	}
	if cur.Document == docMissing {
		problems = append(problems, fmt.Sprintf("the mirror %s has no document for current pin %s (%s); run: git -C %s pull", r.Mirror, r.Current.Version, r.Current.Path, r.Mirror))
	}
	return problems
}

// currentLine describes the current pin for the check's ok line.
func (r *statusReport) currentLine() string {
	cur := r.row(r.Current.Version)
	s := fmt.Sprintf("is %s until %s (%d days; notice %d)", cur.Support.State, day(cur.Support.Ends), cur.Support.DaysLeft, r.Notice)
	if r.Offline != "" {
		return s + "; its document was not compared (no mirror, see above)"
	}
	return s + ", its document " + cur.Document
}

func oneLineErr(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }
