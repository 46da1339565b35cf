package main

// dump.Get of go-database-reconciler (pkg/dump/dump.go), replayed with go-kong 0.15: the same list
// requests, the same page size and tag filter, the same statuses taken as "this Kong has no such
// entity", and the same checks gdr's in-memory state makes on what comes back (every entity has an
// id, foreign keys are {"id": …} objects).

import (
	"encoding/json"

	"github.com/kong/go-kong/kong"
)

// State is the gateway's configuration as decK reads it.
type State struct {
	Services       []*kong.Service       `json:"services"`
	Routes         []*kong.Route         `json:"routes"`
	Plugins        []*kong.Plugin        `json:"plugins"`
	Certificates   []*kong.Certificate   `json:"certificates"`
	CACertificates []*kong.CACertificate `json:"ca_certificates"`
	SNIs           []*kong.SNI           `json:"snis"`
	Upstreams      []*kong.Upstream      `json:"upstreams"`
	Targets        []*kong.Target        `json:"targets"`
	Consumers      []*kong.Consumer      `json:"consumers"`
	// Entities go-kong 0.15 has no type for, kept as the server sent them.
	Optional map[string][]json.RawMessage `json:"optional"`
}

// optionalList is a list decK asks for whose absence it tolerates (dump.go's per-call error checks).
type optionalList struct {
	key       string
	path      string
	tolerated []int
	// Custom entities (degraphql routes, graphql costs) and mtls-auths are asked for without tags.
	noTags bool
	// Custom entities are not asked for at all when select tags are given.
	skipWithTags bool
}

var optionalLists = []optionalList{
	{key: "filter_chains", path: "/filter-chains", tolerated: []int{404, 400}},
	{key: "vaults", path: "/vaults", tolerated: []int{404, 403}},
	{key: "partials", path: "/partials", tolerated: []int{404, 403}},
	{key: "keys", path: "/keys", tolerated: []int{404, 403}},
	{key: "key_sets", path: "/key-sets", tolerated: []int{404, 403}},
	{key: "degraphql_routes", path: "/degraphql_routes", tolerated: []int{404, 403}, noTags: true, skipWithTags: true},
	{key: "graphql_ratelimiting_cost_decorations", path: "/graphql-rate-limiting-advanced/costs", tolerated: []int{404, 403}, noTags: true, skipWithTags: true},
}

// Credential lists, asked for unless --skip-consumers.
var credentialLists = []optionalList{
	{key: "key_auths", path: "/key-auths", tolerated: []int{404}},
	{key: "hmac_auths", path: "/hmac-auths", tolerated: []int{404}},
	{key: "jwt_auths", path: "/jwts", tolerated: []int{404}},
	{key: "basic_auths", path: "/basic-auths", tolerated: []int{404}},
	{key: "oauth2_creds", path: "/oauth2", tolerated: []int{404}},
	{key: "acls", path: "/acls", tolerated: []int{404}},
	{key: "mtls_auths", path: "/mtls-auths", tolerated: []int{404, 403}, noTags: true},
}

// listOpt is gdr's newOpt: size 1000, the select tags ANDed.
func listOpt(tags []string) *kong.ListOpt {
	opt := &kong.ListOpt{Size: 1000, MatchAllTags: true}
	for _, t := range tags {
		opt.Tags = append(opt.Tags, kong.String(t))
	}
	return opt
}

// pages follows go-kong's `offset` until it is null, calling list for each page.
func pages(opt *kong.ListOpt, list func(opt *kong.ListOpt) (*kong.ListOpt, error)) error {
	for opt != nil {
		next, err := list(opt)
		if err != nil {
			return err
		}
		opt = next
	}
	return nil
}

