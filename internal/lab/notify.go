package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/slokit/slokit/internal/engine"
)

// amAlert is one alert in Alertmanager's v2 API.
type amAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// notify posts the firing alerts (valid for four evaluation intervals, as Prometheus
// does) and those resolved since the last call to Alertmanager.
func (l *Lab) notify(ctx context.Context, now time.Time) error {
	if l.cfg.AlertmanagerURL == "" {
		return nil
	}
	var batch []amAlert
	for _, a := range l.eng.Alerts() {
		if a.State != engine.StateFiring {
			continue
		}
		batch = append(batch, amAlert{Labels: a.Labels, Annotations: a.Annotations, StartsAt: a.ActiveAt,
			EndsAt: now.Add(4 * l.cfg.EvalInterval), GeneratorURL: l.URL() + "/alerts"})
	}
	resolved := l.resolved
	l.resolved = nil
	for _, tr := range resolved {
		batch = append(batch, amAlert{Labels: tr.Labels, StartsAt: tr.At, EndsAt: tr.At, GeneratorURL: l.URL() + "/alerts"})
	}
	if len(batch) == 0 {
		return nil
	}
	body, err := json.Marshal(batch)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(l.cfg.AlertmanagerURL, "/")+"/api/v2/alerts", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := l.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	return nil
}
