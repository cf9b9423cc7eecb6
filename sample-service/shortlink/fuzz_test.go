package shortlink

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzCreateLink feeds arbitrary bodies to POST /api/v1/links. Invariants: the answer is
// 201 or a 4xx JSON error with a stable code, never a 5xx or a panic; a created link's
// URL is http(s), ASCII, credential-free, within MaxURLLength, a fixed point of the
// validation, and is what the redirect sends.
func FuzzCreateLink(f *testing.F) {
	for _, seed := range []string{
		`{"url":"https://example.com/"}`,
		`{"url":"http://127.0.0.1:8080/a?b=c#d"}`,
		`{"url":"https://example.com/été?q=日本#ü"}`,
		`{"url":"javascript:alert(1)"}`,
		`{"url":"https://user:pw@example.com/"}`,
		`{"url":"http:///x"}`,
		`{"url":42}`,
		`{"url":"https://a.example"} {}`,
		`{"url":"https://[::1]:65536/"}`,
		`{"url":"\u202ehttps://example.com"}`,
		`[]`, `null`, `{`, ``,
	} {
		f.Add([]byte(seed))
	}
	s, err := New(Config{DBPath: filepath.Join(f.TempDir(), "links.db"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	h := s.Handler()
	known := map[string]bool{}
	for _, c := range ErrorCodes {
		known[c] = true
	}

	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/api/v1/links", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		switch {
		case rec.Code == http.StatusCreated:
		case rec.Code >= 400 && rec.Code < 500:
			var e struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || !known[e.Error.Code] || e.Error.Message == "" {
				t.Fatalf("status %d with body %q: not a JSON error with a known code (%v)", rec.Code, rec.Body, err)
			}
			return
		default:
			t.Fatalf("body %q answered %d: %s", body, rec.Code, rec.Body)
		}

		var l linkResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &l); err != nil {
			t.Fatalf("201 body %q: %v", rec.Body, err)
		}
		u, err := url.Parse(l.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || u.Host == "" || len(l.URL) > MaxURLLength {
			t.Fatalf("accepted %q from body %q", l.URL, body)
		}
		for i := 0; i < len(l.URL); i++ {
			if c := l.URL[i]; c < 0x21 || c > 0x7e {
				t.Fatalf("accepted URL %q has byte %#x", l.URL, c)
			}
		}
		if again, aerr := validateURL(l.URL); aerr != nil || again != l.URL {
			t.Fatalf("normalised URL %q is not a fixed point: %q, %v", l.URL, again, aerr)
		}
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, httptest.NewRequest("GET", "/"+l.Code, nil))
		if rr.Code != http.StatusFound || rr.Header().Get("Location") != l.URL {
			t.Fatalf("redirect of %s: %d %q, want 302 %q", l.Code, rr.Code, rr.Header().Get("Location"), l.URL)
		}
	})
}