// Dump reads the whole gateway as dump.Get does for `deck gateway dump` / sync / diff / reset.
func Dump(s *Session, selectTags []string) (*State, error) {
	st := &State{Optional: map[string][]json.RawMessage{}}
	ctx := s.Ctx
	c := s.Client

	if err := pages(listOpt(selectTags), func(o *kong.ListOpt) (*kong.ListOpt, error) {
		d, n, err := c.Services.List(ctx, o)
		st.Services = append(st.Services, d...)
		return n, err
	}); err != nil {
		return nil, fatalf("services: %v", err)
	}
	if err := pages(listOpt(selectTags), func(o *kong.ListOpt) (*kong.ListOpt, error) {
		d, n, err := c.Routes.List(ctx, o)
		st.Routes = append(st.Routes, d...)
		return n, err
	}); err != nil {
		return nil, fatalf("routes: %v", err)
	}
	if err := pages(listOpt(selectTags), func(o *kong.ListOpt) (*kong.ListOpt, error) {
		d, n, err := c.Plugins.List(ctx, o)
		st.Plugins = append(st.Plugins, d...)
		return n, err
	}); err != nil {
		return nil, fatalf("plugins: %v", err)
	}
	if err := pages(listOpt(selectTags), func(o *kong.ListOpt) (*kong.ListOpt, error) {
		d, n, err := c.Certificates.List(ctx, o)
		st.Certificates = append(st.Certificates, d...)
		return n, err
	}); err != nil {
		return nil, fatalf("certificates: %v", err)
	}
	// gdr drops the `snis` a certificate is listed with: SNIs come from their own list.
	for _, cert := range st.Certificates {
		cert.SNIs = nil
	}
	if err := pages(listOpt(selectTags), func(o *kong.ListOpt) (*kong.ListOpt, error) {
		d, n, err := c.CACertificates.List(ctx, o)
		st.CACertificates = append(st.CACertificates, d...)
		return n, err
	}); err != nil {
		if statusOf(err) != 404 {
			return nil, fatalf("ca_certificates: %v", err)
		}
	}
	if err := pages(listOpt(selectTags), func(o *kong.ListOpt) (*kong.ListOpt, error) {
		d, n, err := c.SNIs.List(ctx, o)
		st.SNIs = append(st.SNIs, d...)
		return n, err
	}); err != nil {
		return nil, fatalf("snis: %v", err)
	}
	if err := pages(listOpt(selectTags), func(o *kong.ListOpt) (*kong.ListOpt, error) {
		d, n, err := c.Upstreams.List(ctx, o)
		st.Upstreams = append(st.Upstreams, d...)
		return n, err
	}); err != nil {
		return nil, fatalf("upstreams: %v", err)
	}
	// gdr reuses one ListOpt across upstreams (a stale offset can leak into the next upstream's
	// first request); replayed as is.
	targetOpt := listOpt(selectTags)
	for _, u := range st.Upstreams {
		if u.ID == nil {
			return nil, fatalf("upstreams: an upstream has no id")
		}
		for {
			d, n, err := c.Targets.List(ctx, u.ID, targetOpt)
			if err != nil {
				return nil, fatalf("targets of upstream %s: %v", *u.ID, err)
			}
			st.Targets = append(st.Targets, d...)
			if n == nil {
				break
			}
			targetOpt = n
		}
	}

	for _, l := range optionalLists {
		if l.skipWithTags && len(selectTags) > 0 {
			continue
		}
		if err := rawList(s, st, l, selectTags); err != nil {
			return nil, err
		}
	}

	// Consumer groups: gdr first asks the version (isKongVersion34Plus, through Info.Get), then walks
	// the groups; a 404/403 anywhere in the walk means "no consumer groups".
	if err := checkInfo(s); err != nil {
		return nil, err
	}
	if err := consumerGroups(s, st, selectTags); err != nil {
		return nil, err
	}

	if err := pages(listOpt(selectTags), func(o *kong.ListOpt) (*kong.ListOpt, error) {
		d, n, err := c.Consumers.List(ctx, o)
		st.Consumers = append(st.Consumers, d...)
		return n, err
	}); err != nil {
		return nil, fatalf("consumers: %v", err)
	}
	for _, l := range credentialLists {
		if err := rawList(s, st, l, selectTags); err != nil {
			return nil, err
		}
	}

	if err := checkState(st); err != nil {
		return nil, err
	}
	return st, nil
}

// rawList pages through a list go-kong 0.15 has no service for, with go-kong's own envelope
// (`data` an array, `offset` a string or null).
func rawList(s *Session, st *State, l optionalList, selectTags []string) error {
	opt := listOpt(selectTags)
	if l.noTags {
		opt = listOpt(nil)
	}
	items := []json.RawMessage{}
	for opt != nil {
		var page struct {
			Data []json.RawMessage `json:"data"`
			Next *string           `json:"offset"`
		}
		_, err := s.Raw("GET", l.path, listQuery(opt), nil, &page)
		if err != nil {
			if contains(l.tolerated, statusOf(err)) {
				return nil
			}
			return fatalf("%s: %v", l.key, err)
		}
		for _, item := range page.Data {
			var ent struct {
				ID *string `json:"id"`
			}
			if err := json.Unmarshal(item, &ent); err != nil || ent.ID == nil {
				return fatalf("%s: an entity has no id: %s", l.key, string(item))
			}
		}
		items = append(items, page.Data...)
		opt = nil
		if page.Next != nil {
			opt = listOpt(selectTags)
			if l.noTags {
				opt = listOpt(nil)
			}
			opt.Offset = *page.Next
		}
	}
	st.Optional[l.key] = items
	return nil
}

