// Package apisurface records the exported Go API of a package as text,
// one identifier per line with its signature, in the manner of Go's own
// api/*.txt files, and compares a package against such a record.
//
// Lines look like
//
//	pkg example.com/m/p, const Max = 10
//	pkg example.com/m/p, const Name untyped string
//	pkg example.com/m/p, func New(string, ...Option) (*Client, error)
//	pkg example.com/m/p, method (*Client) Do(context.Context) error
//	pkg example.com/m/p, type Client struct
//	pkg example.com/m/p, type Client struct, Timeout time.Duration
//	pkg example.com/m/p, type Doer interface
//	pkg example.com/m/p, type Doer interface, Do(*http.Request) (*http.Response, error)
//	pkg example.com/m/p, type Kind string
//	pkg example.com/m/p, var Default *Client
//
// Typed constants record their value (an enum value that changes is a
// change); untyped constants record only their kind, so a constant such as
// APIVersion may take a new value with each API version.
package apisurface

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/crmkit/hubspot-associations/internal/specfix"
	"golang.org/x/tools/go/packages"
)

// Line is one recorded identifier.
type Line struct {
	Key  string // what the line is about, e.g. "pkg p, method (*Client) Do"
	Text string // the whole line
}

// Load returns the exported API of the packages matched by patterns, in
// dir, sorted. Types whose doc comment carries specfix.UncuratedNote
// (generated from schemas no type rule names, under HubSpot's changing
// names) are left out, with their fields and methods: their drift is not a
// change of this module's API.
func Load(dir string, patterns ...string) ([]string, error) {
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedTypes | packages.NeedSyntax,
		Dir:  dir,
	}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		return nil, err
	}
	var errs []error
	var lines []string
	for _, p := range pkgs {
		for _, e := range p.Errors {
			errs = append(errs, e)
		}
		if p.Types == nil || len(p.Errors) > 0 {
			continue
		}
		lines = append(lines, surface(p.Types, uncurated(p.Syntax))...)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("loading %s: %w", strings.Join(patterns, " "), errors.Join(errs...))
	}
	slices.Sort(lines)
	return slices.Compact(lines), nil
}

// Surface returns the exported API of pkg, sorted.
func Surface(pkg *types.Package) []string { return surface(pkg, nil) }

// uncurated returns the names of the types declared with
// specfix.UncuratedNote in their doc comment.
func uncurated(files []*ast.File) map[string]bool {
	out := map[string]bool{}
	for _, f := range files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				doc := ts.Doc
				if doc == nil && len(gd.Specs) == 1 {
					doc = gd.Doc
				}
				if doc != nil && strings.Contains(strings.Join(strings.Fields(doc.Text()), " "), specfix.UncuratedNote) {
					out[ts.Name.Name] = true
				}
			}
		}
	}
	return out
}

func surface(pkg *types.Package, skip map[string]bool) []string {
	w := &writer{pkg: pkg, prefix: "pkg " + pkg.Path() + ", "}
	scope := pkg.Scope()
	for _, name := range scope.Names() {
		obj := scope.Lookup(name)
		if !obj.Exported() || skip[name] {
			continue
		}
		w.object(obj)
	}
	slices.Sort(w.lines)
	return slices.Compact(w.lines)
}

type writer struct {
	pkg    *types.Package
	prefix string
	lines  []string
}

func (w *writer) emit(format string, args ...any) {
	w.lines = append(w.lines, w.prefix+fmt.Sprintf(format, args...))
}

func (w *writer) qualifier(p *types.Package) string {
	if p == w.pkg {
		return ""
	}
	return p.Name()
}

// typ writes a type; a func type is written without parameter names, so
// renaming a parameter is not a change.
func (w *writer) typ(t types.Type) string {
	if s, ok := t.(*types.Signature); ok {
		return "func" + w.sig(s)
	}
	return types.TypeString(t, w.qualifier)
}

// sig writes a signature without the "func" keyword and parameter names.
func (w *writer) sig(s *types.Signature) string {
	var b strings.Builder
	b.WriteString("(")
	params := s.Params()
	for i := 0; i < params.Len(); i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		t := params.At(i).Type()
		if s.Variadic() && i == params.Len()-1 {
			b.WriteString("..." + w.typ(t.(*types.Slice).Elem()))
			continue
		}
		b.WriteString(w.typ(t))
	}
	b.WriteString(")")
	res := s.Results()
	switch res.Len() {
	case 0:
	case 1:
		b.WriteString(" " + w.typ(res.At(0).Type()))
	default:
		b.WriteString(" (")
		for i := 0; i < res.Len(); i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(w.typ(res.At(i).Type()))
		}
		b.WriteString(")")
	}
	return b.String()
}

func (w *writer) object(obj types.Object) {
	switch o := obj.(type) {
	case *types.Const:
		if b, ok := o.Type().(*types.Basic); ok && b.Info()&types.IsUntyped != 0 {
			w.emit("const %s %s", o.Name(), b.Name())
			return
		}
		w.emit("const %s %s = %s", o.Name(), w.typ(o.Type()), constString(o.Val()))
	case *types.Var:
		w.emit("var %s %s", o.Name(), w.typ(o.Type()))
	case *types.Func:
		sig := o.Type().(*types.Signature)
		w.emit("func %s%s%s", o.Name(), w.typeParamList(sig.TypeParams()), w.sig(sig))
	case *types.TypeName:
		w.typeName(o)
	}
}

