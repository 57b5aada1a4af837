package schemaconf

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Describe is a change as one line of a plan: "+ label ...", "~ limit
// ...", "- label ...".
func (c Change) Describe() string {
	sign := map[Action]string{Create: "+", Update: "~", Delete: "-"}[c.Action]
	id := ""
	if c.TypeID > 0 {
		id = fmt.Sprintf(" (typeId %d)", c.TypeID)
	}
	if c.Kind == KindLabel {
		switch c.Action {
		case Create:
			s := fmt.Sprintf("%s label %q", sign, c.Label)
			if c.Inverse != "" {
				s += fmt.Sprintf(" / inverse %q", c.Inverse)
			}
			return s + fmt.Sprintf(" (name %s)", c.Name)
		case Update:
			if c.Category != CategoryUserDefined {
				return fmt.Sprintf("%s label%s: %q -> %q", sign, id, c.OldInverse, c.Label)
			}
			return fmt.Sprintf("%s label %q%s: inverse %q -> %q", sign, c.Label, id, c.OldInverse, c.Inverse)
		default:
			s := fmt.Sprintf("%s label %q", sign, c.Label)
			if c.Inverse != "" {
				s += fmt.Sprintf(" / inverse %q", c.Inverse)
			}
			s += id
			switch c.References {
			case 0:
			case 1:
				s += ", and the 1 limit on it"
			default:
				s += fmt.Sprintf(", and the %d limits on it", c.References)
			}
			return s
		}
	}
	what := "object limit"
	if c.Label != "" {
		what = fmt.Sprintf("limit on %q", c.Label)
	}
	switch c.Action {
	case Create:
		return fmt.Sprintf("%s %s%s: %d", sign, what, id, c.New)
	case Update:
		return fmt.Sprintf("%s %s%s: %d -> %d", sign, what, id, c.Old, c.New)
	}
	return fmt.Sprintf("%s %s%s: %d", sign, what, id, c.Old)
}

// Summary is the plan's last line.
func (p *Plan) Summary() string {
	if p.Empty() {
		return "No changes."
	}
	return fmt.Sprintf("Plan: %d to create, %d to change, %d to delete.", p.Create, p.Update, p.Delete)
}

// WriteText writes the plan as a readable diff: the changes grouped by
// direction, then the summary line.
func (p *Plan) WriteText(w io.Writer) error {
	var b strings.Builder
	var last PairKey
	for i, c := range p.Changes {
		if i == 0 || c.Pair() != last {
			if i > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(c.Pair().String() + "\n")
			last = c.Pair()
		}
		b.WriteString("  " + c.Describe() + "\n")
	}
	if len(p.Changes) > 0 {
		b.WriteByte('\n')
	}
	b.WriteString(p.Summary() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the plan as one JSON document.
func (p *Plan) WriteJSON(w io.Writer) error {
	if p.Changes == nil {
		p.Changes = []Change{}
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteText writes one line per change with its outcome, grouped by
// direction, then the summary line.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	var last PairKey
	for i, x := range r.Results {
		c := x.Change
		if i == 0 || c.Pair() != last {
			if i > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(c.Pair().String() + "\n")
			last = c.Pair()
		}
		line := "  " + c.Describe() + ": " + string(x.Outcome)
		if x.Message != "" {
			line += " (" + x.Message + ")"
		}
		b.WriteString(line + "\n")
	}
	if len(r.Results) > 0 {
		b.WriteByte('\n')
	}
	b.WriteString(r.Summary() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	if r.Results == nil {
		r.Results = []Result{}
	}
	b, err := json.MarshalIndent(struct {
		*Report
		Summary string `json:"summary"`
	}{r, r.Summary()}, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
