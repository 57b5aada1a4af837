package main

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/crmkit/hubspot-associations/hubspottest"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"hubspot-assoc": func() { os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs testdata/script/*.txtar: one per subcommand. Scripts
// start fakes with the commands below; hubspot-assoc runs as a process
// talking to them over HTTP.
//
//	fake NAME                          start a fake portal; sets NAME_URL
//	fakelabel NAME FROM TO LABEL [INV] create a user-defined label
//	fakelimit NAME FROM TO LABEL MAX   set a limit ("-" for the object limit)
//	fakeobject NAME FROM TO TYPEID     add the unlabeled type of a custom object pair
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Values["fakes"] = map[string]*hubspottest.Server{}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"fake":       cmdFake,
			"fakelabel":  cmdFakeLabel,
			"fakelimit":  cmdFakeLimit,
			"fakeobject": cmdFakeObject,
		},
	})
}

func fakes(ts *testscript.TestScript) map[string]*hubspottest.Server {
	return ts.Value("fakes").(map[string]*hubspottest.Server)
}

func fakeNamed(ts *testscript.TestScript, name string) *hubspottest.Server {
	s := fakes(ts)[name]
	if s == nil {
		ts.Fatalf("no fake %s", name)
	}
	return s
}

func cmdFake(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: fake NAME")
	}
	s, err := hubspottest.New(hubspottest.WithRateLimit(1000, time.Second))
	ts.Check(err)
	ts.Check(s.Start("127.0.0.1:0"))
	ts.Defer(func() { _ = s.Close() })
	fakes(ts)[args[0]] = s
	ts.Setenv(strings.ToUpper(args[0])+"_URL", s.URL)
}

func cmdFakeLabel(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 4 || len(args) > 5 {
		ts.Fatalf("usage: fakelabel NAME FROM TO LABEL [INVERSE]")
	}
	inv := ""
	if len(args) == 5 {
		inv = args[4]
	}
	name := strings.ToLower(strings.ReplaceAll(args[3], " ", "_"))
	_, err := fakeNamed(ts, args[0]).CreateLabel(args[1], args[2], name, args[3], inv)
	ts.Check(err)
}

func cmdFakeLimit(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 5 {
		ts.Fatalf("usage: fakelimit NAME FROM TO LABEL|- MAX")
	}
	s := fakeNamed(ts, args[0])
	max, err := strconv.Atoi(args[4])
	ts.Check(err)
	types, err := s.AssociationTypes(args[1], args[2])
	ts.Check(err)
	for _, t := range types {
		if (args[3] == "-" && t.Label == "") || t.Label == args[3] {
			ts.Check(s.SetLimit(hubspottest.Limit{FromObjectType: args[1], ToObjectType: args[2], Category: t.Category, TypeID: t.TypeID, MaxToObjectIDs: int32(max)}))
			return
		}
	}
	ts.Fatalf("no type %q from %s to %s", args[3], args[1], args[2])
}

func cmdFakeObject(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 {
		ts.Fatalf("usage: fakeobject NAME FROM TO TYPEID")
	}
	id, err := strconv.Atoi(args[3])
	ts.Check(err)
	s := fakeNamed(ts, args[0])
	ts.Check(s.AddAssociationType(hubspottest.AssociationType{FromObjectType: args[1], ToObjectType: args[2], Category: "USER_DEFINED", TypeID: int32(id)}))
	ts.Check(s.AddAssociationType(hubspottest.AssociationType{FromObjectType: args[2], ToObjectType: args[1], Category: "USER_DEFINED", TypeID: int32(id + 1)}))
}
