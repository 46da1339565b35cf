package main

// Reading a decK file and building the target state from it the way go-database-reconciler's
// file.Get does (pkg/file/builder.go): every entity is matched against the current state by its
// natural key and keeps the existing id, or gets a new client-side UUIDv4; services, routes,
// upstreams and targets get the schema defaults; references given by name are resolved to ids.

import (
	"encoding/json"
	"fmt"
	"io/ioutil"
	"os"
	"strconv"
	"strings"

	"github.com/kong/go-kong/kong"
	uuid "github.com/satori/go.uuid"
	yaml "gopkg.in/yaml.v3"
)

// Content is the part of decK's file format this program understands.
type Content struct {
	FormatVersion  string                `json:"_format_version"`
	Services       []*FService           `json:"services"`
	Routes         []*FRoute             `json:"routes"`
	Plugins        []*FPlugin            `json:"plugins"`
	Consumers      []*FConsumer          `json:"consumers"`
	Certificates   []*FCertificate       `json:"certificates"`
	CACertificates []*kong.CACertificate `json:"ca_certificates"`
	Upstreams      []*FUpstream          `json:"upstreams"`
}

// FService is a service with its nested routes and plugins; `url` is decK's shorthand for
// protocol/host/port/path.
type FService struct {
	kong.Service
	URL     *string    `json:"url,omitempty"`
	Routes  []*FRoute  `json:"routes,omitempty"`
	Plugins []*FPlugin `json:"plugins,omitempty"`
}

// FRoute is a route; at top level `service` names its service (a name, an id or {id|name}). The
// field shadows the embedded kong.Route's, so a string is accepted.
type FRoute struct {
	kong.Route
	ServiceRef json.RawMessage `json:"service,omitempty"`
	Plugins    []*FPlugin      `json:"plugins,omitempty"`
}

// FPlugin is a plugin with its references as written (names or ids) and the fields go-kong 0.15's
// Plugin lacks.
type FPlugin struct {
	kong.Plugin
	ServiceRef   json.RawMessage `json:"service,omitempty"`
	RouteRef     json.RawMessage `json:"route,omitempty"`
	ConsumerRef  json.RawMessage `json:"consumer,omitempty"`
	InstanceName *string         `json:"instance_name,omitempty"`
}

type FConsumer struct {
	kong.Consumer
	Plugins []*FPlugin `json:"plugins,omitempty"`
}

// FCertificate carries its SNIs as names or {name} objects.
type FCertificate struct {
	kong.Certificate
	SNIs []json.RawMessage `json:"snis,omitempty"`
}

type FUpstream struct {
	kong.Upstream
	Targets []*kong.Target `json:"targets,omitempty"`
}

// ReadFile reads a decK YAML (or JSON) file ("-" is stdin). YAML goes through JSON, as gdr's reader
// does, so numbers are float64 like the server's answers.
func ReadFile(path string) (*Content, []byte, error) {
	var raw []byte
	var err error
	if path == "-" {
		raw, err = ioutil.ReadAll(os.Stdin)
	} else {
		raw, err = ioutil.ReadFile(path)
	}
	if err != nil {
		return nil, nil, err
	}
	jsonDoc, err := yamlToJSON(raw)
	if err != nil {
		return nil, nil, fatalf("reading file %s: %v", path, err)
	}
	var content Content
	if err := json.Unmarshal(jsonDoc, &content); err != nil {
		return nil, nil, fatalf("reading file %s: %v", path, err)
	}
	return &content, jsonDoc, nil
}

func yamlToJSON(raw []byte) ([]byte, error) {
	var doc interface{}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	converted, err := jsonable(doc)
	if err != nil {
		return nil, err
	}
	return json.Marshal(converted)
}

