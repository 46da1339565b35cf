package main

// The diff and the writes of go-database-reconciler (pkg/diff, pkg/types), replayed with go-kong:
// every target entity is compared with the current one of the same id the way gdr's EqualWithOpts
// compares them (timestamps and reference names ignored, tags sorted and empty = none; a plugin's
// config filled with every default from its schema before it is compared), then created or updated
// with a full-body PUT /{entities}/{id} (go-kong's Create with the id set), in gdr's dependency order;
// targets are created with POST /upstreams/{id}/targets (the id in the body) and updated with PATCH
// /upstreams/{id}/targets/{id} (gdr's targetCRUD); sync then deletes what the target lacks, in
// reverse order. decK fetches a plugin's schema for every
// plugin event, deletes included; so does this.

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"

	"github.com/kong/go-kong/kong"
)

// Change is one event of the diff.
type Change struct {
	Op   string `json:"op"` // create, update, delete
	Kind string `json:"kind"`
	Name string `json:"name"`
	ID   string `json:"id"`
}

// Syncer plays the events; dryRun computes them without writing.
type Syncer struct {
	s       *Session
	schemas *Schemas
	dryRun  bool
	Changes []Change
}

func label(name *string, id *string) string {
	if name != nil && *name != "" {
		return *name
	}
	if id != nil {
		return *id
	}
	return ""
}

func (y *Syncer) record(op, kind string, name, id *string) {
	y.Changes = append(y.Changes, Change{Op: op, Kind: kind, Name: label(name, id), ID: label(nil, id)})
}

// normTags is gdr's tag rule: none and empty are the same, order does not matter.
func normTags(tags []*string) []*string {
	if len(tags) == 0 {
		return nil
	}
	out := append([]*string(nil), tags...)
	sort.Slice(out, func(i, j int) bool { return *out[i] < *out[j] })
	return out
}

// sameJSON compares two values through JSON, so pointer identity and number types do not matter.
func sameJSON(a, b interface{}) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	var va, vb interface{}
	_ = json.Unmarshal(ja, &va)
	_ = json.Unmarshal(jb, &vb)
	return reflect.DeepEqual(va, vb)
}

func idOnlyService(s *kong.Service) *kong.Service {
	if s == nil || s.ID == nil {
		return s
	}
	return &kong.Service{ID: kong.String(strings.ToLower(*s.ID))}
}

func normService(s kong.Service) kong.Service {
	s.CreatedAt, s.UpdatedAt = nil, nil
	s.Tags = normTags(s.Tags)
	if s.ClientCertificate != nil {
		s.ClientCertificate = &kong.Certificate{ID: s.ClientCertificate.ID}
	}
	if len(s.CACertificates) == 0 {
		s.CACertificates = nil
	}
	return s
}

func normRoute(r kong.Route) kong.Route {
	r.CreatedAt, r.UpdatedAt = nil, nil
	r.Tags = normTags(r.Tags)
	r.Service = idOnlyService(r.Service)
	if len(r.Headers) == 0 {
		r.Headers = nil
	}
	return r
}

func normConsumer(c kong.Consumer) kong.Consumer {
	c.CreatedAt = nil
	c.Tags = normTags(c.Tags)
	return c
}

func normCertificate(c kong.Certificate) kong.Certificate {
	c.CreatedAt = nil
	c.SNIs = nil
	c.Tags = normTags(c.Tags)
	return c
}

func normCA(c kong.CACertificate) kong.CACertificate {
	c.CreatedAt = nil
	c.Tags = normTags(c.Tags)
	return c
}

func normUpstream(u kong.Upstream) kong.Upstream {
	u.CreatedAt = nil
	u.Tags = normTags(u.Tags)
	if u.ClientCertificate != nil {
		u.ClientCertificate = &kong.Certificate{ID: u.ClientCertificate.ID}
	}
	return u
}

func normTarget(t kong.Target) kong.Target {
	t.CreatedAt = nil
	t.Tags = normTags(t.Tags)
	if t.Upstream != nil {
		t.Upstream = &kong.Upstream{ID: t.Upstream.ID}
	}
	return t
}

func normSNI(s kong.SNI) kong.SNI {
	s.CreatedAt = nil
	s.Tags = normTags(s.Tags)
	if s.Certificate != nil {
		s.Certificate = &kong.Certificate{ID: s.Certificate.ID}
	}
	return s
}

