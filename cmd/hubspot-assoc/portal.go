package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/crmkit/hubspot-associations/generated/associations"
	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/hubspot/redislimit"
	"github.com/crmkit/hubspot-associations/schemaconf"
)

// portalFlags are the flags that say how to reach portals.
type portalFlags struct {
	servers    []string // [NAME=]URL
	tokenEnvs  []string // NAME=VAR
	objects    []string // [PORTAL:]NAME=ID
	redis      string
	apiVersion string
}

// tokenVar is the environment variable holding a portal's token.
func (a *app) tokenVar(portal string) (string, error) {
	for _, te := range a.pf.tokenEnvs {
		name, v, ok := strings.Cut(te, "=")
		if !ok || name == "" || v == "" || strings.ContainsAny(v, "= \t\n") {
			return "", fmt.Errorf("--token-env wants PORTAL=VARIABLE, got %q", clip(te))
		}
		if name == portal {
			return v, nil
		}
	}
	if portal == "default" {
		return "HUBSPOT_TOKEN", nil
	}
	return "HUBSPOT_TOKEN_" + strings.ToUpper(strings.ReplaceAll(portal, "-", "_")), nil
}

// server is a portal's API base URL.
func (a *app) server(portal string) (string, error) {
	out := hubspot.DefaultBaseURL
	for _, s := range a.pf.servers {
		name, u, ok := strings.Cut(s, "=")
		if !ok || strings.ContainsAny(name, ":/") {
			name, u = "", s
		}
		if name != "" && name != portal {
			continue
		}
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || len(u) > 2048 {
			return "", fmt.Errorf("--server wants [PORTAL=]http(s)://host[/path], got %q", clip(s))
		}
		out = u
	}
	return out, nil
}

// objectFlags returns the --object mappings for a portal.
func (a *app) objectFlags(portal string) (map[string]string, error) {
	out := map[string]string{}
	for _, s := range a.pf.objects {
		spec := s
		if p, rest, ok := strings.Cut(s, ":"); ok && !strings.Contains(p, "=") {
			if p != portal {
				continue
			}
			spec = rest
		}
		name, id, ok := strings.Cut(spec, "=")
		if !ok {
			return nil, fmt.Errorf("--object wants [PORTAL:]NAME=ID like project=2-12345, got %q", clip(s))
		}
		out[name] = id
	}
	return out, nil
}

// objects maps object names for a portal from a file (may be nil) and
// the --object flags.
func (a *app) objectsFor(f *schemaconf.File, portal string) (*schemaconf.Objects, error) {
	extra, err := a.objectFlags(portal)
	if err != nil {
		return nil, err
	}
	return schemaconf.NewObjects(f, portal, extra)
}

// newSchema builds the one associations.Schema a command uses for a
// portal: token from the environment, rate limit shared through Redis with
// --redis, resends of unknown outcomes. It is the only place the client is
// constructed.
func (a *app) newSchema(portal string) (*associations.Schema, func(), error) {
	if err := a.checkAPIVersion(); err != nil {
		return nil, nil, err
	}
	v, err := a.tokenVar(portal)
	if err != nil {
		return nil, nil, err
	}
	token := strings.TrimSpace(a.getenv(v))
	if token == "" {
		return nil, nil, fmt.Errorf("portal %s: set its private app token in $%s (tokens are read from the environment only)", portal, v)
	}
	server, err := a.server(portal)
	if err != nil {
		return nil, nil, err
	}
	opts := []hubspot.Option{hubspot.WithBaseURL(server), hubspot.WithResendUnknown()}
	closeRedis := func() {}
	if a.pf.redis != "" {
		if !validHostPort(a.pf.redis) {
			return nil, nil, fmt.Errorf("--redis wants host:port, got %q", clip(a.pf.redis))
		}
		rdb := redis.NewClient(redislimit.ClientOptions(a.pf.redis))
		logger := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		opts = append(opts, hubspot.WithLimiter(redislimit.NewLimiter(rdb, token, redislimit.WithLogger(logger))))
		closeRedis = func() { _ = rdb.Close() }
	}
	s, err := associations.New(token, opts...)
	if err != nil {
		closeRedis()
		return nil, nil, fmt.Errorf("portal %s: %w", portal, err)
	}
	return s, closeRedis, nil
}

// checkAPIVersion refuses an --api-version this build does not speak.
func (a *app) checkAPIVersion() error {
	if a.pf.apiVersion != associations.APIVersion {
		return fmt.Errorf("--api-version %q: this hubspot-assoc is built on the generated client for %s; install the release for that version", clip(a.pf.apiVersion), associations.APIVersion)
	}
	return nil
}

// readPortal reads a portal's state for the objects.
func (a *app) readPortal(ctx context.Context, portal string, o *schemaconf.Objects, desired *schemaconf.State, extra []string) (*schemaconf.State, error) {
	s, done, err := a.newSchema(portal)
	if err != nil {
		return nil, err
	}
	defer done()
	objs, err := schemaconf.ReadObjects(desired, o, extra)
	if err != nil {
		return nil, err
	}
	pr := newProgress(a.stderr)
	st, err := schemaconf.Read(ctx, s, o, objs, func(done, total int) {
		pr.show(done, total, fmt.Sprintf("reading portal %s", portal))
	})
	pr.end()
	if err != nil {
		var ae *hubspot.APIError
		if errors.As(err, &ae) && (ae.StatusCode == 401 || ae.StatusCode == 403) {
			v, _ := a.tokenVar(portal)
			return nil, fmt.Errorf("portal %s: %w (check the private app token in $%s and its scopes)", portal, err, v)
		}
		return nil, fmt.Errorf("portal %s: %w", portal, err)
	}
	return st, nil
}

// validHostPort reports whether s is host:port with a port in 1..65535.
func validHostPort(s string) bool {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" || len(host) > 253 || strings.ContainsAny(host, " \t\r\n/") {
		return false
	}
	p, err := strconv.Atoi(port)
	return err == nil && p >= 1 && p <= 65535
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
