// Command deckreplay drives a Kong-compatible admin API with go-kong the way decK does, one
// subcommand per decK command, and prints what happened as JSON (stdout) for the interop test
// (test/interop/go-kong.test.ts) to assert on. Errors go to stderr with exit code 1.
//
//	deckreplay [--admin-url URL] [--token T] version | dump | sync FILE [--dry-run] | diff FILE |
//	           apply FILE | reset | validate FILE | custom-id ID | sni-put CERT_ID SNI_ID NAME |
//	           ingress-push FILE
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/kong/go-kong/kong"
)

func main() {
	adminURL := flag.String("admin-url", "http://127.0.0.1:8001", "admin API address")
	token := flag.String("token", "", "admin token (Kong-Admin-Token)")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		fail(fatalf("usage: deckreplay [flags] COMMAND [ARGS]"))
	}
	s, err := NewSession(*adminURL, *token)
	if err != nil {
		fail(err)
	}
	out, err := run(s, args[0], args[1:])
	if err != nil {
		fail(err)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "Error:", err)
	os.Exit(1)
}

func run(s *Session, command string, args []string) (interface{}, error) {
	need := func(n int) error {
		if len(args) < n {
			return fatalf("%s needs %d argument(s)", command, n)
		}
		return nil
	}
	switch command {
	case "version":
		return version(s)
	case "dump":
		if _, err := version(s); err != nil {
			return nil, err
		}
		st, err := Dump(s, nil)
		if err != nil {
			return nil, err
		}
		return map[string]interface{}{"state": st, "requests": s.Log.Records()}, nil
	case "sync", "diff", "apply":
		if err := need(1); err != nil {
			return nil, err
		}
		dry := command == "diff" || (len(args) > 1 && args[1] == "--dry-run")
		return syncFile(s, args[0], command != "apply", dry)
	case "reset":
		return reset(s)
	case "validate":
		if err := need(1); err != nil {
			return nil, err
		}
		return validate(s, args[0])
	case "custom-id":
		if err := need(1); err != nil {
			return nil, err
		}
		c, err := s.Client.Consumers.GetByCustomID(s.Ctx, kong.String(args[0]))
		if err != nil {
			if kong.IsNotFoundErr(err) {
				return map[string]interface{}{"not_found": true}, nil
			}
			return nil, err
		}
		return c, nil
	case "sni-put":
		if err := need(3); err != nil {
			return nil, err
		}
		put, err := s.Client.SNIs.Create(s.Ctx, &kong.SNI{ID: kong.String(args[1]), Name: kong.String(args[2]), Certificate: &kong.Certificate{ID: kong.String(args[0])}})
		if err != nil {
			return nil, err
		}
		got, err := s.Client.SNIs.Get(s.Ctx, kong.String(args[1]))
		if err != nil {
			return nil, err
		}
		return map[string]interface{}{"put": put, "get": got}, nil
	case "ingress-push":
		if err := need(1); err != nil {
			return nil, err
		}
		return ingressPush(s, args[0])
	}
	return nil, fatalf("unknown command %q", command)
}

var majorMinor = regexp.MustCompile(`^\d+\.\d+`)

// version is decK's fetchKongVersion: `version` must be a string, its major.minor must parse, and
// a 3.x state file needs Kong ≥ 3.0.
func version(s *Session) (interface{}, error) {
	root, err := s.Client.Root(s.Ctx)
	if err != nil {
		return nil, fatalf("reading Kong version: %v", err)
	}
	v, ok := root["version"].(string)
	if !ok {
		return nil, fatalf("reading Kong version: 'version' is not a string")
	}
	cut := majorMinor.FindString(v)
	if cut == "" {
		return nil, fatalf("unknown Kong version")
	}
	parts := strings.SplitN(cut, ".", 2)
	major, _ := strconv.Atoi(parts[0])
	if major < 3 {
		return nil, fatalf("Kong version %s is below 3.0: decK would read a _format_version 3.0 file as invalid", v)
	}
	rec, _ := s.Log.Last("GET /")
	return map[string]interface{}{"version": v, "major_minor": cut, "server": rec.Server}, nil
}

// syncFile is `deck gateway sync|diff|apply`: version, dump, target from the file, then the events.
func syncFile(s *Session, path string, withDeletes, dryRun bool) (interface{}, error) {
	if _, err := version(s); err != nil {
		return nil, err
	}
	content, _, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	if content.FormatVersion != "3.0" {
		return nil, fatalf("the state file must have _format_version \"3.0\" for Kong 3.x")
	}
	current, err := Dump(s, nil)
	if err != nil {
		return nil, err
	}
	schemas := NewSchemas(s)
	target, err := BuildTarget(content, current, schemas, !withDeletes)
	if err != nil {
		return nil, err
	}
	y := &Syncer{s: s, schemas: schemas, dryRun: dryRun}
	if err := y.Plan(current, target, withDeletes); err != nil {
		return nil, err
	}
	return summary(y, s), nil
}