// jsonable turns YAML's maps with interface keys into string-keyed maps.
func jsonable(v interface{}) (interface{}, error) {
	switch x := v.(type) {
	case map[string]interface{}:
		out := map[string]interface{}{}
		for k, e := range x {
			c, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case map[interface{}]interface{}:
		out := map[string]interface{}{}
		for k, e := range x {
			c, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			out[fmt.Sprint(k)] = c
		}
		return out, nil
	case []interface{}:
		out := make([]interface{}, len(x))
		for i, e := range x {
			c, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	default:
		return v, nil
	}
}

// ref is a reference as a file writes it: a string (id or name) or an object with id and/or name
// (username for consumers).
type ref struct{ id, name string }

func parseRef(raw json.RawMessage) (*ref, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return &ref{id: s, name: s}, nil
	}
	var o struct {
		ID       *string `json:"id"`
		Name     *string `json:"name"`
		Username *string `json:"username"`
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, fmt.Errorf("a reference must be a name, an id or an object: %s", string(raw))
	}
	r := &ref{}
	if o.ID != nil {
		r.id = *o.ID
	}
	if o.Name != nil {
		r.name = *o.Name
	} else if o.Username != nil {
		r.name = *o.Username
	}
	if r.name == "" {
		r.name = r.id
	}
	if r.id == "" {
		r.id = r.name
	}
	return r, nil
}

// TPlugin is a plugin of the target state: go-kong's Plugin plus what 0.15 cannot carry.
type TPlugin struct {
	kong.Plugin
	InstanceName *string `json:"instance_name,omitempty"`
}

// Target is the state decK would make the gateway look like.
type Target struct {
	Services       []*kong.Service
	Routes         []*kong.Route
	Plugins        []*TPlugin
	Consumers      []*kong.Consumer
	Certificates   []*kong.Certificate
	SNIs           []*kong.SNI
	CACertificates []*kong.CACertificate
	Upstreams      []*kong.Upstream
	Targets        []*kong.Target
}

func newID() *string { return kong.String(uuid.NewV4().String()) }

func empty(s *string) bool { return s == nil || *s == "" }

// builder holds what file.Get looks entities up in: the current state (to reuse ids) and the
// intermediate state (what the file defines so far; for apply, also everything current).
type builder struct {
	current *State
	schemas *Schemas
	target  *Target
	partial bool
}

// BuildTarget is file.Get: content → target state, matched against current.
func BuildTarget(content *Content, current *State, schemas *Schemas, partial bool) (*Target, error) {
	b := &builder{current: current, schemas: schemas, target: &Target{}, partial: partial}
	// gdr's defaulter asks for these five schemas up front, whatever the file holds.
	for _, e := range []string{"services", "routes", "upstreams", "targets", "consumer_group_plugins"} {
		if _, err := schemas.Entity(e); err != nil {
			return nil, err
		}
	}
	// Same order as stateBuilder.build: certificates, CA certificates, consumers, services (with their
	// routes and plugins), top-level routes, upstreams, top-level plugins.
	for _, c := range content.Certificates {
		if err := b.certificate(c); err != nil {
			return nil, err
		}
	}
	for _, c := range content.CACertificates {
		b.caCertificate(c)
	}
	for _, c := range content.Consumers {
		if err := b.consumer(c); err != nil {
			return nil, err
		}
	}
	for _, s := range content.Services {
		if err := b.service(s); err != nil {
			return nil, err
		}
	}
	for _, r := range content.Routes {
		if err := b.route(r, nil); err != nil {
			return nil, err
		}
	}
	for _, u := range content.Upstreams {
		if err := b.upstream(u); err != nil {
			return nil, err
		}
	}
	for _, p := range content.Plugins {
		if err := b.plugin(p, nil, nil, nil); err != nil {
			return nil, err
		}
	}
	return b.target, nil
}

func (b *builder) certificate(c *FCertificate) error {
	cert := c.Certificate
	if cert.Cert == nil || cert.Key == nil {
		return fatalf("certificate: cert and key are required")
	}
	if empty(cert.ID) {
		cert.ID = newID()
		for _, cur := range b.current.Certificates {
			if cur.Cert != nil && cur.Key != nil && strings.TrimSpace(*cur.Cert) == strings.TrimSpace(*cert.Cert) && strings.TrimSpace(*cur.Key) == strings.TrimSpace(*cert.Key) {
				cert.ID = kong.String(*cur.ID)
			}
		}
	}
	cert.SNIs = nil // SNIs are entities of their own in the target
	b.target.Certificates = append(b.target.Certificates, &cert)
	for _, raw := range c.SNIs {
		var name string
		if err := json.Unmarshal(raw, &name); err != nil {
			var o kong.SNI
			if err := json.Unmarshal(raw, &o); err != nil || o.Name == nil {
				return fatalf("certificate %s: an SNI must be a name or {name}", *cert.ID)
			}
			name = *o.Name
		}
		sni := &kong.SNI{Name: kong.String(name), Certificate: &kong.Certificate{ID: kong.String(*cert.ID)}}
		sni.ID = newID()
		for _, cur := range b.current.SNIs {
			if cur.Name != nil && *cur.Name == name {
				sni.ID = kong.String(*cur.ID)
				sni.CreatedAt = cur.CreatedAt
			}
		}
		b.target.SNIs = append(b.target.SNIs, sni)
	}
	return nil
}

func (b *builder) caCertificate(c *kong.CACertificate) {
	ca := *c
	var match *kong.CACertificate
	for _, cur := range b.current.CACertificates {
		if cur.Cert != nil && ca.Cert != nil && strings.TrimSpace(*cur.Cert) == strings.TrimSpace(*ca.Cert) {
			match = cur
		}
	}
	if empty(ca.ID) {
		if match != nil {
			ca.ID = kong.String(*match.ID)
		} else {
			ca.ID = newID()
		}
	}
	if match != nil {
		ca.CreatedAt = match.CreatedAt
	}
	b.target.CACertificates = append(b.target.CACertificates, &ca)
}

func (b *builder) consumer(c *FConsumer) error {
	consumer := c.Consumer
	var match *kong.Consumer
	if consumer.Username != nil {
		match = b.currentConsumer(*consumer.Username)
	}
	if match == nil && consumer.CustomID != nil {
		for _, cur := range b.current.Consumers {
			if cur.CustomID != nil && *cur.CustomID == *consumer.CustomID {
				match = cur
			}
		}
	}
	if empty(consumer.ID) {
		if match != nil {
			consumer.ID = kong.String(*match.ID)
		} else {
			consumer.ID = newID()
		}
	}
	if match != nil {
		consumer.CreatedAt = match.CreatedAt
	}
	b.target.Consumers = append(b.target.Consumers, &consumer)
	for _, p := range c.Plugins {
		ref := &kong.Consumer{ID: kong.String(*consumer.ID), Username: consumer.Username}
		if err := b.plugin(p, nil, nil, ref); err != nil {
			return err
		}
	}
	return nil
}

// serviceFromURL is gdr's unwrapURL: the scheme is the protocol, the port comes from the URL or the
// scheme, the path only when the URL has one.
func serviceFromURL(s *kong.Service, raw string) error {
	scheme, rest := "", raw
	if i := strings.Index(raw, "://"); i > 0 {
		scheme, rest = raw[:i], raw[i+3:]
	}
	if scheme == "" {
		return fmt.Errorf("invalid url: %s", raw)
	}
	s.Protocol = kong.String(scheme)
	s.Port = kong.Int(80)
	if scheme == "https" {
		s.Port = kong.Int(443)
	}
	hostPort, path := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		hostPort, path = rest[:i], rest[i:]
		if j := strings.IndexAny(path, "?#"); j >= 0 {
			path = path[:j]
		}
	}
	if hostPort != "" {
		parts := strings.Split(hostPort, ":")
		s.Host = kong.String(parts[0])
		if len(parts) > 1 {
			if port, err := strconv.Atoi(parts[1]); err == nil {
				s.Port = kong.Int(port)
			}
		}
	}
	if path != "" {
		s.Path = kong.String(strings.ReplaceAll(path, " ", "%20"))
	}
	return nil
}

