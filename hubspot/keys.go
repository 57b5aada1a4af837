package hubspot

// KeyString returns the string form of appendKey, for BatchSpec.InputKey and
// ResultKey from AppendInputKey and AppendResultKey, so the two forms of a
// key cannot disagree.
func KeyString[T any](appendKey func(dst []byte, v T) []byte) func(v T) string {
	return func(v T) string {
		var buf [64]byte
		return string(appendKey(buf[:0], v))
	}
}
