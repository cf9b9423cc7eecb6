package linkcheck

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

func TestVerdicts(t *testing.T) {
	h := Handler(Config{Blocked: []string{" Evil.Example ", ""}})
	for _, tc := range []struct {
		target string
		status int
		want   string
	}{
		{"https://example.com/x", 200, Allow},
		{"https://evil.example/x", 200, Block},
		{"https://WWW.evil.example:8443/x", 200, Block},
		{"https://notevil.example/x", 200, Allow},
		{"", 400, ""},
		{"/relative", 400, ""},
		{"%zz", 400, ""},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", PathVerdict+"?url="+url.QueryEscape(tc.target), nil))
		if rec.Code != tc.status {
			t.Errorf("%q: status %d, want %d", tc.target, rec.Code, tc.status)
			continue
		}
		if tc.status != http.StatusOK {
			continue
		}
		var v Verdict
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || v.Verdict != tc.want || v.URL != tc.target || (v.Verdict == Block) != (v.Reason != "") {
			t.Errorf("%q: %+v (%v), want verdict %s", tc.target, v, err, tc.want)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", PathVerdict, nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", rec.Code)
	}
}
