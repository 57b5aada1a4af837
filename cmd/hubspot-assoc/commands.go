package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/crmkit/hubspot-associations/generated/associations"
	"github.com/crmkit/hubspot-associations/schemaconf"
)

// app holds the process's environment and the flags shared by commands.
type app struct {
	getenv         func(string) string
	stdin          io.Reader
	stdout, stderr io.Writer
	pf             portalFlags
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "hubspot-assoc",
		Short: "Manage a HubSpot portal's association labels and limits as code",
		Long: `hubspot-assoc keeps a HubSpot portal's association schema (labels and
association limits) in a file: export a portal, plan a file against another
portal, apply it, and diff two portals or files.

User-defined labels are matched by text and direction (their typeIds differ
per portal); HubSpot-defined types by typeId. Custom object types are named
in the file's objects section (or with --object) and mapped to each
portal's ids.

Tokens are read from the environment only: portal NAME uses
$HUBSPOT_TOKEN_NAME, the portal "default" $HUBSPOT_TOKEN; --token-env
NAME=VAR names another variable. A token is never printed.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	pf := root.PersistentFlags()
	pf.StringArrayVar(&a.pf.servers, "server", nil, "API base URL for every portal, or for one as PORTAL=URL (default https://api.hubapi.com)")
	pf.StringArrayVar(&a.pf.tokenEnvs, "token-env", nil, "environment variable holding a portal's token, as PORTAL=VAR")
	pf.StringArrayVar(&a.pf.objects, "object", nil, "custom object type id for a name, for every portal or one: [PORTAL:]NAME=ID (project=2-12345)")
	pf.StringVar(&a.pf.redis, "redis", "", "share the rate-limit budget with other processes through Redis at `host:port`")
	pf.StringVar(&a.pf.apiVersion, "api-version", associations.APIVersion, "HubSpot API version (this build speaks only the generated client's)")
	root.AddCommand(a.exportCommand(), a.planCommand(), a.applyCommand(), a.diffCommand())
	return root
}

func (a *app) exportCommand() *cobra.Command {
	var portal, out string
	var objects []string
	var asJSON bool
	c := &cobra.Command{
		Use:   "export",
		Short: "Write a portal's association schema to a file (YAML, or JSON with --json)",
		Long: `export reads a portal's labels and limits between the object types named
with --objects (default contacts, companies, deals, tickets, plus the custom
objects given with --object) and writes them, sorted, so that two exports of
the same portal are byte-identical.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := a.objectsFor(nil, portal)
			if err != nil {
				return err
			}
			var extra []string
			for _, s := range objects {
				extra = append(extra, strings.Split(s, ",")...)
			}
			if len(extra) == 0 {
				extra = schemaconf.DefaultObjects
			}
			st, err := a.readPortal(cmd.Context(), portal, o, nil, extra)
			if err != nil {
				return err
			}
			format := schemaconf.YAML
			if asJSON {
				format = schemaconf.JSON
			}
			var b bytes.Buffer
			if err := schemaconf.Export(st, o, associations.APIVersion).Encode(&b, format); err != nil {
				return err
			}
			if out == "" || out == "-" {
				_, err := a.stdout.Write(b.Bytes())
				return err
			}
			return writeFileAtomic(out, b.Bytes())
		},
	}
	c.Flags().StringVar(&portal, "portal", "default", "portal to read (names its token variable, server and object ids)")
	c.Flags().StringVarP(&out, "output", "o", "", "write to `FILE` (replaced whole, never half-written) instead of stdout")
	c.Flags().StringSliceVar(&objects, "objects", nil, "object types to read, comma-separated (default contacts,companies,deals,tickets)")
	c.Flags().BoolVar(&asJSON, "json", false, "write JSON instead of YAML")
	return c
}

// planFlags are plan's and apply's.
type planFlags struct {
	portal  string
	prune   bool
	asJSON  bool
	objects []string
}

func (pf *planFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&pf.portal, "portal", "default", "portal to plan against (names its token variable, server and object ids)")
	c.Flags().BoolVar(&pf.prune, "prune", false, "also delete user-defined labels and limits the file does not have")
	c.Flags().BoolVar(&pf.asJSON, "json", false, "print JSON for machines")
	c.Flags().StringSliceVar(&pf.objects, "objects", nil, "object types to read besides the file's, comma-separated (what --prune may delete from)")
}

