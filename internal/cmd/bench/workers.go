package main

import (
	"context"
	"errors"
	"io"
)

func workersSection(ctx context.Context, w io.Writer, progress func(string, ...any)) error {
	return nil
}

func runWorker(args []string) error { return errors.New("-worker: not implemented") }