// listQuery is go-kong's list query string (size, offset, tags joined with ',').
func listQuery(opt *kong.ListOpt) interface{} {
	q := struct {
		Size   int    `url:"size,omitempty"`
		Offset string `url:"offset,omitempty"`
		Tags   string `url:"tags,omitempty"`
	}{Size: opt.Size, Offset: opt.Offset}
	for i, t := range opt.Tags {
		if i > 0 {
			q.Tags += ","
		}
		q.Tags += *t
	}
	return &q
}

// checkInfo is go-kong's Info.Get: GET / converted into typed fields, so a `configuration.portal`
// that is not a bool (or `rbac` that is not a string) is fatal, as it is for decK.
func checkInfo(s *Session) error {
	var info struct {
		Version       string `json:"version"`
		Configuration *struct {
			Database string `json:"database"`
			Portal   bool   `json:"portal"`
			RBAC     string `json:"rbac"`
		} `json:"configuration"`
	}
	if _, err := s.Raw("GET", "/", nil, nil, &info); err != nil {
		return fatalf("error retrieving Kong version: %v", err)
	}
	return nil
}

func consumerGroups(s *Session, st *State, selectTags []string) error {
	groups := []json.RawMessage{}
	opt := listOpt(selectTags)
	tolerated := func(err error) bool { code := statusOf(err); return code == 404 || code == 403 }
	for opt != nil {
		var page struct {
			Data []struct {
				ID   *string `json:"id"`
				Name *string `json:"name"`
			} `json:"data"`
			Next *string `json:"offset"`
		}
		if _, err := s.Raw("GET", "/consumer_groups", listQuery(opt), nil, &page); err != nil {
			if tolerated(err) {
				st.Optional["consumer_groups"] = []json.RawMessage{}
				return nil
			}
			return fatalf("consumer_groups: %v", err)
		}
		for _, g := range page.Data {
			if g.ID == nil || g.Name == nil {
				return fatalf("consumer_groups: a group has no id or name")
			}
			// Group names go into the path unescaped, as gdr does.
			var detail json.RawMessage
			if _, err := s.Raw("GET", "/consumer_groups/"+*g.Name, nil, nil, &detail); err != nil {
				if tolerated(err) {
					st.Optional["consumer_groups"] = []json.RawMessage{}
					return nil
				}
				return fatalf("consumer_group %s: %v", *g.Name, err)
			}
			groups = append(groups, detail)
		}
		opt = nil
		if page.Next != nil {
			opt = listOpt(selectTags)
			opt.Offset = *page.Next
		}
	}
	st.Optional["consumer_groups"] = groups
	return nil
}

// checkState makes the checks gdr's state.Get makes while indexing: ids present and unique,
// references as objects carrying an id.
func checkState(st *State) error {
	seen := map[string]bool{}
	id := func(kind string, p *string) error {
		if p == nil || *p == "" {
			return fatalf("%s: an entity has no id", kind)
		}
		if seen[kind+"/"+*p] {
			return fatalf("%s: duplicate id %s", kind, *p)
		}
		seen[kind+"/"+*p] = true
		return nil
	}
	for _, e := range st.Services {
		if err := id("services", e.ID); err != nil {
			return err
		}
	}
	for _, e := range st.Routes {
		if err := id("routes", e.ID); err != nil {
			return err
		}
		if e.Service != nil && e.Service.ID == nil {
			return fatalf("routes: route %s has a service reference without id", *e.ID)
		}
	}
	for _, e := range st.Plugins {
		if err := id("plugins", e.ID); err != nil {
			return err
		}
		if e.Name == nil {
			return fatalf("plugins: plugin %s has no name", *e.ID)
		}
		if (e.Service != nil && e.Service.ID == nil) || (e.Route != nil && e.Route.ID == nil) || (e.Consumer != nil && e.Consumer.ID == nil) {
			return fatalf("plugins: plugin %s has a reference without id", *e.ID)
		}
	}
	for _, e := range st.Certificates {
		if err := id("certificates", e.ID); err != nil {
			return err
		}
	}
	for _, e := range st.CACertificates {
		if err := id("ca_certificates", e.ID); err != nil {
			return err
		}
	}
	for _, e := range st.SNIs {
		if err := id("snis", e.ID); err != nil {
			return err
		}
		if e.Certificate == nil || e.Certificate.ID == nil {
			return fatalf("snis: SNI %s has no certificate {id}", *e.ID)
		}
	}
	for _, e := range st.Upstreams {
		if err := id("upstreams", e.ID); err != nil {
			return err
		}
	}
	for _, e := range st.Targets {
		if err := id("targets", e.ID); err != nil {
			return err
		}
		if e.Upstream == nil || e.Upstream.ID == nil {
			return fatalf("targets: target %s has no upstream {id}", *e.ID)
		}
	}
	for _, e := range st.Consumers {
		if err := id("consumers", e.ID); err != nil {
			return err
		}
	}
	return nil
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
