package readme

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"
)

// preamble declares what the snippets take as given: a context, a token, a
// client, the inputs of a batch call, a test's t and an OAuth token source.
const preamble = `package readme

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"testing"
	"time"

	"github.com/crmkit/hubspot-associations/generated/associations"
	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/hubspot/redislimit"
	"github.com/crmkit/hubspot-associations/hubspottest"
	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"
)

var (
	ctx    context.Context
	token  string
	client *associations.ClientWithResponses
	inputs []associations.LimitUpdate
	t      *testing.T
	ts     oauth2.TokenSource
)

func runYourCode(*associations.Schema) {}

var _, _, _, _, _, _, _, _ = errors.As, fmt.Println, log.Print, os.Stderr, time.Second, hubspottest.New, redis.NewClient, redislimit.NewLimiter
`

var (
	goBlock     = regexp.MustCompile("(?s)```go\n(.*?)```")
	importBlock = regexp.MustCompile(`(?s)^import \(.*?\)\n`)
)

// TestREADME_snippetsCompile: every Go snippet of README.md, each as the
// body of a function, type-checks against the module's packages. Unused
// variables are fine (a snippet is a fragment); anything else is an error
// naming the snippet.
func TestREADME_snippetsCompile(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := goBlock.FindAllStringSubmatch(string(readme), -1)
	if len(blocks) < 3 {
		t.Fatalf("README.md has %d Go snippets; the test expects the usage examples", len(blocks))
	}
	var src strings.Builder
	src.WriteString(preamble)
	var starts []int // first line of each snippet's function in src
	for i, b := range blocks {
		starts = append(starts, strings.Count(src.String(), "\n")+2)
		fmt.Fprintf(&src, "\nfunc snippet%d() error {\n%s\nreturn nil\n}\n", i+1, importBlock.ReplaceAllString(b[1], ""))
	}
	lines := strings.Split(src.String(), "\n")
	// where names the snippet and the source line of an error position
	// "file:line:col".
	where := func(pos string) string {
		parts := strings.Split(pos, ":")
		if len(parts) < 3 {
			return pos
		}
		n, err := strconv.Atoi(parts[len(parts)-2])
		if err != nil || n < 1 || n > len(lines) {
			return pos
		}
		snippet := 0
		for i, st := range starts {
			if n >= st {
				snippet = i + 1
			}
		}
		return fmt.Sprintf("snippet %d (%q)", snippet, strings.TrimSpace(lines[n-1]))
	}
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "snippets_overlay.go")
	pkgs, err := packages.Load(&packages.Config{
		Mode:    packages.NeedName | packages.NeedTypes,
		Dir:     dir,
		Overlay: map[string][]byte{file: []byte(src.String())},
	}, "file="+file)
	if err != nil {
		t.Fatal(err)
	}
	checked := false
	for _, p := range pkgs {
		for _, e := range p.Errors {
			if !strings.Contains(e.Msg, "declared and not used") {
				t.Errorf("README.md, Go %s: %s", where(e.Pos), e.Msg)
			}
		}
		checked = checked || p.Types != nil
	}
	if !checked {
		t.Fatal("the snippets were not type-checked")
	}
}
