package main

// The go-kong client as decK builds it, plus a log of every request it made.
//
// decK sets its headers with kong.HTTPClientWithHeaders (User-Agent, Kong-Admin-Token); the log sits
// below that round tripper so it sees the request exactly as it goes on the wire. The node test
// asserts on the log (which lists were asked for, in which form, with which answer), so the log is
// part of the program's output rather than debug noise.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/ioutil"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/kong/go-kong/kong"
)

// deckUserAgent is what a released decK sends (goreleaser's tag, deck:cmd/root.go).
const deckUserAgent = "decK/v1.65.1"

// RequestRecord is one request the program made and how it was answered.
type RequestRecord struct {
	Request string `json:"request"` // "GET /services?size=1000"
	Status  int    `json:"status"`  // 0 when no answer came
	// Body of an answer ≥ 400: go-kong keeps only its `message`, and a few callers (validate,
	// ingress-push) need the rest (`fields`, `flattened_errors`).
	ErrorBody json.RawMessage `json:"error_body,omitempty"`
	// Server header of the answer: decK's only use of it is the ai-gateway check on dump.
	Server string `json:"-"`
}

// requestLog is an http.RoundTripper recording what passes through it.
type requestLog struct {
	next    http.RoundTripper
	mu      sync.Mutex
	records []RequestRecord
}

func (l *requestLog) RoundTrip(req *http.Request) (*http.Response, error) {
	target := req.URL.EscapedPath()
	if req.URL.RawQuery != "" {
		// The query exactly as go-querystring encoded it (keys sorted, tags comma-joined and escaped).
		target += "?" + req.URL.RawQuery
	}
	rec := RequestRecord{Request: req.Method + " " + target}
	resp, err := l.next.RoundTrip(req)
	if err == nil {
		rec.Status = resp.StatusCode
		rec.Server = resp.Header.Get("Server")
		if resp.StatusCode >= 400 {
			// go-kong reads the error body itself; keep a copy and hand it a fresh reader.
			body, _ := ioutil.ReadAll(resp.Body)
			_ = resp.Body.Close()
			resp.Body = ioutil.NopCloser(bytes.NewReader(body))
			if json.Valid(body) {
				rec.ErrorBody = json.RawMessage(body)
			} else if len(body) > 0 {
				quoted, _ := json.Marshal(string(body))
				rec.ErrorBody = quoted
			}
		}
	}
	l.mu.Lock()
	l.records = append(l.records, rec)
	l.mu.Unlock()
	return resp, err
}

// Records returns a copy of the log so far.
func (l *requestLog) Records() []RequestRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]RequestRecord(nil), l.records...)
}

// Last returns the most recent record whose request starts with prefix ("GET /").
func (l *requestLog) Last(prefix string) (RequestRecord, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.records) - 1; i >= 0; i-- {
		if strings.HasPrefix(l.records[i].Request, prefix) {
			return l.records[i], true
		}
	}
	return RequestRecord{}, false
}

// Session is one run of the program against one admin API.
type Session struct {
	Client *kong.Client
	Log    *requestLog
	Ctx    context.Context
}

// NewSession builds the client the way gdr's GetKongClient does for decK: a plain http.Client with
// decK's headers injected by go-kong's round tripper, and the address without trailing slashes.
func NewSession(adminURL, token string) (*Session, error) {
	log := &requestLog{next: http.DefaultTransport}
	// HTTPClientWithHeaders in go-kong 0.15 reads client.Transport unconditionally, so the base
	// client must be non-nil and carry a transport.
	base := &http.Client{Transport: log, Timeout: 10 * time.Second} // decK's --timeout default
	headers := http.Header{}
	headers.Set("User-Agent", deckUserAgent)
	if token != "" {
		headers.Set("Kong-Admin-Token", token)
	}
	httpClient := kong.HTTPClientWithHeaders(base, headers)
	address := strings.TrimRight(adminURL, "/")
	client, err := kong.NewClient(kong.String(address), &httpClient)
	if err != nil {
		return nil, err
	}
	return &Session{Client: client, Log: log, Ctx: context.Background()}, nil
}

// Raw performs a request go-kong 0.15 has no service for, through the same client (so it is logged
// and carries decK's headers). out may be nil, an io.Writer (raw copy) or a pointer to decode into.
func (s *Session) Raw(method, path string, qs interface{}, body interface{}, out interface{}) (*kong.Response, error) {
	req, err := s.Client.NewRequest(method, path, qs, body)
	if err != nil {
		return nil, err
	}
	return s.Client.Do(s.Ctx, req, out)
}

// statusOf is the HTTP status of a go-kong error, 0 when it is not an API error.
func statusOf(err error) int {
	if apiErr, ok := err.(*kong.APIError); ok {
		return apiErr.Code()
	}
	return 0
}

// errorMessage is the `message` of an error answer, as go-kong would have parsed it, taken from the
// last logged answer of the request (go-kong 0.15 keeps the message private in APIError).
func (s *Session) errorMessage(request string) (string, json.RawMessage) {
	rec, ok := s.Log.Last(request)
	if !ok || rec.ErrorBody == nil {
		return "", nil
	}
	var body struct{ Message string }
	if err := json.Unmarshal(rec.ErrorBody, &body); err != nil {
		return string(rec.ErrorBody), rec.ErrorBody
	}
	return body.Message, rec.ErrorBody
}

// escapePath escapes one path segment the way Go's url package would when go-kong formats it.
func escapePath(segment string) string {
	return url.PathEscape(segment)
}

// fatalf is an error that ends the command (printed on stderr, exit 1).
func fatalf(format string, args ...interface{}) error {
	return fmt.Errorf(format, args...)
}
