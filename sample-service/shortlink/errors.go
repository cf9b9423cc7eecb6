package shortlink

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Error codes of the JSON error body {"error": {"code": …, "message": …}}. Clients may
// switch on them; they never change meaning. Messages are for humans and may change.
const (
	codeInvalidJSON      = "invalid_json"           // 400: the body is not one JSON object with "url"
	codeInvalidURL       = "invalid_url"            // 400: the target URL breaks a validation rule
	codeLinkBlocked      = "link_blocked"           // 403: the link-safety check blocks the target
	codeNotFound         = "not_found"              // 404: no such link or route
	codeMethodNotAllowed = "method_not_allowed"     // 405: the route exists for other methods (see Allow)
	codeBodyTooLarge     = "body_too_large"         // 413: the body exceeds Config.MaxBodyBytes
	codeUnsupportedMedia = "unsupported_media_type" // 415: Content-Type is set and not JSON
	codeUnavailable      = "unavailable"            // 503: the server is draining or the store is closed
	codeInternal         = "internal"               // 500: a bug or a storage failure; logged with the trace ID
)

// ErrorCodes lists every stable error code, for documentation and tests.
var ErrorCodes = []string{codeInvalidJSON, codeInvalidURL, codeLinkBlocked, codeNotFound, codeMethodNotAllowed,
	codeBodyTooLarge, codeUnsupportedMedia, codeUnavailable, codeInternal}

type apiError struct {
	status  int
	Code    string `json:"code"`
	Message string `json:"message"`
}

func newAPIError(status int, code, msg string) *apiError {
	return &apiError{status: status, Code: code, Message: msg}
}

var (
	errLinkNotFound = newAPIError(http.StatusNotFound, codeNotFound, "no link has this code")
	errNoRoute      = newAPIError(http.StatusNotFound, codeNotFound, "no such route; the API is POST /api/v1/links, GET|DELETE /api/v1/links/{code}, GET /{code}")
	errInternal     = newAPIError(http.StatusInternalServerError, codeInternal, "internal error; it has been logged with this request's trace ID")
)

func bodyTooLarge(limit int64) *apiError {
	return newAPIError(http.StatusRequestEntityTooLarge, codeBodyTooLarge,
		"request body exceeds "+strconv.FormatInt(limit, 10)+" bytes; send only {\"url\": …}")
}

// writeError writes e as the JSON error body with its status.
func writeError(w http.ResponseWriter, e *apiError) {
	body, _ := json.Marshal(struct {
		Error *apiError `json:"error"`
	}{e})
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
}

// writeJSON writes v as a JSON body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeError(w, errInternal)
		return
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
