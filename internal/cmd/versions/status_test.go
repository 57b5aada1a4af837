package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crmkit/hubspot-associations/internal/specsource"
)

const calendarFile = "../../../spec/calendar.json"

// testMirror is a mirror folder laid out like HubSpot's collection with a
// small document per version, and pins for it.
type testMirror struct {
	dir, pins string
	docs      map[string][]byte // version -> document
}

const testDocs = "PublicApiSpecs/CRM/Things/Rollouts/1/%s/things.json"

func docPath(version string) string { return strings.Replace(testDocs, "%s", version, 1) }

// newTestMirror publishes base.json as 2026-03 and rev.json (the apidiff
// test documents) as the versions in published, and pins 2026-03 as the
// current version.
func newTestMirror(t *testing.T, published ...string) *testMirror {
	t.Helper()
	m := &testMirror{dir: t.TempDir(), docs: map[string][]byte{}}
	base, err := os.ReadFile("../../apidiff/testdata/base.json")
	if err != nil {
		t.Fatal(err)
	}
	rev, err := os.ReadFile("../../apidiff/testdata/rev.json")
	if err != nil {
		t.Fatal(err)
	}
	m.publish(t, "2026-03", base)
	for _, v := range published {
		m.publish(t, v, rev)
	}
	p := &specsource.Pins{Current: "2026-03", Pins: []specsource.Pin{
		{Version: "2026-03", Path: docPath("2026-03"), SHA256: specsource.Sum(base)},
	}}
	m.pins = filepath.Join(t.TempDir(), "pins.json")
	if err := os.WriteFile(m.pins, formatPins(p), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(specsource.MirrorEnv, m.dir)
	return m
}

func (m *testMirror) publish(t *testing.T, version string, doc []byte) {
	t.Helper()
	f := filepath.Join(m.dir, filepath.FromSlash(docPath(version)))
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	m.docs[version] = doc
}

// status runs `versions status` with the mirror's pins, the real calendar
// and the clock fixed at today.
func (m *testMirror) status(t *testing.T, today string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	all := append([]string{"status", "-pins", m.pins, "-calendar", calendarFile, "-rules", "../../../spec/rules.json", "-cache", t.TempDir(), "-today", today}, args...)
	code = run(all, &out, &errb)
	return code, out.String(), errb.String()
}

// TestStatusCheck_calendar: with the clock fixed, the check fails from 90
// days before the current pin (2026-03) loses support on 2027-09-01, and
// names the bump to the newest published version; it passes before.
func TestStatusCheck_calendar(t *testing.T) {
	m := newTestMirror(t, "2026-09")
	for _, tc := range []struct {
		today string
		args  []string
		fail  string // "" to pass
	}{
		{"2026-11-30", nil, ""},
		{"2027-06-02", nil, ""}, // 91 days left
		{"2027-06-03", nil, "in 90 days (within the 90 days' notice); run: make bump VERSION=2026-09"},
		{"2027-06-10", nil, "unsupported from 2027-09-01, in 83 days (within the 90 days' notice); run: make bump VERSION=2026-09"},
		{"2027-06-10", []string{"-days", "30"}, ""},
		{"2027-08-10", []string{"-days", "30"}, "in 22 days (within the 30 days' notice)"},
		{"2027-09-01", nil, "current pin 2026-03 is unsupported since 2027-09-01; run: make bump VERSION=2026-09"},
	} {
		code, stdout, stderr := m.status(t, tc.today, append([]string{"-check"}, tc.args...)...)
		if tc.fail == "" {
			if code != 0 || !strings.Contains(stdout, "versions check: ok: current pin 2026-03 is ") {
				t.Errorf("%s %v: exit %d, want 0 and an ok line\nstdout:\n%s\nstderr:\n%s", tc.today, tc.args, code, stdout, stderr)
			}
			continue
		}
		if code != 1 || !strings.Contains(stderr, tc.fail) {
			t.Errorf("%s %v: exit %d, stderr:\n%s\nwant exit 1 and %q", tc.today, tc.args, code, stderr, tc.fail)
		}
		if n := strings.Count(stderr, "\n"); n != 1 {
			t.Errorf("%s: %d lines on stderr, want one:\n%s", tc.today, n, stderr)
		}
	}
}

// TestStatusCheck_noNewerVersion: near the end of support with nothing newer
// published, the one command is to update the mirror.
func TestStatusCheck_noNewerVersion(t *testing.T) {
	m := newTestMirror(t)
	code, _, stderr := m.status(t, "2027-07-01", "-check")
	if code != 1 || !strings.Contains(stderr, "run: update the mirror (git -C "+m.dir+" pull) and run make versions") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

// TestStatusCheck_republished: the current pin's document served with
// another sha256 fails the check on any date, naming spec-diff and the bump
// that re-pins it; -next names the current version.
func TestStatusCheck_republished(t *testing.T) {
	m := newTestMirror(t)
	changed := append(bytes.Clone(m.docs["2026-03"]), '\n')
	m.publish(t, "2026-03", changed)
	code, stdout, stderr := m.status(t, "2026-11-30", "-check")
	want := "the document of current pin 2026-03 was re-published: sha256 " + specsource.Sum(changed)
	if code != 1 || !strings.Contains(stderr, want) || !strings.Contains(stderr, "run: make bump VERSION=2026-03") {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and %q", code, stderr, want)
	}
	if !strings.Contains(stdout, "2026-03  current  yes        re-published") {
		t.Errorf("table does not show the re-published document:\n%s", stdout)
	}
	if code, stdout, _ := m.status(t, "2026-11-30", "-next"); code != 0 || stdout != "2026-03\n" {
		t.Errorf("-next: exit %d, %q, want 2026-03", code, stdout)
	}
}

// TestStatus_table: the table lists the pins and the published versions
// with their support by the calendar, and one line on what a bump to the
// newest changes (the change report's summary).
func TestStatus_table(t *testing.T) {
	m := newTestMirror(t, "2026-09", "2027-03-beta")
	code, stdout, stderr := m.status(t, "2026-11-30")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"API versions on 2026-11-30 by HubSpot's calendar (" + calendarFile,
		"mirror: " + m.dir,
		"2026-03       current  yes        as pinned   supported  2026-03-01  2026-09-01     2027-09-01        275",
		"2026-09       -        yes        not pinned  current    2026-09-01  2027-03-01     2028-03-01        457",
		"2027-03-beta  -        yes        not pinned  unknown    -           -              -                 -",
		"newest: 2026-09; make bump VERSION=2026-09 would report ",
		"(breaking: ",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if code, stdout, _ := m.status(t, "2026-11-30", "-next"); code != 0 || stdout != "2026-09\n" {
		t.Errorf("-next: exit %d, %q, want 2026-09 (a beta is never the newest)", code, stdout)
	}
}

// TestStatus_noMirror: without a mirror the table shows the pins by the
// calendar and one line saying there is no mirror and how to get one; the
// check still judges the calendar.
func TestStatus_noMirror(t *testing.T) {
	m := newTestMirror(t, "2026-09")
	t.Setenv(specsource.MirrorEnv, filepath.Join(m.dir, "missing"))
	code, stdout, _ := m.status(t, "2026-11-30")
	if code != 0 || strings.Count(stdout, "no mirror:") != 1 || !strings.Contains(stdout, specsource.GetMirror) || strings.Contains(stdout, "newest:") {
		t.Errorf("exit %d, want one no-mirror line with the way to get one and no bump line:\n%s", code, stdout)
	}
	if code, _, stderr := m.status(t, "2027-07-01", "-check"); code != 1 || !strings.Contains(stderr, "unsupported from 2027-09-01") {
		t.Errorf("check without a mirror near the end: exit %d, %s", code, stderr)
	}
	if code, _, stderr := m.status(t, "2026-11-30", "-next"); code != 1 || !strings.Contains(stderr, "no mirror:") {
		t.Errorf("-next without a mirror: exit %d, %s (want a failure: the workflow must not think nothing is new)", code, stderr)
	}
}

// TestStatus_addressMirror: a mirror given as an address cannot be listed;
// the calendar's next release is probed and found.
func TestStatus_addressMirror(t *testing.T) {
	m := newTestMirror(t, "2026-09")
	srv := httptest.NewServer(http.FileServer(http.Dir(m.dir)))
	defer srv.Close()
	t.Setenv(specsource.MirrorEnv, srv.URL)
	code, stdout, stderr := m.status(t, "2026-11-30", "-next")
	if code != 0 || stdout != "2026-09\n" {
		t.Errorf("-next: exit %d, %q, stderr %s; want 2026-09", code, stdout, stderr)
	}
	srv.Close()
	code, stdout, _ = m.status(t, "2026-11-30")
	if code != 0 || strings.Count(stdout, "\noffline: ") != 1 {
		t.Errorf("unreachable address: exit %d, want one offline line:\n%s", code, stdout)
	}
}

func TestCalendar_support(t *testing.T) {
	t.Parallel()
	cal, err := loadCalendar(calendarFile)
	if err != nil {
		t.Fatal(err)
	}
	d := func(s string) time.Time {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	for _, tc := range []struct {
		version, day, state string
		left                int
	}{
		{"2026-09", "2026-08-31", stateNotYetGA, 548},
		{"2026-09", "2026-09-01", stateCurrent, 547},
		{"2026-09", "2027-03-01", stateSupported, 366},
		{"2026-09", "2028-02-29", stateSupported, 1},
		{"2026-09", "2028-03-01", stateUnsupported, 0},
		{"v4", "2026-11-30", stateSupported, 120},
		{"v4", "2027-03-30", stateUnsupported, 0},
		{"v3", "2026-11-30", stateUnknown, 0},
		{"2026-09-beta", "2026-11-30", stateUnknown, 0},
	} {
		s := cal.support(tc.version, d(tc.day))
		if s.State != tc.state || s.DaysLeft != tc.left {
			t.Errorf("%s on %s: %s, %d days left; want %s, %d", tc.version, tc.day, s.State, s.DaysLeft, tc.state, tc.left)
		}
	}
	if !newer("2026-09", "2026-03") || newer("v4", "2025-09") || !newer("2025-09", "v4") || newer("2026-09-beta", "2026-03") {
		t.Error("newer orders versions wrongly")
	}
}

// TestLoadCalendar_errors: a bad calendar is one line naming the file and
// the field.
func TestLoadCalendar_errors(t *testing.T) {
	t.Parallel()
	good := `"source": "https://example.com/v", "rule": "r", "gaDay": 1, "currentMonths": 6, "supportedMonths": 18, "noticeDays": 90, "noticeSource": "n"`
	for _, tc := range []struct{ body, want string }{
		{`{` + good + `, "fixed": [{"version": "v4", "supportedUntil": "2027-03-30", "source": "s"}]}`, ""},
		{`{` + strings.Replace(good, `"https://example.com/v"`, `"example.com"`, 1) + `}`, "source:"},
		{`{` + strings.Replace(good, `"supportedMonths": 18`, `"supportedMonths": 3`, 1) + `}`, "supportedMonths:"},
		{`{` + strings.Replace(good, `"gaDay": 1`, `"gaDay": 31`, 1) + `}`, "gaDay:"},
		{`{` + good + `, "fixed": [{"version": "v4", "supportedUntil": "30.3.2027", "source": "s"}]}`, "fixed[0].supportedUntil:"},
		{`{` + good + `, "extra": 1}`, "unknown field"},
	} {
		f := filepath.Join(t.TempDir(), "calendar.json")
		if err := os.WriteFile(f, []byte(tc.body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := loadCalendar(f)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.body, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), f+": ") || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("error %v, want one naming %s and %q", err, f, tc.want)
		}
	}
}

// TestStatus_sharedMirror: make versions on HubSpot's documents lists every
// pin as published and as pinned.
func TestStatus_sharedMirror(t *testing.T) {
	if _, err := specsource.LocalMirror(); err != nil {
		t.Skip(err)
	}
	var out, errb bytes.Buffer
	code := run([]string{"status", "-pins", pinsFile, "-calendar", calendarFile, "-rules", "../../../spec/rules.json", "-cache", t.TempDir(), "-today", "2026-11-30"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	pins, err := specsource.LoadPins(pinsFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pins.Pins {
		if !strings.Contains(out.String(), "\n"+p.Version+" ") || !strings.Contains(out.String(), "yes        as pinned") {
			t.Errorf("table lacks %s published as pinned:\n%s", p.Version, out.String())
		}
	}
}
