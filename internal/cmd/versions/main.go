// Command versions moves the client between HubSpot API versions and
// guards its Go surface.
//
// Usage:
//
//	versions bump -version V        pin V, make it current, write docs/api-changes/<old>_<V>.md
//	versions spec-diff              compare the pinned current document with the mirror's (or $SPEC_FILE)
//	versions report -from V -to W   print the change report between two pinned versions
//	versions surface -check|-update compare api/*.txt with the code, or rewrite them
//	versions check                  regenerate every pinned version and revision in temporary copies
//	versions status [-check] [-next]  versions published, pinned, and their support by HubSpot's calendar
//
// Run it from the module root (the make targets in mk/versions.mk do).
// Documents are read from $HUBSPOT_SPEC_MIRROR (see internal/specsource).
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: versions <command> [flags]
  bump -version V       pin V (path from the current pin), make it current, write the change report
  spec-diff             report what changed in the current version's document since it was pinned
  report -from V -to W  print the change report between two pinned versions
  surface -check        fail if the code removes or changes an identifier listed in api/*.txt
  surface -update       rewrite api/*.txt from the code
  check                 regenerate, build, vet and check the surface for every pinned version and revision
  status                list the versions the mirror publishes, the pins, each one's support by HubSpot's
                        calendar (spec/calendar.json) and what a bump to the newest changes
  status -check [-days N]  fail when the current pin is unsupported or will be within N days (default 90),
                        or its document was re-published; the message names the command to run
  status -next          print the version make bump should move to, or nothing
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "bump":
		err = cmdBump(args[1:], stdout, stderr)
	case "spec-diff":
		err = cmdSpecDiff(args[1:], stdout, stderr)
	case "report":
		err = cmdReport(args[1:], stdout, stderr)
	case "surface":
		err = cmdSurface(args[1:], stdout, stderr)
	case "check":
		err = cmdCheck(args[1:], stdout, stderr)
	case "status":
		err = cmdStatus(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "versions: unknown command %q\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		if err != errReported {
			fmt.Fprintf(stderr, "versions %s: %v\n", args[0], err)
		}
		return 1
	}
	return 0
}

// errReported is returned when the failure has already been explained.
var errReported = fmt.Errorf("failed")
