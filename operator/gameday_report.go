package operator

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/chaos/chaosmesh"
	"github.com/slokit/slokit/chaos/report"
	"github.com/slokit/slokit/operator/api/v1alpha1"
)

// MaxReportBytes is the most a report ConfigMap's data may hold: the apiserver refuses
// a ConfigMap above 1 MiB (1,048,576 bytes), and the object's metadata needs room.
const MaxReportBytes = 1000 * 1024

// AnnotationReportNote explains on the ConfigMap what was compressed or left out.
const AnnotationReportNote = "slokit.dev/report-note"

// reportName is the ConfigMap of one run: <game day>-<run id>, cut to a valid name.
func reportName(gd *v1alpha1.GameDay, runID string) string {
	base := gd.Name
	if max := 253 - len(runID) - 1; len(base) > max {
		base = base[:max]
	}
	return base + "-" + runID
}

// reportConfigMap holds a run's result.json and report.html. When both exceed
// MaxReportBytes they are stored gzipped (binaryData result.json.gz, report.html.gz);
// when that is still too much the HTML report is left out, and then the result's
// per-poll samples; the annotation slokit.dev/report-note says which happened.
func reportConfigMap(gd *v1alpha1.GameDay, res *chaos.Result) (*corev1.ConfigMap, error) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Name: reportName(gd, res.RunID), Namespace: gd.Namespace,
		Labels: chaosmesh.RunLabels(chaos.Run{ID: res.RunID, GameDay: GameDayName(gd)}),
	}}
	result, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return nil, err
	}
	var page bytes.Buffer
	if err := report.Write(&page, res, report.Options{}); err != nil {
		return nil, err
	}
	if len(result)+page.Len() <= MaxReportBytes {
		cm.Data = map[string]string{"result.json": string(result), "report.html": page.String()}
		return cm, nil
	}
	zr, zp := gz(result), gz(page.Bytes())
	note := fmt.Sprintf("result.json (%d bytes) and report.html (%d bytes) exceed %d bytes; stored gzipped", len(result), page.Len(), MaxReportBytes)
	switch {
	case len(zr)+len(zp) <= MaxReportBytes:
		cm.BinaryData = map[string][]byte{"result.json.gz": zr, "report.html.gz": zp}
	case len(zr) <= MaxReportBytes:
		cm.BinaryData = map[string][]byte{"result.json.gz": zr}
		note += fmt.Sprintf("; report.html left out (%d bytes gzipped)", len(zp))
	default:
		slim := *res
		slim.Samples = nil
		b, err := json.Marshal(&slim)
		if err != nil {
			return nil, err
		}
		cm.BinaryData = map[string][]byte{"result.json.gz": gz(b)}
		note += fmt.Sprintf("; report.html and the result's %d samples left out", len(res.Samples))
	}
	cm.Annotations = map[string]string{AnnotationReportNote: note}
	return cm, nil
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	_, _ = w.Write(b)
	_ = w.Close()
	return out.Bytes()
}
