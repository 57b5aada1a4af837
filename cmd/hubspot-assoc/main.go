// Command hubspot-assoc keeps a HubSpot portal's association labels and
// association limits as code: export a portal to a file, plan a file
// against a portal (or another file), apply it, diff two portals.
//
//	go install github.com/crmkit/hubspot-associations/cmd/hubspot-assoc@latest
//
//	export HUBSPOT_TOKEN_SANDBOX=pat-... HUBSPOT_TOKEN_PRODUCTION=pat-...
//	hubspot-assoc export --portal sandbox -o schema.yaml
//	hubspot-assoc plan schema.yaml --portal production     # exit 0: nothing to do, 2: changes, 1: error
//	hubspot-assoc apply schema.yaml --portal production
//	hubspot-assoc diff portal:sandbox portal:production
//
// Tokens come from the environment only (never a flag): portal NAME reads
// $HUBSPOT_TOKEN_NAME (upper-case, - as _), the portal "default"
// $HUBSPOT_TOKEN; --token-env NAME=VAR names another variable. The
// command is a thin layer over package schemaconf, which holds the file
// format, the plan and the apply.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes (as terraform plan -detailed-exitcode).
const (
	exitOK      = 0
	exitError   = 1
	exitChanges = 2
)

// exitError carries an exit code other than 1 out of a command.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit %d", int(e)) }

// run runs the command line and returns the exit code; an error is
// printed on stderr, one line per problem.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	var code exitCode
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &code):
		return int(code)
	}
	fmt.Fprintln(stderr, "hubspot-assoc: "+err.Error())
	return exitError
}
