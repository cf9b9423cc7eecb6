package shortlink

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxURLLength is the longest target URL accepted, in bytes.
const MaxURLLength = 2048

// createRequest is the body of POST /api/v1/links.
type createRequest struct {
	URL string `json:"url"`
}

// decodeCreate strictly decodes a create request: exactly one JSON object with the
// single field "url", nothing after it.
func decodeCreate(body io.Reader, limit int64) (createRequest, *apiError) {
	var req createRequest
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		if isMaxBytes(err) {
			return req, bodyTooLarge(limit)
		}
		return req, newAPIError(400, codeInvalidJSON, "request body must be a JSON object like {\"url\": \"https://example.com\"}: "+jsonProblem(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		if isMaxBytes(err) {
			return req, bodyTooLarge(limit)
		}
		return req, newAPIError(400, codeInvalidJSON, "request body must hold exactly one JSON object, found data after it")
	}
	return req, nil
}

// jsonProblem shortens encoding/json's messages to what a client can act on.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return "the body is empty"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the body ends early"
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("field %q must be a %s", te.Field, jsonKind(te.Type.Kind().String()))
		}
		return "the body must be an object"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return strings.TrimPrefix(err.Error(), "json: ") + ` (only "url" is accepted)`
	}
	return "the body is not valid JSON"
}

func jsonKind(k string) string {
	if k == "struct" {
		return "object"
	}
	return k
}

// validateURL checks a target URL and returns its normalised form. The rules: at most
// MaxURLLength bytes, valid UTF-8 without control or space characters, scheme http or
// https, an ASCII host (internationalised names in punycode), no user:password@.
func validateURL(raw string) (string, *apiError) {
	bad := func(format string, args ...any) (string, *apiError) {
		return "", newAPIError(400, codeInvalidURL, fmt.Sprintf(format, args...))
	}
	switch {
	case raw == "":
		return bad(`"url" is required, like "https://example.com/page"`)
	case len(raw) > MaxURLLength:
		return bad("url is %d bytes long; the limit is %d", len(raw), MaxURLLength)
	case !utf8.ValidString(raw):
		return bad("url is not valid UTF-8")
	}
	for _, r := range raw {
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == '\uFEFF' || unicode.Is(unicode.Cf, r) {
			return bad("url contains the character %U; percent-encode it", r)
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("url does not parse: %s", strings.TrimPrefix(err.Error(), "parse "))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return bad("url must be absolute with scheme http or https, like \"https://%s\"", strings.TrimPrefix(raw, "//"))
		}
		return bad("url scheme must be http or https, got %q", u.Scheme)
	}
	if u.Opaque != "" {
		return bad("url must have the form %s://host/path", u.Scheme)
	}
	if u.User != nil {
		return bad("url must not carry credentials (user:password@)")
	}
	host := u.Hostname()
	if host == "" {
		return bad("url must name a host, like \"%s://example.com/\"", u.Scheme)
	}
	for i := 0; i < len(host); i++ {
		if host[i] >= utf8.RuneSelf {
			return bad("url host %q must be ASCII; write internationalised names in punycode (xn--…)", host)
		}
	}
	if strings.ContainsAny(host, "%") {
		return bad("url host must not be percent-encoded")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return bad("url port must be in 1-65535, got %q", p)
		}
	}
	// url.URL.String escapes the path and fragment but keeps the raw query: escape its
	// non-ASCII bytes too, so that the Location header is pure ASCII.
	norm := escapeNonASCII(u.String())
	if len(norm) > MaxURLLength {
		return bad("url is %d bytes long once normalised; the limit is %d", len(norm), MaxURLLength)
	}
	return norm, nil
}

// isMaxBytes reports whether err comes from http.MaxBytesReader's limit.
func isMaxBytes(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// hasJSONBody reports whether a Content-Type header is absent or JSON.
func hasJSONBody(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.TrimSpace(strings.ToLower(mt))
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// escapeNonASCII percent-encodes every byte ≥ 0x80 of s.
func escapeNonASCII(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf {
			b = append(b, '%', hex[c>>4], hex[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}
