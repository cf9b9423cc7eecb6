package lab

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
)

// handler serves /api/v1/query, /api/v1/query_range, /api/v1/alerts, /-/ready and
// /-/healthy in the Prometheus HTTP API's JSON format.
func (l *Lab) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/query", l.query)
	mux.HandleFunc("/api/v1/query_range", l.queryRange)
	mux.HandleFunc("/api/v1/alerts", l.alerts)
	ok := func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "slokit lab is ready.") }
	mux.HandleFunc("/-/ready", ok)
	mux.HandleFunc("/-/healthy", ok)
	return mux
}

type apiResponse struct {
	Status    string   `json:"status"`
	Data      any      `json:"data,omitempty"`
	ErrorType string   `json:"errorType,omitempty"`
	Error     string   `json:"error,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, r apiResponse) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(r)
}

func badData(w http.ResponseWriter, format string, args ...any) {
	writeJSON(w, http.StatusBadRequest, apiResponse{Status: "error", ErrorType: "bad_data", Error: fmt.Sprintf(format, args...)})
}

// parseTime reads a Prometheus API time: Unix seconds (fractional) or RFC 3339.
func parseTime(s string, def time.Time) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("cannot parse %q as a time: use Unix seconds or RFC 3339", s)
}

func parseStep(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 {
		return time.Duration(f * float64(time.Second)), nil
	}
	if d, err := model.ParseDuration(s); err == nil && d > 0 {
		return time.Duration(d), nil
	}
	return 0, fmt.Errorf("cannot parse %q as a positive step: use seconds or a duration like 15s", s)
}

func (l *Lab) query(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		badData(w, "%v", err)
		return
	}
	ts, err := parseTime(r.Form.Get("time"), time.Now())
	if err != nil {
		badData(w, "time: %v", err)
		return
	}
	v, warns, err := l.eng.Query(r.Context(), r.Form.Get("query"), ts)
	ws, _ := warns.AsStrings("", 0, 0)
	l.respond(w, v, ws, err)
}

func (l *Lab) queryRange(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		badData(w, "%v", err)
		return
	}
	start, err := parseTime(r.Form.Get("start"), time.Time{})
	if err != nil || start.IsZero() {
		badData(w, "start: required, Unix seconds or RFC 3339")
		return
	}
	end, err := parseTime(r.Form.Get("end"), time.Time{})
	if err != nil || end.IsZero() || end.Before(start) {
		badData(w, "end: required, not before start")
		return
	}
	step, err := parseStep(r.Form.Get("step"))
	if err != nil {
		badData(w, "step: %v", err)
		return
	}
	if end.Sub(start)/step > 11000 {
		badData(w, "exceeded maximum resolution of 11,000 points per timeseries; try a larger step")
		return
	}
	v, warns, err := l.eng.QueryRange(r.Context(), r.Form.Get("query"), start, end, step)
	ws, _ := warns.AsStrings("", 0, 0)
	l.respond(w, v, ws, err)
}

func (l *Lab) respond(w http.ResponseWriter, v parser.Value, warns []string, err error) {
	if err != nil {
		badData(w, "%v", err)
		return
	}
	data, err := toModel(v)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, apiResponse{Status: "error", ErrorType: "internal", Error: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, apiResponse{Status: "success", Data: data, Warnings: warns})
}

type queryData struct {
	ResultType string `json:"resultType"`
	Result     any    `json:"result"`
}

// toModel converts a PromQL value to prometheus/common's model types, whose JSON is the
// API's.
func toModel(v parser.Value) (queryData, error) {
	metric := func(ls interface{ Map() map[string]string }) model.Metric {
		m := model.Metric{}
		for k, val := range ls.Map() {
			m[model.LabelName(k)] = model.LabelValue(val)
		}
		return m
	}
	switch x := v.(type) {
	case promql.Vector:
		out := make(model.Vector, 0, len(x))
		for _, s := range x {
			out = append(out, &model.Sample{Metric: metric(s.Metric), Value: model.SampleValue(s.F), Timestamp: model.Time(s.T)})
		}
		return queryData{"vector", out}, nil
	case promql.Matrix:
		out := make(model.Matrix, 0, len(x))
		for _, s := range x {
			ss := &model.SampleStream{Metric: metric(s.Metric)}
			for _, p := range s.Floats {
				ss.Values = append(ss.Values, model.SamplePair{Timestamp: model.Time(p.T), Value: model.SampleValue(p.F)})
			}
			out = append(out, ss)
		}
		return queryData{"matrix", out}, nil
	case promql.Scalar:
		return queryData{"scalar", &model.Scalar{Value: model.SampleValue(x.V), Timestamp: model.Time(x.T)}}, nil
	case promql.String:
		return queryData{"string", &model.String{Value: x.V, Timestamp: model.Time(x.T)}}, nil
	}
	return queryData{}, fmt.Errorf("unsupported result type %T", v)
}

type apiAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
	ActiveAt    *time.Time        `json:"activeAt,omitempty"`
	Value       string            `json:"value"`
}

func (l *Lab) alerts(w http.ResponseWriter, _ *http.Request) {
	list := []apiAlert{}
	for _, a := range l.eng.Alerts() {
		at := a.ActiveAt
		list = append(list, apiAlert{Labels: a.Labels, Annotations: a.Annotations, State: a.State.String(),
			ActiveAt: &at, Value: strconv.FormatFloat(a.Value, 'e', -1, 64)})
	}
	writeJSON(w, http.StatusOK, apiResponse{Status: "success", Data: map[string]any{"alerts": list}})
}
