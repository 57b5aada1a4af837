package hubspot

// inputKeys renders every input's key; with AppendInputKey they share one
// string (one allocation, not one per input).
func (e *engine[In, Out]) inputKeys() []string {
	keys := make([]string, len(e.inputs))
	if e.spec.AppendInputKey == nil {
		for i, in := range e.inputs {
			keys[i] = e.spec.InputKey(in)
		}
		return keys
	}
	ends := make([]int, len(e.inputs))
	// Size the buffer from the first key (keys of one operation are about
	// the same length).
	first := e.spec.AppendInputKey(nil, e.inputs[0])
	buf := make([]byte, 0, (len(first)+4)*len(e.inputs))
	for i, in := range e.inputs {
		buf = e.spec.AppendInputKey(buf, in)
		ends[i] = len(buf)
	}
	all := string(buf)
	start := 0
	for i, end := range ends {
		keys[i] = all[start:end]
		start = end
	}
	return keys
}
