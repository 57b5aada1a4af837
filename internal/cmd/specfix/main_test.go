package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const mini = "../../specfix/testdata/mini.json"

func TestRun_stdinStdout(t *testing.T) {
	in, err := os.ReadFile(mini)
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"-in", "-", "-out", "-", "-report"}, bytes.NewReader(in), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), `"operationId": "PostBatchArchive"`) {
		t.Errorf("stdout lacks the normalized document")
	}
	if !strings.Contains(errb.String(), "operation-names: ") || !strings.Contains(errb.String(), "warning: ") {
		t.Errorf("-report and warnings missing from stderr: %s", errb.String())
	}
}

func TestRun_failureLeavesNoOutput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"openapi":"3.0.1","info":{"title":"x","version":"1"},"paths":{"/a":{"get":"nope"}}}`), 0o644)
	out := filepath.Join(dir, "out.json")
	var stdout, stderr bytes.Buffer
	code := run([]string{"-in", bad, "-out", out}, nil, &stdout, &stderr)
	if code == 0 {
		t.Fatal("exit 0 for a bad document")
	}
	msg := strings.TrimSpace(stderr.String())
	if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, bad) || !strings.Contains(msg, "/paths/~1a/get") {
		t.Errorf("stderr = %q, want one line naming the file and the pointer", msg)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Error("output file written despite the failure")
	}
}

// TestRun_name: -name is what errors call the document (go generate passes
// $SPEC_FILE, of which -in is a copy in .cache/).
func TestRun_name(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "raw.json")
	os.WriteFile(bad, []byte(`{"openapi":"3.0.1","info":{"title":"x","version":"1"},"paths":{"/a":{"get":"nope"}}}`), 0o644)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-in", bad, "-out", "-", "-name", "/my/revision.json"}, nil, &stdout, &stderr); code == 0 {
		t.Fatal("exit 0 for a bad document")
	}
	if msg := stderr.String(); !strings.HasPrefix(msg, "specfix: /my/revision.json: ") || strings.Contains(msg, bad) {
		t.Errorf("stderr = %q, want it to name the document by -name", msg)
	}
}

func TestRun_usage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-in", mini}, nil, &stdout, &stderr); code != 2 {
		t.Errorf("exit %d without -out, want 2", code)
	}
	if code := run([]string{"-in", mini, "-out", "-", "-rules", "/nonexistent/rules.json"}, nil, &stdout, &stderr); code != 1 {
		t.Errorf("exit %d with a missing rules file, want 1", code)
	}
}

func TestFetch_specFile(t *testing.T) {
	abs, err := filepath.Abs(mini) // a relative SPEC_FILE is relative to the module root
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("SPEC_FILE", abs)
	out := filepath.Join(t.TempDir(), "raw.json")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"fetch", "-pins", "../../../spec/pins.json", "-out", out}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	got, _ := os.ReadFile(out)
	want, _ := os.ReadFile(mini)
	if !bytes.Equal(got, want) {
		t.Error("fetch with SPEC_FILE did not copy the file")
	}
	if !strings.Contains(stderr.String(), "no checksum") {
		t.Errorf("stderr = %q, want a note that no checksum applies", stderr.String())
	}
}

func TestFetch_unknownVersion(t *testing.T) {
	t.Setenv("SPEC_FILE", "")
	var stdout, stderr bytes.Buffer
	code := run([]string{"fetch", "-pins", "../../../spec/pins.json", "-version", "2031-03", "-out", "-"}, nil, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), `version "2031-03" is not pinned`) {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

func TestRun_apiFromPinsOrFlag(t *testing.T) {
	t.Setenv("SPEC_FILE", "")
	rules := "../../specfix/testdata/mini.rules.json"
	var stdout, stderr bytes.Buffer
	// The pins name the API; the mini rules have no such rule set.
	code := run([]string{"-in", mini, "-out", "-", "-rules", rules, "-pins", "../../../spec/pins.json"}, nil, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), `no rules for API "associations-schema"`) {
		t.Errorf("exit %d, stderr %q, want the pins' API named", code, stderr.String())
	}
	// -api overrides the pins.
	stdout.Reset()
	stderr.Reset()
	code = run([]string{"-in", mini, "-out", "-", "-rules", rules, "-pins", "../../../spec/pins.json", "-api", "crm-widgets", "-version", "2026-03"}, nil, &stdout, &stderr)
	if code != 0 || !strings.Contains(stdout.String(), `"operationId": "BatchCreateWidgets"`) {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}
