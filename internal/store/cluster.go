package store

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/slokit/slokit/chaos"
)

// Imported is one result read by ParseFile and where it came from: the file, or the file
// and the report ConfigMap in it.
type Imported struct {
	Result *chaos.Result
	From   string
}

// maxUnzipped bounds a gzipped result once decompressed (an 11-hour run of 1s polls is
// about 6 MB).
const maxUnzipped = 256 << 20

// ParseFile reads what `slokit chaos import` takes: a result (what `slokit chaos run
// --result` and the demo write), the same gzipped, or the report ConfigMaps the operator
// keeps for each GameDay run as `kubectl get configmap NAME -o json` or `kubectl get
// configmaps -l slokit.dev/run-id -o json` print them (one ConfigMap or a List): each
// one's data "result.json" or binaryData "result.json.gz". In a List, ConfigMaps without
// either are skipped; a List without any is an error. Errors carry file:line:col; inside
// a ConfigMap, the file is named "FILE: ConfigMap NAMESPACE/NAME result.json" and the
// position is within that result. The results read before an error are returned with it.
func ParseFile(file string, data []byte) ([]Imported, error) {
	if isGzip(data) {
		raw, err := gunzip(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		data = raw
	}
	var probe struct {
		Kind  string            `json:"kind"`
		Items []json.RawMessage `json:"items"`
	}
	if json.Unmarshal(data, &probe) != nil {
		probe.Kind = "" // not JSON, or not this shape: ParseResult says where
	}
	switch probe.Kind {
	case "ConfigMap":
		imp, ok, err := parseConfigMap(file, data)
		if err == nil && !ok {
			err = fmt.Errorf("%s: %s holds no result.json or result.json.gz: not a slokit game-day report", file, cmName(data))
		}
		if err != nil {
			return nil, err
		}
		return []Imported{imp}, nil
	case "List", "ConfigMapList":
		return parseList(file, probe.Items)
	}
	res, err := ParseResult(file, data)
	if err != nil {
		return nil, err
	}
	return []Imported{{Result: res, From: file}}, nil
}

func parseList(file string, items []json.RawMessage) ([]Imported, error) {
	var out []Imported
	var errs []error
	for _, item := range items {
		imp, ok, err := parseConfigMap(file, item)
		switch {
		case err != nil:
			errs = append(errs, err)
		case ok:
			out = append(out, imp)
		}
	}
	if len(out) == 0 && len(errs) == 0 {
		return nil, fmt.Errorf("%s: a List of %d objects without a slokit game-day report (ConfigMaps labelled slokit.dev/run-id hold them)", file, len(items))
	}
	return out, errors.Join(errs...)
}

// configMap is what import reads of a ConfigMap.
type configMap struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Data       map[string]string `json:"data"`
	BinaryData map[string][]byte `json:"binaryData"` // base64 in JSON
}

func cmName(data []byte) string {
	var cm configMap
	_ = json.Unmarshal(data, &cm)
	return "ConfigMap " + cm.Metadata.Namespace + "/" + cm.Metadata.Name
}

// parseConfigMap reads the result of one report ConfigMap; ok is false when it holds
// none (another object, or another ConfigMap).
func parseConfigMap(file string, data []byte) (imp Imported, ok bool, err error) {
	var cm configMap
	if err := json.Unmarshal(data, &cm); err != nil {
		return imp, false, fmt.Errorf("%s: a List item: %w", file, err)
	}
	where := fmt.Sprintf("%s: ConfigMap %s/%s", file, cm.Metadata.Namespace, cm.Metadata.Name)
	var raw []byte
	name := ""
	switch {
	case cm.Kind != "ConfigMap":
		return imp, false, nil
	case cm.Data["result.json"] != "":
		raw, name = []byte(cm.Data["result.json"]), "result.json"
	case cm.BinaryData["result.json.gz"] != nil:
		name = "result.json.gz"
		if raw, err = gunzip(cm.BinaryData[name]); err != nil {
			return imp, false, fmt.Errorf("%s %s: %w", where, name, err)
		}
	default:
		return imp, false, nil
	}
	res, err := ParseResult(where+" "+name, raw)
	if err != nil {
		return imp, false, err
	}
	return Imported{Result: res, From: where}, true, nil
}

func isGzip(data []byte) bool { return len(data) > 2 && data[0] == 0x1f && data[1] == 0x8b }

func gunzip(data []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	raw, err := io.ReadAll(io.LimitReader(zr, maxUnzipped+1))
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if len(raw) > maxUnzipped {
		return nil, fmt.Errorf("gzip: more than %d MiB once decompressed", maxUnzipped>>20)
	}
	return raw, nil
}
