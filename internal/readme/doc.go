// Package readme holds the test that type-checks the Go snippets of the
// repository's README.md against the packages they use, so that the
// README cannot drift from the code. It has no code of its own.
package readme