// normPlugin is Plugin.EqualWithOpts: references by id only, tags and protocols sorted, the config's
// unordered arrays sorted as the schema says.
func normPlugin(p kong.Plugin, schema map[string]interface{}) kong.Plugin {
	p.CreatedAt = nil
	p.Tags = normTags(p.Tags)
	protocols := append([]*string(nil), p.Protocols...)
	sort.Slice(protocols, func(i, j int) bool { return *protocols[i] < *protocols[j] })
	p.Protocols = protocols
	p.Service = idOnlyService(p.Service)
	if p.Route != nil {
		p.Route = &kong.Route{ID: p.Route.ID}
	}
	if p.Consumer != nil {
		p.Consumer = &kong.Consumer{ID: p.Consumer.ID}
	}
	cfg, _ := configSchema(schema)
	p.Config = sortConfigArrays(deepCopyMap(p.Config), cfg)
	return p
}

func findByID(id *string, ids []*string) int {
	for i, other := range ids {
		if other != nil && id != nil && strings.EqualFold(*other, *id) {
			return i
		}
	}
	return -1
}

// Plan computes and (unless dry-run) performs the events; deletes only when withDeletes (sync).
func (y *Syncer) Plan(current *State, target *Target, withDeletes bool) error {
	// Level 1: certificates, CA certificates, consumers.
	for _, t := range target.Certificates {
		cur := currentByID(current.Certificates, t.ID, func(e *kong.Certificate) *string { return e.ID })
		if cur != nil && sameJSON(normCertificate(*cur), normCertificate(*t)) {
			continue
		}
		if cur == nil {
			// gdr checks that a certificate it is about to create is not there yet (404 expected).
			if _, err := y.s.Client.Certificates.Get(y.s.Ctx, t.ID); err == nil || statusOf(err) != 404 {
				return fatalf("certificate %s: expected 404 before creating it, got %v", *t.ID, err)
			}
		}
		body := *t
		// An update resends the certificate's current SNI names, so Kong's PUT keeps them.
		for _, sni := range current.SNIs {
			if sni.Certificate != nil && sni.Certificate.ID != nil && strings.EqualFold(*sni.Certificate.ID, *t.ID) {
				body.SNIs = append(body.SNIs, sni.Name)
			}
		}
		if err := y.write("certificate", cur == nil, t.ID, t.ID, func() error { _, err := y.s.Client.Certificates.Create(y.s.Ctx, &body); return err }); err != nil {
			return err
		}
	}
	for _, t := range target.CACertificates {
		cur := currentByID(current.CACertificates, t.ID, func(e *kong.CACertificate) *string { return e.ID })
		if cur != nil && sameJSON(normCA(*cur), normCA(*t)) {
			continue
		}
		if err := y.write("ca_certificate", cur == nil, t.ID, t.ID, func() error { _, err := y.s.Client.CACertificates.Create(y.s.Ctx, t); return err }); err != nil {
			return err
		}
	}
	for _, t := range target.Consumers {
		cur := currentByID(current.Consumers, t.ID, func(e *kong.Consumer) *string { return e.ID })
		if cur != nil && sameJSON(normConsumer(*cur), normConsumer(*t)) {
			continue
		}
		if err := y.write("consumer", cur == nil, t.Username, t.ID, func() error { _, err := y.s.Client.Consumers.Create(y.s.Ctx, t); return err }); err != nil {
			return err
		}
	}
	for _, t := range target.Upstreams {
		cur := currentByID(current.Upstreams, t.ID, func(e *kong.Upstream) *string { return e.ID })
		if cur != nil && sameJSON(normUpstream(*cur), normUpstream(*t)) {
			continue
		}
		if err := y.write("upstream", cur == nil, t.Name, t.ID, func() error { _, err := y.s.Client.Upstreams.Create(y.s.Ctx, t); return err }); err != nil {
			return err
		}
	}
	// Level 2: services, SNIs, targets.
	for _, t := range target.Services {
		cur := currentByID(current.Services, t.ID, func(e *kong.Service) *string { return e.ID })
		if cur != nil && sameJSON(normService(*cur), normService(*t)) {
			continue
		}
		if err := y.write("service", cur == nil, t.Name, t.ID, func() error { _, err := y.s.Client.Services.Create(y.s.Ctx, t); return err }); err != nil {
			return err
		}
	}
	for _, t := range target.SNIs {
		cur := currentByID(current.SNIs, t.ID, func(e *kong.SNI) *string { return e.ID })
		if cur != nil && sameJSON(normSNI(*cur), normSNI(*t)) {
			continue
		}
		if err := y.write("sni", cur == nil, t.Name, t.ID, func() error { _, err := y.s.Client.SNIs.Create(y.s.Ctx, t); return err }); err != nil {
			return err
		}
	}
	for _, t := range target.Targets {
		cur := currentByID(current.Targets, t.ID, func(e *kong.Target) *string { return e.ID })
		if cur != nil && sameJSON(normTarget(*cur), normTarget(*t)) {
			continue
		}
		body := *t
		body.Upstream = &kong.Upstream{ID: t.Upstream.ID}
		if err := y.write("target", cur == nil, t.Target, t.ID, func() error {
			if cur == nil {
				_, err := y.s.Client.Targets.Create(y.s.Ctx, t.Upstream.ID, &body)
				return err
			}
			// go-kong 0.15 has no Targets.Update; gdr's (newer go-kong) is this PATCH.
			var out map[string]interface{}
			_, err := y.s.Raw("PATCH", "/upstreams/"+escapePath(*t.Upstream.ID)+"/targets/"+escapePath(*t.ID), nil, &body, &out)
			return err
		}); err != nil {
			return err
		}
	}
	// Level 3: routes.
	for _, t := range target.Routes {
		cur := currentByID(current.Routes, t.ID, func(e *kong.Route) *string { return e.ID })
		body := *t
		body.Service = idOnlyService(t.Service) // gdr strips reference names before it writes
		if cur != nil && sameJSON(normRoute(*cur), normRoute(*t)) {
			continue
		}
		if err := y.write("route", cur == nil, t.Name, t.ID, func() error { _, err := y.s.Client.Routes.Create(y.s.Ctx, &body); return err }); err != nil {
			return err
		}
	}
	// Level 4: plugins.
	for _, t := range target.Plugins {
		schema, err := y.schemas.Plugin(*t.Name)
		if err != nil {
			return err
		}
		cur := currentByID(current.Plugins, t.ID, func(e *kong.Plugin) *string { return e.ID })
		if cur != nil {
			// Compared: the target filled with every default; the current as the gateway shows it.
			filled := t.Plugin
			filled.Config = deepCopyMap(t.Config)
			if err := FillPlugin(&filled, schema, fillOpts{defaults: true, auto: true}); err != nil {
				return err
			}
			if sameJSON(normPlugin(*cur, schema), normPlugin(filled, schema)) {
				continue
			}
		}
		// Sent: the file's config with the auto fields, protocols and enabled (FillDefaults false).
		body := *t
		body.Config = deepCopyMap(t.Config)
		if err := FillPlugin(&body.Plugin, schema, fillOpts{defaults: false, auto: true}); err != nil {
			return err
		}
		body.Service = idOnlyService(t.Service)
		if t.Route != nil {
			body.Route = &kong.Route{ID: t.Route.ID}
		}
		if t.Consumer != nil {
			body.Consumer = &kong.Consumer{ID: t.Consumer.ID}
		}
		if err := y.write("plugin", cur == nil, t.Name, t.ID, func() error {
			var out map[string]interface{}
			_, err := y.s.Raw("PUT", "/plugins/"+escapePath(*t.ID), nil, &body, &out)
			if err == nil && (out["id"] == nil || out["name"] == nil) {
				return fatalf("while post processing event: plugin answer without id or name")
			}
			return err
		}); err != nil {
			return err
		}
	}
	if withDeletes {
		return y.deletes(current, target)
	}
	return nil
}