// loadFile reads and parses a schema file.
func loadFile(path string) (*schemaconf.File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() > schemaconf.MaxFileBytes {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d allowed", path, fi.Size(), schemaconf.MaxFileBytes)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return schemaconf.Parse(path, data)
}

// makePlan plans a file against a portal.
func (a *app) makePlan(cmd *cobra.Command, path string, pf planFlags) (*schemaconf.Plan, *schemaconf.Objects, error) {
	f, err := loadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if f.APIVersion != "" && f.APIVersion != associations.APIVersion {
		fmt.Fprintf(a.stderr, "hubspot-assoc: note: %s was exported for API version %s; planning with %s\n", path, clip(f.APIVersion), associations.APIVersion)
	}
	o, err := a.objectsFor(f, pf.portal)
	if err != nil {
		return nil, nil, err
	}
	desired, err := schemaconf.Resolve(f, o)
	if err != nil {
		return nil, nil, err
	}
	cur, err := a.readPortal(cmd.Context(), pf.portal, o, desired, pf.objects)
	if err != nil {
		return nil, nil, err
	}
	p, err := schemaconf.NewPlan(desired, cur, schemaconf.PlanOptions{Portal: pf.portal, Prune: pf.prune, File: path})
	return p, o, err
}

func (a *app) printPlan(p *schemaconf.Plan, asJSON bool) error {
	if asJSON {
		return p.WriteJSON(a.stdout)
	}
	return p.WriteText(a.stdout)
}

func (a *app) planCommand() *cobra.Command {
	var pf planFlags
	c := &cobra.Command{
		Use:   "plan FILE",
		Short: "Show what apply would change on a portal (exit 0: nothing, 2: changes, 1: error)",
		Long: `plan compares a file with a live portal and prints what would be created,
changed and (with --prune) deleted. Everything HubSpot would refuse is
refused here first, with the file's line. Exit code: 0 no changes, 2 changes,
1 error (as terraform plan -detailed-exitcode).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, _, err := a.makePlan(cmd, args[0], pf)
			if err != nil {
				return err
			}
			if err := a.printPlan(p, pf.asJSON); err != nil {
				return err
			}
			if !p.Empty() {
				return exitCode(exitChanges)
			}
			return nil
		},
	}
	pf.add(c)
	return c
}

func (a *app) applyCommand() *cobra.Command {
	var pf planFlags
	var yes bool
	c := &cobra.Command{
		Use:   "apply FILE",
		Short: "Make a portal match a file, and account for every change",
		Long: `apply plans the file against the portal, then carries the plan out: labels
first, then the limits that use their typeIds, in batch calls. It ends with
one line per change: applied, failed (with HubSpot's message), not attempted,
or outcome unknown (then read back, and the line says which). Running apply
again after any failure finishes the job; an apply with nothing to do exits
0. Deleting labels (--prune) asks for confirmation unless --yes.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, o, err := a.makePlan(cmd, args[0], pf)
			if err != nil {
				return err
			}
			if p.Empty() {
				if pf.asJSON {
					return (&schemaconf.Report{Results: []schemaconf.Result{}}).WriteJSON(a.stdout)
				}
				fmt.Fprintf(a.stdout, "No changes: portal %s matches %s.\n", pf.portal, args[0])
				return nil
			}
			if !pf.asJSON {
				if err := p.WriteText(a.stdout); err != nil {
					return err
				}
				fmt.Fprintln(a.stdout)
			}
			if labels, limits := p.LabelDeletes(); labels > 0 && !yes {
				if err := a.confirm(pf.portal, labels, limits); err != nil {
					return err
				}
			}
			s, done, err := a.newSchema(pf.portal)
			if err != nil {
				return err
			}
			defer done()
			pr := newProgress(a.stderr)
			rep := schemaconf.Apply(cmd.Context(), s, p, o, func(n, total int, c schemaconf.Change) {
				pr.show(n, total, c.Pair().String()+"  "+c.Describe())
			})
			pr.end()
			if pf.asJSON {
				err = rep.WriteJSON(a.stdout)
			} else {
				err = rep.WriteText(a.stdout)
			}
			if err != nil {
				return err
			}
			if !rep.Complete() {
				return fmt.Errorf("apply incomplete: %s (run apply again to finish)", rep.Summary())
			}
			return nil
		},
	}
	pf.add(c)
	c.Flags().BoolVarP(&yes, "yes", "y", false, "delete labels without asking")
	return c
}

// confirm asks before deleting labels; it reads the answer from stdin.
func (a *app) confirm(portal string, labels, limits int) error {
	fmt.Fprintf(a.stderr, "apply deletes %d label(s) from portal %s; %d limit(s) reference them and go with them. Type yes to go on: ", labels, portal, limits)
	line, _ := bufio.NewReader(io.LimitReader(a.stdin, 64)).ReadString('\n')
	if strings.TrimSpace(strings.ToLower(line)) != "yes" {
		fmt.Fprintln(a.stderr)
		return fmt.Errorf("not confirmed: nothing was changed (pass --yes to delete without asking)")
	}
	return nil
}

func (a *app) diffCommand() *cobra.Command {
	var asJSON bool
	var objects []string
	c := &cobra.Command{
		Use:   "diff A B",
		Short: "Show what differs between two portals or files (exit 0: same, 2: different)",
		Long: `diff prints what would take B to A, in plan's format, deletions included.
A and B are each a schema file or portal:NAME (e.g. portal:sandbox). Promoting
a sandbox to production is export from one, then plan and apply on the other.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := a.diff(cmd, args[0], args[1], objects)
			if err != nil {
				return err
			}
			if err := a.printPlan(p, asJSON); err != nil {
				return err
			}
			if !p.Empty() {
				return exitCode(exitChanges)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON for machines")
	c.Flags().StringSliceVar(&objects, "objects", nil, "object types to read from a portal, comma-separated (default contacts,companies,deals,tickets and the files')")
	return c
}

// diff plans source a against source b.
func (a *app) diff(cmd *cobra.Command, srcA, srcB string, objects []string) (*schemaconf.Plan, error) {
	portalA, isPortalA := strings.CutPrefix(srcA, "portal:")
	portalB, isPortalB := strings.CutPrefix(srcB, "portal:")
	if !isPortalA {
		portalA = ""
	}
	if !isPortalB {
		portalB = ""
	}
	var fileA, fileB *schemaconf.File
	var err error
	if !isPortalA {
		if fileA, err = loadFile(srcA); err != nil {
			return nil, err
		}
	}
	if !isPortalB {
		if fileB, err = loadFile(srcB); err != nil {
			return nil, err
		}
	}
	// Names: a file is read with the portal it is compared with.
	nameA, nameB := portalA, portalB
	if !isPortalA {
		nameA = portalB
	}
	if !isPortalB {
		nameB = portalA
	}
	oa, err := a.objectsFor(fileA, nameA)
	if err != nil {
		return nil, err
	}
	ob, err := a.objectsFor(fileB, nameB)
	if err != nil {
		return nil, err
	}
	if !isPortalA && !isPortalB {
		oa.Declare(ob.Declared()...)
		ob.Declare(oa.Declared()...)
	}
	var desired, current *schemaconf.State
	if isPortalA {
		extra := objects
		if len(extra) == 0 {
			extra = schemaconf.DefaultObjects
		}
		st, err := a.readPortal(cmd.Context(), portalA, oa, nil, extra)
		if err != nil {
			return nil, err
		}
		fileA = schemaconf.Export(st, oa, associations.APIVersion)
	}
	if desired, err = schemaconf.Resolve(fileA, oa); err != nil {
		return nil, err
	}
	if isPortalB {
		current, err = a.readPortal(cmd.Context(), portalB, ob, desired, objects)
	} else {
		current, err = schemaconf.FromFile(fileB, ob)
	}
	if err != nil {
		return nil, err
	}
	return schemaconf.NewPlan(desired, current, schemaconf.PlanOptions{Portal: srcB, Prune: true, Lenient: !isPortalB, File: srcA})
}

// writeFileAtomic replaces path with data: a temporary file in the same
// folder, renamed over it once written.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	if werr == nil {
		werr = tmp.Chmod(0o644) // a file to commit, not a secret
	}
	cerr := tmp.Close()
	if werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, cmpErr(werr, cerr))
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
