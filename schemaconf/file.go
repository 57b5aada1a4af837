package schemaconf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// MaxFileBytes bounds a schema file; a larger one is refused before parsing.
const MaxFileBytes = 4 << 20

// File is a schema file: the association schema of a portal as users read,
// edit and keep it in git. Export writes one; plan and apply read one.
type File struct {
	// APIVersion is the HubSpot API version the file was written for
	// (associations.APIVersion of the hubspot-assoc that exported it).
	APIVersion string `yaml:"apiVersion" json:"apiVersion"`
	// Objects maps a custom object type's name, as used in Associations, to
	// its id in each portal: objects[name][portal] = "2-12345".
	Objects map[string]map[string]string `yaml:"objects,omitempty" json:"objects,omitempty"`
	// Associations are the object pairs, one entry per direction.
	Associations []Pair `yaml:"associations" json:"associations"`

	name string // file name, for problems
}

// Pair is one direction between two object types: the limit on all its
// associations (the object limit) and its labels.
type Pair struct {
	From string `yaml:"from" json:"from"`
	To   string `yaml:"to" json:"to"`
	// Limit is the most records of To one record of From may be associated
	// with, whatever the label; nil means no limit is managed.
	Limit *int32 `yaml:"limit,omitempty" json:"limit,omitempty"`
	// Labels are the labels from From to To (with, for user-defined ones,
	// their inverse from To to From).
	Labels []Label `yaml:"labels,omitempty" json:"labels,omitempty"`

	line, limitLine int
}

// Label is an association label. A USER_DEFINED label (the default
// category) is known by its text and direction; any other category by its
// TypeID.
type Label struct {
	Label string `yaml:"label" json:"label"`
	// Inverse is the text of the paired label from To to From. Between two
	// different object types HubSpot always pairs a label; empty means the
	// same text. Between an object type and itself, empty means an unpaired
	// label.
	Inverse string `yaml:"inverse,omitempty" json:"inverse,omitempty"`
	// Name is HubSpot's internal name, required to create a label and never
	// returned: export derives it from the text; plan uses it only to
	// create.
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// Category is USER_DEFINED when empty.
	Category string `yaml:"category,omitempty" json:"category,omitempty"`
	// TypeID identifies a non-user-defined type. For a USER_DEFINED label
	// it is the exporting portal's id, for reference only: plan ignores it.
	TypeID        int32 `yaml:"typeId,omitempty" json:"typeId,omitempty"`
	InverseTypeID int32 `yaml:"inverseTypeId,omitempty" json:"inverseTypeId,omitempty"`
	// Limit is the most records of To per record of From with this label;
	// InverseLimit the same for the inverse label.
	Limit        *int32 `yaml:"limit,omitempty" json:"limit,omitempty"`
	InverseLimit *int32 `yaml:"inverseLimit,omitempty" json:"inverseLimit,omitempty"`

	line, limitLine, inverseLimitLine, labelLine int
}

// Category values (associations.AssociationCategory's).
const (
	CategoryHubSpotDefined    = "HUBSPOT_DEFINED"
	CategoryUserDefined       = "USER_DEFINED"
	CategoryIntegratorDefined = "INTEGRATOR_DEFINED"
	CategoryWork              = "WORK"
)

// userDefined reports whether l is keyed by text (not by typeId).
func (l Label) userDefined() bool {
	return l.Category == "" || l.Category == CategoryUserDefined
}

// Name returns the file name given to Parse.
func (f *File) Name() string { return f.name }

// Parse reads a schema file, YAML or JSON (JSON is YAML), rejecting
// unknown fields, and keeps the line of every entry for problems.
func Parse(name string, data []byte) (*File, error) {
	if len(data) > MaxFileBytes {
		return nil, Problems{{File: name, Msg: fmt.Sprintf("file is %d bytes, more than the %d allowed", len(data), MaxFileBytes)}}
	}
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		// JSON: a raw tab can only be whitespace there (a string holds
		// \t), and YAML does not indent with tabs.
		data = bytes.ReplaceAll(data, []byte{'\t'}, []byte{' '})
	}
	f := &File{name: name}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Problems{{File: name, Msg: "file is empty"}}
		}
		return nil, yamlProblem(name, err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlProblem(name, err)
	}
	f.name = name
	f.setLines(&root)
	return f, nil
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?(?:unmarshal errors:\s*)?line (\d+): (.*)$`)

// yamlProblem turns a YAML error into problems with line numbers.
func yamlProblem(name string, err error) error {
	var ps Problems
	for _, l := range strings.Split(err.Error(), "\n") {
		l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "yaml: unmarshal errors:"))
		if l == "" {
			continue
		}
		if m := yamlLine.FindStringSubmatch(l); m != nil {
			var line int
			fmt.Sscan(m[1], &line)
			ps = append(ps, Problem{File: name, Line: line, Msg: m[2]})
			continue
		}
		ps = append(ps, Problem{File: name, Msg: strings.TrimPrefix(l, "yaml: ")})
	}
	return ps
}

// setLines records the lines of entries from the parsed node tree.
func (f *File) setLines(root *yaml.Node) {
	doc := root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		doc = doc.Content[0]
	}
	assoc := mapValue(doc, "associations")
	if assoc == nil || assoc.Kind != yaml.SequenceNode {
		return
	}
	for i := range f.Associations {
		if i >= len(assoc.Content) {
			break
		}
		pn := assoc.Content[i]
		p := &f.Associations[i]
		p.line = pn.Line
		p.limitLine = lineOf(mapValue(pn, "limit"), pn.Line)
		ln := mapValue(pn, "labels")
		if ln == nil || ln.Kind != yaml.SequenceNode {
			continue
		}
		for j := range p.Labels {
			if j >= len(ln.Content) {
				break
			}
			n := ln.Content[j]
			l := &p.Labels[j]
			l.line = n.Line
			l.labelLine = lineOf(mapValue(n, "label"), n.Line)
			l.limitLine = lineOf(mapValue(n, "limit"), n.Line)
			l.inverseLimitLine = lineOf(mapValue(n, "inverseLimit"), n.Line)
		}
	}
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func lineOf(n *yaml.Node, def int) int {
	if n == nil {
		return def
	}
	return n.Line
}

// Format is a file encoding.
type Format int

// Formats Encode writes.
const (
	YAML Format = iota
	JSON
)

// header opens every exported YAML file.
const header = `# Association schema of a HubSpot portal (hubspot-assoc export).
# User-defined labels are matched by text and direction; other types by typeId.
# A user-defined label's typeId is this portal's, for reference: plan ignores it.
`

// Encode writes f. The output depends only on f's content: maps are
// sorted and entries keep their order (Export sorts them), so two exports
// of the same portal are byte-identical.
func (f *File) Encode(w io.Writer, format Format) error {
	if format == JSON {
		b, err := json.MarshalIndent(f, "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	}
	var buf bytes.Buffer
	buf.WriteString(header)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// Problem is one thing in a file that HubSpot would refuse (or that the
// file cannot mean), with where it is.
type Problem struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Msg  string `json:"message"`
}

func (p Problem) String() string {
	switch {
	case p.File != "" && p.Line > 0:
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	case p.File != "":
		return p.File + ": " + p.Msg
	}
	return p.Msg
}

// Problems is the error of a file that cannot be planned: one line each.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}