// write records the event and performs it unless dry-run.
func (y *Syncer) write(kind string, create bool, name, id *string, do func() error) error {
	op := "update"
	if create {
		op = "create"
	}
	y.record(op, kind, name, id)
	if y.dryRun {
		return nil
	}
	if err := do(); err != nil {
		msg, _ := y.s.errorMessage("PUT /")
		return fatalf("%s %s %s: %v (message: %q)", op, kind, label(name, id), err, msg)
	}
	return nil
}

// deletes removes what the target lacks: plugins, routes, SNIs, targets and services, consumers,
// upstreams, CA certificates and certificates (gdr's reverse order). Each plugin's schema is fetched first, as decK
// fetches it for every plugin event.
func (y *Syncer) deletes(current *State, target *Target) error {
	c, ctx := y.s.Client, y.s.Ctx
	for _, p := range current.Plugins {
		if currentByID(target.Plugins, p.ID, func(t *TPlugin) *string { return t.ID }) != nil {
			continue
		}
		if _, err := y.schemas.Plugin(*p.Name); err != nil {
			return err
		}
		if err := y.remove("plugin", p.Name, p.ID, func() error { return c.Plugins.Delete(ctx, p.ID) }); err != nil {
			return err
		}
	}
	steps := []struct {
		kind    string
		missing []entityKey
		del     func(id *string) error
	}{
		{"route", missingRoutes(current, target), func(id *string) error { return c.Routes.Delete(ctx, id) }},
		{"sni", missingSNIs(current, target), func(id *string) error { return c.SNIs.Delete(ctx, id) }},
		{"target", missingTargets(current, target), func(id *string) error { return c.Targets.Delete(ctx, upstreamOfTarget(current, id), id) }},
		{"service", missingServices(current, target), func(id *string) error { return c.Services.Delete(ctx, id) }},
		{"consumer", missingConsumers(current, target), func(id *string) error { return c.Consumers.Delete(ctx, id) }},
		{"upstream", missingUpstreams(current, target), func(id *string) error { return c.Upstreams.Delete(ctx, id) }},
		{"ca_certificate", missingCAs(current, target), func(id *string) error { return c.CACertificates.Delete(ctx, id) }},
		{"certificate", missingCertificates(current, target), func(id *string) error { return c.Certificates.Delete(ctx, id) }},
	}
	for _, step := range steps {
		for _, e := range step.missing {
			id := e.id
			if err := y.remove(step.kind, e.name, id, func() error { return step.del(id) }); err != nil {
				return err
			}
		}
	}
	return nil
}