func constString(v constant.Value) string {
	if v.Kind() == constant.String {
		return fmt.Sprintf("%q", constant.StringVal(v))
	}
	return v.ExactString()
}

func (w *writer) typeName(o *types.TypeName) {
	name := o.Name()
	if named, ok := o.Type().(*types.Named); ok {
		name += w.typeParamList(named.TypeParams())
	}
	if o.IsAlias() {
		w.emit("type %s = %s", name, w.typ(types.Unalias(o.Type())))
		return
	}
	named, ok := o.Type().(*types.Named)
	if !ok {
		return
	}
	switch u := named.Underlying().(type) {
	case *types.Struct:
		w.emit("type %s struct", name)
		for i := 0; i < u.NumFields(); i++ {
			f := u.Field(i)
			if !f.Exported() {
				continue
			}
			if f.Embedded() {
				w.emit("type %s struct, embedded %s", name, w.typ(f.Type()))
				continue
			}
			w.emit("type %s struct, %s %s", name, f.Name(), w.typ(f.Type()))
		}
	case *types.Interface:
		// One line per method: a method added to an interface is an
		// addition (it breaks only implementations outside this module).
		w.emit("type %s interface", name)
		for i := 0; i < u.NumMethods(); i++ {
			if m := u.Method(i); m.Exported() {
				w.emit("type %s interface, %s%s", name, m.Name(), w.sig(m.Type().(*types.Signature)))
			}
		}
	default:
		w.emit("type %s %s", name, w.typ(u))
	}
	// Methods, on the value and the pointer receiver.
	ms := types.NewMethodSet(types.NewPointer(named))
	for i := 0; i < ms.Len(); i++ {
		m := ms.At(i).Obj().(*types.Func)
		if !m.Exported() {
			continue
		}
		if _, isIface := named.Underlying().(*types.Interface); isIface {
			continue
		}
		sig := m.Type().(*types.Signature)
		recv := sig.Recv().Type()
		// Promoted methods of embedded fields are recorded with the
		// field; list only methods declared on this type.
		if len(ms.At(i).Index()) > 1 {
			continue
		}
		w.emit("method (%s) %s%s", w.typ(recv), m.Name(), w.sig(sig))
	}
}

func (w *writer) typeParamList(l *types.TypeParamList) string {
	if l == nil || l.Len() == 0 {
		return ""
	}
	var parts []string
	for i := 0; i < l.Len(); i++ {
		tp := l.At(i)
		parts = append(parts, tp.Obj().Name()+" "+w.typ(tp.Constraint()))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// keyRE finds what a line is about: everything up to the identifier.
var keyRE = regexp.MustCompile(`^(pkg [^,]+, (?:` +
	`(?:const|var|func) [A-Za-z0-9_]+` +
	`|method \([^)]*\) [A-Za-z0-9_]+` +
	`|type [A-Za-z0-9_]+(?:\[[^\]]*\])? struct, (?:embedded )?[A-Za-z0-9_.*]+` +
	`|type [A-Za-z0-9_]+(?:\[[^\]]*\])? interface, [A-Za-z0-9_]+` +
	`|type [A-Za-z0-9_]+))`)

// Key returns what line is about, so that a changed signature is told
// from a removed identifier.
func Key(line string) string {
	// "type T struct" and "type T interface" describe T itself.
	if m := keyRE.FindStringSubmatch(line); m != nil {
		return m[1]
	}
	return line
}

// ReadFile reads a surface file: one line per identifier; blank lines and
// lines starting with # are ignored.
func ReadFile(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		lines = append(lines, l)
	}
	return lines, sc.Err()
}

// Format renders lines as a surface file.
func Format(lines []string) []byte {
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Change is a difference between a recorded surface and the code.
type Change struct {
	Key      string
	Recorded string // "" when added
	Current  string // "" when removed
}

func (c Change) String() string {
	switch {
	case c.Recorded == "":
		return "added:   " + c.Current
	case c.Current == "":
		return "removed: " + c.Recorded
	}
	return "changed: " + c.Recorded + "\n     now: " + c.Current
}

// Diff compares a recorded surface with the current one. It returns the
// lines removed or changed (which break users) and the lines added.
func Diff(recorded, current []string) (broken, added []Change) {
	cur := map[string][]string{}
	for _, l := range current {
		cur[Key(l)] = append(cur[Key(l)], l)
	}
	rec := map[string][]string{}
	for _, l := range recorded {
		rec[Key(l)] = append(rec[Key(l)], l)
	}
	for _, l := range recorded {
		if slices.Contains(cur[Key(l)], l) {
			continue
		}
		c := Change{Key: Key(l), Recorded: l}
		if now := cur[Key(l)]; len(now) > 0 {
			c.Current = strings.Join(now, " | ")
		}
		broken = append(broken, c)
	}
	for _, l := range current {
		if slices.Contains(rec[Key(l)], l) {
			continue
		}
		if len(rec[Key(l)]) > 0 {
			continue // reported as changed
		}
		added = append(added, Change{Key: Key(l), Current: l})
	}
	return broken, added
}
