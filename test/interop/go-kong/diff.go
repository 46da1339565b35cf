package main

// The diff and the writes of go-database-reconciler (pkg/diff, pkg/types), replayed with go-kong:
// every target entity is compared with the current one of the same id the way gdr's EqualWithOpts
// compares them (timestamps and reference names ignored, tags sorted and empty = none; a plugin's
// config filled with every default from its schema before it is compared), then created or updated
// with a full-body PUT /{entities}/{id} (go-kong's Create with the id set), in gdr's dependency order;
// sync then deletes what the target lacks, in reverse order. decK fetches a plugin's schema for every
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
		cur := currentCertificate(current, t.ID)
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
		cur := currentCA(current, t.ID)
		if cur != nil && sameJSON(normCA(*cur), normCA(*t)) {
			continue
		}
		if err := y.write("ca_certificate", cur == nil, t.ID, t.ID, func() error { _, err := y.s.Client.CACertificates.Create(y.s.Ctx, t); return err }); err != nil {
			return err
		}
	}
	for _, t := range target.Consumers {
		cur := currentConsumerByID(current, t.ID)
		if cur != nil && sameJSON(normConsumer(*cur), normConsumer(*t)) {
			continue
		}
		if err := y.write("consumer", cur == nil, t.Username, t.ID, func() error { _, err := y.s.Client.Consumers.Create(y.s.Ctx, t); return err }); err != nil {
			return err
		}
	}
	// Level 2: services, SNIs.
	for _, t := range target.Services {
		cur := currentServiceByID(current, t.ID)
		if cur != nil && sameJSON(normService(*cur), normService(*t)) {
			continue
		}
		if err := y.write("service", cur == nil, t.Name, t.ID, func() error { _, err := y.s.Client.Services.Create(y.s.Ctx, t); return err }); err != nil {
			return err
		}
	}
	for _, t := range target.SNIs {
		cur := currentSNI(current, t.ID)
		if cur != nil && sameJSON(normSNI(*cur), normSNI(*t)) {
			continue
		}
		if err := y.write("sni", cur == nil, t.Name, t.ID, func() error { _, err := y.s.Client.SNIs.Create(y.s.Ctx, t); return err }); err != nil {
			return err
		}
	}
	// Level 3: routes.
	for _, t := range target.Routes {
		cur := currentRouteByID(current, t.ID)
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
		cur := currentPluginByID(current, t.ID)
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

// deletes removes what the target lacks: plugins, routes, SNIs and services, consumers, CA
// certificates and certificates (gdr's reverse order).
func (y *Syncer) deletes(current *State, target *Target) error {
	var ids []*string
	for _, t := range target.Plugins {
		ids = append(ids, t.ID)
	}
	for _, p := range current.Plugins {
		if findByID(p.ID, ids) >= 0 {
			continue
		}
		if _, err := y.schemas.Plugin(*p.Name); err != nil {
			return err
		}
		if err := y.remove("plugin", p.Name, p.ID, func() error { return y.s.Client.Plugins.Delete(y.s.Ctx, p.ID) }); err != nil {
			return err
		}
	}
	ids = nil
	for _, t := range target.Routes {
		ids = append(ids, t.ID)
	}
	for _, r := range current.Routes {
		if findByID(r.ID, ids) < 0 {
			if err := y.remove("route", r.Name, r.ID, func() error { return y.s.Client.Routes.Delete(y.s.Ctx, r.ID) }); err != nil {
				return err
			}
		}
	}
	ids = nil
	for _, t := range target.SNIs {
		ids = append(ids, t.ID)
	}
	for _, s := range current.SNIs {
		if findByID(s.ID, ids) < 0 {
			if err := y.remove("sni", s.Name, s.ID, func() error { return y.s.Client.SNIs.Delete(y.s.Ctx, s.ID) }); err != nil {
				return err
			}
		}
	}
	ids = nil
	for _, t := range target.Services {
		ids = append(ids, t.ID)
	}
	for _, s := range current.Services {
		if findByID(s.ID, ids) < 0 {
			if err := y.remove("service", s.Name, s.ID, func() error { return y.s.Client.Services.Delete(y.s.Ctx, s.ID) }); err != nil {
				return err
			}
		}
	}
	ids = nil
	for _, t := range target.Consumers {
		ids = append(ids, t.ID)
	}
	for _, c := range current.Consumers {
		if findByID(c.ID, ids) < 0 {
			if err := y.remove("consumer", c.Username, c.ID, func() error { return y.s.Client.Consumers.Delete(y.s.Ctx, c.ID) }); err != nil {
				return err
			}
		}
	}
	ids = nil
	for _, t := range target.CACertificates {
		ids = append(ids, t.ID)
	}
	for _, c := range current.CACertificates {
		if findByID(c.ID, ids) < 0 {
			if err := y.remove("ca_certificate", c.ID, c.ID, func() error { return y.s.Client.CACertificates.Delete(y.s.Ctx, c.ID) }); err != nil {
				return err
			}
		}
	}
	ids = nil
	for _, t := range target.Certificates {
		ids = append(ids, t.ID)
	}
	for _, c := range current.Certificates {
		if findByID(c.ID, ids) < 0 {
			if err := y.remove("certificate", c.ID, c.ID, func() error { return y.s.Client.Certificates.Delete(y.s.Ctx, c.ID) }); err != nil {
				return err
			}
		}
	}
	return nil
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

// Lookups of the current entity with an id.

func currentCertificate(st *State, id *string) *kong.Certificate {
	for _, c := range st.Certificates {
		if findByID(id, []*string{c.ID}) == 0 {
			return c
		}
	}
	return nil
}

func currentCA(st *State, id *string) *kong.CACertificate {
	for _, c := range st.CACertificates {
		if findByID(id, []*string{c.ID}) == 0 {
			return c
		}
	}
	return nil
}

func currentConsumerByID(st *State, id *string) *kong.Consumer {
	for _, c := range st.Consumers {
		if findByID(id, []*string{c.ID}) == 0 {
			return c
		}
	}
	return nil
}

func currentServiceByID(st *State, id *string) *kong.Service {
	for _, s := range st.Services {
		if findByID(id, []*string{s.ID}) == 0 {
			return s
		}
	}
	return nil
}

func currentSNI(st *State, id *string) *kong.SNI {
	for _, s := range st.SNIs {
		if findByID(id, []*string{s.ID}) == 0 {
			return s
		}
	}
	return nil
}

func currentRouteByID(st *State, id *string) *kong.Route {
	for _, r := range st.Routes {
		if findByID(id, []*string{r.ID}) == 0 {
			return r
		}
	}
	return nil
}

func currentPluginByID(st *State, id *string) *kong.Plugin {
	for _, p := range st.Plugins {
		if findByID(id, []*string{p.ID}) == 0 {
			return p
		}
	}
	return nil
}
