// Package linkcheck is the link-safety service the shortlink sample service asks before
// every redirect: a small HTTP API answering whether a target URL may be followed. It is
// the dependency that shortlink's circuit breaker protects and that resilience game days
// slow down.
package linkcheck

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Verdicts of the API.
const (
	// Allow: the target may be followed.
	Allow = "allow"
	// Block: the target is on the block list; shortlink refuses the redirect.
	Block = "block"
)

// PathVerdict is the API's one route: GET /v1/verdict?url=<target>.
const PathVerdict = "/v1/verdict"

// Verdict is the JSON answer of GET /v1/verdict.
type Verdict struct {
	URL     string `json:"url"`
	Verdict string `json:"verdict"`
	// Reason says why a target is blocked; empty when allowed.
	Reason string `json:"reason,omitempty"`
}

// Config configures the service.
type Config struct {
	// Blocked lists hosts whose links are blocked, matched case-insensitively, with
	// their subdomains ("evil.example" blocks "www.evil.example"). Nil blocks nothing.
	Blocked []string
}

// Handler returns the service's HTTP handler: GET /v1/verdict?url=… and GET /healthz.
// A missing or unparsable url answers 400.
func Handler(cfg Config) http.Handler {
	blocked := make([]string, 0, len(cfg.Blocked))
	for _, h := range cfg.Blocked {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			blocked = append(blocked, h)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathVerdict, func(w http.ResponseWriter, r *http.Request) {
		raw := r.URL.Query().Get("url")
		u, err := url.Parse(raw)
		if raw == "" || err != nil || u.Host == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "want ?url=<absolute http(s) URL>"})
			return
		}
		v := Verdict{URL: raw, Verdict: Allow}
		if h := strings.ToLower(u.Hostname()); slices.ContainsFunc(blocked, func(b string) bool {
			return h == b || strings.HasSuffix(h, "."+b)
		}) {
			v.Verdict, v.Reason = Block, "host "+h+" is on the block list"
		}
		writeJSON(w, http.StatusOK, v)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