// entityKey names an entity to delete.
type entityKey struct{ name, id *string }

// missing lists the current entities whose id the target does not have.
func missing[C, T any](current []*C, target []*T, keyOf func(*C) entityKey, idOf func(*T) *string) []entityKey {
	out := []entityKey{}
	for _, e := range current {
		key := keyOf(e)
		if currentByID(target, key.id, idOf) == nil {
			out = append(out, key)
		}
	}
	return out
}

func missingRoutes(c *State, t *Target) []entityKey {
	return missing(c.Routes, t.Routes, func(e *kong.Route) entityKey { return entityKey{e.Name, e.ID} }, func(e *kong.Route) *string { return e.ID })
}

func missingSNIs(c *State, t *Target) []entityKey {
	return missing(c.SNIs, t.SNIs, func(e *kong.SNI) entityKey { return entityKey{e.Name, e.ID} }, func(e *kong.SNI) *string { return e.ID })
}

func missingTargets(c *State, t *Target) []entityKey {
	return missing(c.Targets, t.Targets, func(e *kong.Target) entityKey { return entityKey{e.Target, e.ID} }, func(e *kong.Target) *string { return e.ID })
}

// upstreamOfTarget is the id of the upstream of the current target with id.
func upstreamOfTarget(c *State, id *string) *string {
	if t := currentByID(c.Targets, id, func(e *kong.Target) *string { return e.ID }); t != nil && t.Upstream != nil {
		return t.Upstream.ID
	}
	return nil
}

func missingUpstreams(c *State, t *Target) []entityKey {
	return missing(c.Upstreams, t.Upstreams, func(e *kong.Upstream) entityKey { return entityKey{e.Name, e.ID} }, func(e *kong.Upstream) *string { return e.ID })
}

func missingServices(c *State, t *Target) []entityKey {
	return missing(c.Services, t.Services, func(e *kong.Service) entityKey { return entityKey{e.Name, e.ID} }, func(e *kong.Service) *string { return e.ID })
}

func missingConsumers(c *State, t *Target) []entityKey {
	return missing(c.Consumers, t.Consumers, func(e *kong.Consumer) entityKey { return entityKey{e.Username, e.ID} }, func(e *kong.Consumer) *string { return e.ID })
}

func missingCAs(c *State, t *Target) []entityKey {
	return missing(c.CACertificates, t.CACertificates, func(e *kong.CACertificate) entityKey { return entityKey{e.ID, e.ID} }, func(e *kong.CACertificate) *string { return e.ID })
}

func missingCertificates(c *State, t *Target) []entityKey {
	return missing(c.Certificates, t.Certificates, func(e *kong.Certificate) entityKey { return entityKey{e.ID, e.ID} }, func(e *kong.Certificate) *string { return e.ID })
}

func (y *Syncer) remove(kind string, name, id *string, do func() error) error {
	y.record("delete", kind, name, id)
	if y.dryRun {
		return nil
	}
	if err := do(); err != nil {
		return fatalf("delete %s %s: %v", kind, label(name, id), err)
	}
	return nil
}

// currentByID is the entity of list with id (ids compare case-insensitively), or nil.
func currentByID[T any](list []*T, id *string, idOf func(*T) *string) *T {
	for _, e := range list {
		if findByID(id, []*string{idOf(e)}) == 0 {
			return e
		}
	}
	return nil
}
