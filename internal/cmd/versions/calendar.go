package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// calendar is HubSpot's support calendar for API versions, as data
// (spec/calendar.json): a change of HubSpot's policy is an edit there.
type calendar struct {
	Source          string     `json:"source"`          // where HubSpot states the rule
	Rule            string     `json:"rule"`            // the rule in words
	GADay           int        `json:"gaDay"`           // day of the month a date version goes GA
	CurrentMonths   int        `json:"currentMonths"`   // months a version is Current after GA
	SupportedMonths int        `json:"supportedMonths"` // months after GA until it is Unsupported
	NoticeDays      int        `json:"noticeDays"`      // default notice for the check, in days
	NoticeSource    string     `json:"noticeSource"`    // where the notice period comes from
	Fixed           []fixedEnd `json:"fixed"`           // versions outside the rule (v4)
}

// fixedEnd is a version whose end of support HubSpot announced on its own.
type fixedEnd struct {
	Version        string `json:"version"`
	SupportedUntil string `json:"supportedUntil"` // YYYY-MM-DD: Unsupported from that day
	Source         string `json:"source"`

	until time.Time
}

// Support states of a version on a given day.
const (
	stateNotYetGA    = "not yet GA"
	stateCurrent     = "current"
	stateSupported   = "supported"
	stateUnsupported = "unsupported"
	stateUnknown     = "unknown" // not a date version and not in calendar.fixed
)

// support is what the calendar says about one version on one day.
type support struct {
	State        string
	GA           time.Time // zero for fixed and unknown versions
	CurrentUntil time.Time // zero for fixed and unknown versions
	Ends         time.Time // first day Unsupported; zero when unknown
	DaysLeft     int       // days from the day asked about to Ends (negative once past)
}

var dateVersionRE = regexp.MustCompile(`^([0-9]{4})-([0-9]{2})$`)

// loadCalendar reads and checks a calendar file; every error names the
// file and the field.
func loadCalendar(file string) (*calendar, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var c calendar
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	switch {
	case !strings.HasPrefix(c.Source, "https://"):
		return nil, fmt.Errorf("%s: source: %q is not an https address (say where HubSpot states the rule)", file, c.Source)
	case c.GADay < 1 || c.GADay > 28:
		return nil, fmt.Errorf("%s: gaDay: %d is not a day 1..28", file, c.GADay)
	case c.CurrentMonths < 1 || c.CurrentMonths > 120:
		return nil, fmt.Errorf("%s: currentMonths: %d is not 1..120", file, c.CurrentMonths)
	case c.SupportedMonths < c.CurrentMonths || c.SupportedMonths > 240:
		return nil, fmt.Errorf("%s: supportedMonths: %d is not currentMonths (%d)..240", file, c.SupportedMonths, c.CurrentMonths)
	case c.NoticeDays < 1 || c.NoticeDays > 3650:
		return nil, fmt.Errorf("%s: noticeDays: %d is not 1..3650", file, c.NoticeDays)
	}
	seen := map[string]bool{}
	for i := range c.Fixed {
		f := &c.Fixed[i]
		if f.Version == "" || seen[f.Version] {
			return nil, fmt.Errorf("%s: fixed[%d].version: %q is empty or listed twice", file, i, f.Version)
		}
		seen[f.Version] = true
		if f.until, err = time.Parse(time.DateOnly, f.SupportedUntil); err != nil {
			return nil, fmt.Errorf("%s: fixed[%d].supportedUntil: %q is not YYYY-MM-DD", file, i, f.SupportedUntil)
		}
	}
	return &c, nil
}

// isDateVersion reports whether v is a date version (2026-03), not v4 and
// not a beta.
func isDateVersion(v string) bool {
	m := dateVersionRE.FindStringSubmatch(v)
	if m == nil {
		return false
	}
	month, _ := strconv.Atoi(m[2])
	return month >= 1 && month <= 12
}

// newer reports whether version a is newer than b: date versions by date,
// and any date version is newer than a numbered one (v4).
func newer(a, b string) bool {
	switch da, db := isDateVersion(a), isDateVersion(b); {
	case da && db:
		return a > b
	default:
		return da && !db
	}
}

// support says what the calendar gives version on day (a UTC date).
func (c *calendar) support(version string, day time.Time) support {
	day = dateOf(day)
	var s support
	for _, f := range c.Fixed {
		if f.Version == version {
			s.Ends = f.until
		}
	}
	if s.Ends.IsZero() && isDateVersion(version) {
		y, _ := strconv.Atoi(version[:4])
		m, _ := strconv.Atoi(version[5:])
		s.GA = time.Date(y, time.Month(m), c.GADay, 0, 0, 0, 0, time.UTC)
		s.CurrentUntil = s.GA.AddDate(0, c.CurrentMonths, 0)
		s.Ends = s.GA.AddDate(0, c.SupportedMonths, 0)
	}
	switch {
	case s.Ends.IsZero():
		s.State = stateUnknown
		return s
	case !day.Before(s.Ends):
		s.State = stateUnsupported
	case !s.GA.IsZero() && day.Before(s.GA):
		s.State = stateNotYetGA
	case !s.CurrentUntil.IsZero() && day.Before(s.CurrentUntil):
		s.State = stateCurrent
	default:
		s.State = stateSupported
	}
	s.DaysLeft = int(s.Ends.Sub(day).Hours() / 24)
	return s
}

// dateOf returns the UTC day of t, at midnight.
func dateOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
