package schemaconf

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/crmkit/hubspot-associations/generated/associations"
	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/hubspottest"
)

// newPortal starts a fake portal and returns it with a Schema on it.
func newPortal(t *testing.T, opts ...hubspottest.Option) (*hubspottest.Server, *associations.Schema) {
	t.Helper()
	opts = append([]hubspottest.Option{hubspottest.WithRateLimit(1000, time.Second)}, opts...)
	srv := hubspottest.NewServer(t, opts...)
	s, err := associations.New(hubspottest.DefaultToken, hubspot.WithBaseURL(srv.URL), hubspot.WithResendUnknown(),
		hubspot.WithRetryPolicy(hubspot.RetryPolicy{BaseDelay: 2 * time.Millisecond, MaxDelay: 100 * time.Millisecond, MaxAttempts: 10}))
	if err != nil {
		t.Fatal(err)
	}
	return srv, s
}

func mustParse(t *testing.T, text string) *File {
	t.Helper()
	f, err := Parse("schema.yaml", []byte(text))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return f
}

func mustObjects(t *testing.T, f *File, portal string, extra map[string]string) *Objects {
	t.Helper()
	o, err := NewObjects(f, portal, extra)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// planOn resolves the file for the portal, reads it and plans.
func planOn(t *testing.T, s *associations.Schema, f *File, portal string, extra map[string]string, prune bool) (*Plan, *Objects, error) {
	t.Helper()
	o := mustObjects(t, f, portal, extra)
	d, err := Resolve(f, o)
	if err != nil {
		return nil, o, err
	}
	objs, err := ReadObjects(d, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := Read(context.Background(), s, o, objs, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlan(d, cur, PlanOptions{Portal: portal, Prune: prune, File: f.Name()})
	return p, o, err
}

// export reads a portal and encodes its file.
func export(t *testing.T, s *associations.Schema, o *Objects, objects []string) string {
	t.Helper()
	cur, err := Read(context.Background(), s, o, objects, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Export(cur, o, associations.APIVersion).Encode(&b, YAML); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func planText(t *testing.T, p *Plan) string {
	t.Helper()
	var b bytes.Buffer
	if err := p.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func wantLines(t *testing.T, got, want string) {
	t.Helper()
	if strings.TrimSpace(got) != strings.TrimSpace(want) {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