func (b *builder) service(f *FService) error {
	svc := f.Service
	if f.URL != nil && *f.URL != "" {
		if err := serviceFromURL(&svc, *f.URL); err != nil {
			return err
		}
	}
	var match *kong.Service
	if !empty(svc.Name) {
		match = b.currentService(*svc.Name)
	}
	if empty(svc.ID) {
		if match != nil {
			svc.ID = kong.String(*match.ID)
		} else {
			svc.ID = newID()
		}
	}
	if err := b.schemas.FillEntityDefaults("services", &svc); err != nil {
		return err
	}
	if match != nil {
		svc.CreatedAt = match.CreatedAt
	}
	b.target.Services = append(b.target.Services, &svc)
	ref := &kong.Service{ID: kong.String(*svc.ID), Name: svc.Name}
	for _, p := range f.Plugins {
		if err := b.plugin(p, ref, nil, nil); err != nil {
			return err
		}
	}
	for _, r := range f.Routes {
		if err := b.route(r, ref); err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) route(f *FRoute, service *kong.Service) error {
	route := f.Route
	if service != nil {
		route.Service = &kong.Service{ID: kong.String(*service.ID), Name: service.Name}
	} else {
		r, err := parseRef(f.ServiceRef)
		if err != nil {
			return err
		}
		if r != nil {
			svc := b.intermediateService(r.id)
			if svc == nil {
				return fatalf("retrieve intermediate services (%s): entity not found", r.name)
			}
			// gdr keeps only the id once it resolved a reference given by name.
			route.Service = &kong.Service{ID: kong.String(*svc.ID)}
		}
	}
	var match *kong.Route
	if !empty(route.Name) {
		match = b.currentRoute(*route.Name)
	}
	if empty(route.ID) {
		if match != nil {
			route.ID = kong.String(*match.ID)
		} else {
			route.ID = newID()
		}
	}
	// gRPC routes cannot strip the path; gdr forces false (getStripPathBasedOnProtocols).
	for _, p := range route.Protocols {
		if p != nil && (*p == "grpc" || *p == "grpcs") {
			if route.StripPath != nil && *route.StripPath {
				return fatalf("schema violation (strip_path: cannot set 'strip_path' when 'protocols' is 'grpc' or 'grpcs')")
			}
			route.StripPath = kong.Bool(false)
		}
	}
	if err := b.schemas.FillEntityDefaults("routes", &route); err != nil {
		return err
	}
	if match != nil {
		route.CreatedAt = match.CreatedAt
	}
	b.target.Routes = append(b.target.Routes, &route)
	ref := &kong.Route{ID: kong.String(*route.ID), Name: route.Name}
	for _, p := range f.Plugins {
		if err := b.plugin(p, nil, ref, nil); err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) upstream(f *FUpstream) error {
	up := f.Upstream
	if empty(up.Name) {
		return fatalf("upstream: name is required")
	}
	var match *kong.Upstream
	for _, cur := range b.current.Upstreams {
		if (cur.Name != nil && *cur.Name == *up.Name) || (cur.ID != nil && *cur.ID == *up.Name) {
			match = cur
		}
	}
	if empty(up.ID) {
		if match != nil {
			up.ID = kong.String(*match.ID)
		} else {
			up.ID = newID()
		}
	}
	if err := b.schemas.FillEntityDefaults("upstreams", &up); err != nil {
		return err
	}
	if match != nil {
		up.CreatedAt = match.CreatedAt
	}
	b.target.Upstreams = append(b.target.Upstreams, &up)
	for _, t := range f.Targets {
		target := *t
		target.Upstream = &kong.Upstream{ID: kong.String(*up.ID)}
		if empty(target.ID) {
			target.ID = newID()
			for _, cur := range b.current.Targets {
				if cur.Upstream != nil && cur.Upstream.ID != nil && *cur.Upstream.ID == *up.ID && cur.Target != nil && target.Target != nil && *cur.Target == *target.Target {
					target.ID = kong.String(*cur.ID)
				}
			}
		}
		if err := b.schemas.FillEntityDefaults("targets", &target); err != nil {
			return err
		}
		b.target.Targets = append(b.target.Targets, &target)
	}
	return nil
}

// plugin ingests one plugin; service/route/consumer are the entity it is nested in, if any.
func (b *builder) plugin(f *FPlugin, service *kong.Service, route *kong.Route, consumer *kong.Consumer) error {
	p := &TPlugin{Plugin: f.Plugin, InstanceName: f.InstanceName}
	if empty(p.Name) {
		return fatalf("plugin: name is required")
	}
	p.Service, p.Route, p.Consumer = service, route, consumer
	// Top-level plugins name their scope; gdr resolves it against the intermediate state (the file,
	// plus everything current for apply) and fails when it names nothing.
	if r, err := parseRef(f.ServiceRef); err != nil {
		return err
	} else if r != nil && p.Service == nil {
		s := b.intermediateService(r.id)
		if s == nil {
			return fatalf("service %s for plugin %s: entity not found", r.name, *p.Name)
		}
		p.Service = &kong.Service{ID: kong.String(*s.ID), Name: s.Name}
	}
	if r, err := parseRef(f.RouteRef); err != nil {
		return err
	} else if r != nil && p.Route == nil {
		rt := b.intermediateRoute(r.id)
		if rt == nil {
			return fatalf("route %s for plugin %s: entity not found", r.name, *p.Name)
		}
		p.Route = &kong.Route{ID: kong.String(*rt.ID), Name: rt.Name}
	}
	if r, err := parseRef(f.ConsumerRef); err != nil {
		return err
	} else if r != nil && p.Consumer == nil {
		c := b.intermediateConsumer(r.id)
		if c == nil {
			return fatalf("consumer %s for plugin %s: entity not found", r.name, *p.Name)
		}
		p.Consumer = &kong.Consumer{ID: kong.String(*c.ID), Username: c.Username}
	}
	match := b.currentPlugin(&p.Plugin)
	if empty(p.ID) {
		if match != nil {
			p.ID = kong.String(*match.ID)
		} else {
			p.ID = newID()
		}
	}
	if p.Config == nil {
		p.Config = kong.Configuration{}
	}
	if match != nil {
		p.CreatedAt = match.CreatedAt
	}
	b.target.Plugins = append(b.target.Plugins, p)
	return nil
}

// Lookups by id or name, as gdr's state indexes answer them.

func matches(id, name *string, key string) bool {
	return (id != nil && strings.EqualFold(*id, key)) || (name != nil && *name == key)
}

func (b *builder) currentService(key string) *kong.Service {
	for _, s := range b.current.Services {
		if matches(s.ID, s.Name, key) {
			return s
		}
	}
	return nil
}

func (b *builder) currentRoute(key string) *kong.Route {
	for _, r := range b.current.Routes {
		if matches(r.ID, r.Name, key) {
			return r
		}
	}
	return nil
}

func (b *builder) currentConsumer(key string) *kong.Consumer {
	for _, c := range b.current.Consumers {
		if matches(c.ID, c.Username, key) {
			return c
		}
	}
	return nil
}

func (b *builder) intermediateService(key string) *kong.Service {
	for _, s := range b.target.Services {
		if matches(s.ID, s.Name, key) {
			return s
		}
	}
	if b.partial {
		return b.currentService(key)
	}
	return nil
}

func (b *builder) intermediateRoute(key string) *kong.Route {
	for _, r := range b.target.Routes {
		if matches(r.ID, r.Name, key) {
			return r
		}
	}
	if b.partial {
		return b.currentRoute(key)
	}
	return nil
}

func (b *builder) intermediateConsumer(key string) *kong.Consumer {
	for _, c := range b.target.Consumers {
		if matches(c.ID, c.Username, key) {
			return c
		}
	}
	if b.partial {
		return b.currentConsumer(key)
	}
	return nil
}

// currentPlugin is Plugins.GetByProp: same name and same service, route and consumer ids.
func (b *builder) currentPlugin(p *kong.Plugin) *kong.Plugin {
	for _, cur := range b.current.Plugins {
		if cur.Name != nil && *cur.Name == *p.Name && sameScope(cur, p) {
			return cur
		}
	}
	return nil
}

func refID(id *string) string {
	if id == nil {
		return ""
	}
	return strings.ToLower(*id)
}

func sameScope(a, b *kong.Plugin) bool {
	sid := func(p *kong.Plugin) string {
		if p.Service == nil {
			return ""
		}
		return refID(p.Service.ID)
	}
	rid := func(p *kong.Plugin) string {
		if p.Route == nil {
			return ""
		}
		return refID(p.Route.ID)
	}
	cid := func(p *kong.Plugin) string {
		if p.Consumer == nil {
			return ""
		}
		return refID(p.Consumer.ID)
	}
	return sid(a) == sid(b) && rid(a) == rid(b) && cid(a) == cid(b)
}

// EmptyState is the current state validate --online builds against (it never reads the gateway).
func EmptyState() *State { return &State{Optional: map[string][]json.RawMessage{}} }