func summary(y *Syncer, s *Session) map[string]interface{} {
	counts := map[string]int{"create": 0, "update": 0, "delete": 0}
	for _, c := range y.Changes {
		counts[c.Op]++
	}
	changes := y.Changes
	if changes == nil {
		changes = []Change{}
	}
	return map[string]interface{}{
		"created": counts["create"], "updated": counts["update"], "deleted": counts["delete"],
		"changes": changes, "requests": s.Log.Records(),
	}
}

// reset is `deck gateway reset`: a sync to nothing.
func reset(s *Session) (interface{}, error) {
	if _, err := version(s); err != nil {
		return nil, err
	}
	current, err := Dump(s, nil)
	if err != nil {
		return nil, err
	}
	y := &Syncer{s: s, schemas: NewSchemas(s)}
	if err := y.deletes(current, &Target{}); err != nil {
		return nil, err
	}
	return summary(y, s), nil
}

// validate is `deck gateway validate --online`: the target (with entity defaults) built against an
// empty state, every entity posted to /schemas/{type}/validate with its references as they are.
func validate(s *Session, path string) (interface{}, error) {
	content, _, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	target, err := BuildTarget(content, EmptyState(), NewSchemas(s), false)
	if err != nil {
		return nil, err
	}
	type result struct {
		Type    string          `json:"type"`
		Name    string          `json:"name"`
		Status  int             `json:"status"`
		Message string          `json:"message,omitempty"`
		Body    json.RawMessage `json:"body,omitempty"`
	}
	results := []result{}
	failed := false
	check := func(kind string, name, id *string, entity interface{}) {
		var out json.RawMessage
		_, err := s.Raw("POST", "/schemas/"+kind+"/validate", nil, entity, &out)
		r := result{Type: kind, Name: label(name, id), Status: 200}
		if err != nil {
			failed = true
			r.Status = statusOf(err)
			r.Message, r.Body = s.errorMessage("POST /schemas/" + kind)
		}
		results = append(results, r)
	}
	for _, e := range target.Services {
		check("services", e.Name, e.ID, e)
	}
	for _, e := range target.Routes {
		check("routes", e.Name, e.ID, e)
	}
	for _, e := range target.Plugins {
		check("plugins", e.Name, e.ID, e)
	}
	for _, e := range target.Consumers {
		check("consumers", e.Username, e.ID, e)
	}
	for _, e := range target.Certificates {
		check("certificates", e.ID, e.ID, e)
	}
	for _, e := range target.SNIs {
		check("snis", e.Name, e.ID, e)
	}
	for _, e := range target.CACertificates {
		check("ca_certificates", e.ID, e.ID, e)
	}
	for _, e := range target.Upstreams {
		check("upstreams", e.Name, e.ID, e)
	}
	for _, e := range target.Targets {
		check("targets", e.Target, e.ID, e)
	}
	out := map[string]interface{}{"ok": !failed, "results": results}
	if failed {
		b, _ := json.MarshalIndent(out, "", "  ")
		fmt.Println(string(b))
		return nil, fatalf("validation failed")
	}
	return out, nil
}

// ingressPush is the ingress controller's DB-less push and its change check.
func ingressPush(s *Session, path string) (interface{}, error) {
	_, doc, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	qs := struct {
		CheckHash     int `url:"check_hash"`
		FlattenErrors int `url:"flatten_errors"`
	}{1, 1}
	pushStatus := 0
	resp, err := s.Raw("POST", "/config", &qs, json.RawMessage(doc), nil)
	if resp != nil {
		pushStatus = resp.StatusCode
	} else if err != nil {
		pushStatus = statusOf(err)
	}
	_, errorBody := s.errorMessage("POST /config")
	var status struct {
		ConfigurationHash string `json:"configuration_hash"`
		Server            struct {
			ConnectionsActive int `json:"connections_active"`
			TotalRequests     int `json:"total_requests"`
		} `json:"server"`
	}
	if _, err := s.Raw("GET", "/status", nil, nil, &status); err != nil {
		return nil, fatalf("failed to detect configuration change: %v", err)
	}
	return map[string]interface{}{"push_status": pushStatus, "error_body": errorBody, "configuration_hash": status.ConfigurationHash}, nil
}
