// Package schemaconf is a HubSpot portal's association schema (labels and
// association limits) as a file users keep in git: the file format, the
// plan that takes a portal from what it has to what a file says, the
// validation of everything HubSpot would refuse, and the apply that
// carries a plan out through associations.Schema with an account of every
// change. The hubspot-assoc command (cmd/hubspot-assoc) only parses flags,
// prints and calls this package.
//
// Identity across portals: HubSpot gives user-defined labels typeIds that
// differ per portal and never returns a label's name, so a user-defined
// label is known by its text and direction (from -> to); HubSpot-defined
// types (and INTEGRATOR_DEFINED, WORK) by their typeId, which is the same
// everywhere; the limit on all associations of an object pair (the "object
// limit") by the pair. Custom object types are named in the file and mapped
// to each portal's ids ("2-12345") in its objects section or by flag.
//
//	f, err := schemaconf.Parse("schema.yaml", data)          // lines kept for problems
//	o, err := schemaconf.NewObjects(f, "production", nil)    // custom object ids of the portal
//	want, err := schemaconf.Resolve(f, o)                    // the file's own problems
//	objs, err := schemaconf.ReadObjects(want, o, nil)
//	cur, err := schemaconf.Read(ctx, schema, o, objs, nil)   // the portal, through associations.Schema
//	p, err := schemaconf.NewPlan(want, cur, schemaconf.PlanOptions{Portal: "production"})
//	p.WriteText(os.Stdout)                                    // or WriteJSON
//	rep := schemaconf.Apply(ctx, schema, p, o, nil)           // one Result per change
//
// The rules HubSpot enforces and where they are documented are listed in
// docs/schema-as-code.md.
package schemaconf
