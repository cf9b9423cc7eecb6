package serve

import (
	"fmt"
	"strconv"
	"time"

	jsoniter "github.com/json-iterator/go"

	"github.com/slokit/slokit/slo"
)

// apiAnswer is what the pages keep of an /api/v1/query or /api/v1/query_range answer.
type apiAnswer struct {
	Status, ErrorType, Error, ResultType string
	Samples                              []Sample // a vector
	Series                               []Series // a matrix
}

// decodeAnswer reads a Prometheus API answer with a streaming decoder that keeps only
// the labels the pages read (names from slo/names.go and Prometheus' ALERTS) and turns
// each value into a float on the way: with 1,000 SLOs the generic decoding into maps
// and interfaces was most of the UI's CPU. NaN and ±Inf values are dropped (no data).
func decodeAnswer(body []byte) (*apiAnswer, error) {
	it := jsoniter.ConfigFastest.BorrowIterator(body)
	defer jsoniter.ConfigFastest.ReturnIterator(it)
	a := &apiAnswer{}
	it.ReadObjectCB(func(it *jsoniter.Iterator, field string) bool {
		switch field {
		case "status":
			a.Status = it.ReadString()
		case "errorType":
			a.ErrorType = it.ReadString()
		case "error":
			a.Error = it.ReadString()
		case "data":
			it.ReadObjectCB(func(it *jsoniter.Iterator, field string) bool {
				switch field {
				case "resultType":
					a.ResultType = it.ReadString()
				case "result":
					it.ReadArrayCB(func(it *jsoniter.Iterator) bool { a.readResult(it); return true })
				default:
					it.Skip()
				}
				return true
			})
		default:
			it.Skip()
		}
		return true
	})
	if it.Error != nil {
		return nil, it.Error
	}
	return a, nil
}

// readResult reads one element of a vector or matrix.
func (a *apiAnswer) readResult(it *jsoniter.Iterator) {
	var l Labels
	var sample *Sample
	var points []Point
	isMatrix := false
	it.ReadObjectCB(func(it *jsoniter.Iterator, field string) bool {
		switch field {
		case "metric":
			l = readLabels(it)
		case "value":
			if p, ok := readPair(it); ok {
				sample = &Sample{V: p.V}
			}
		case "values":
			isMatrix = true
			it.ReadArrayCB(func(it *jsoniter.Iterator) bool {
				if p, ok := readPair(it); ok {
					points = append(points, p)
				}
				return true
			})
		default:
			it.Skip()
		}
		return true
	})
	switch {
	case isMatrix:
		a.Series = append(a.Series, Series{Labels: l, Points: points})
	case sample != nil:
		sample.Labels = l
		a.Samples = append(a.Samples, *sample)
	}
}

// readLabels keeps the labels of Labels and skips the others.
func readLabels(it *jsoniter.Iterator) Labels {
	var l Labels
	it.ReadObjectCB(func(it *jsoniter.Iterator, name string) bool {
		switch name {
		case slo.LabelService:
			l.Service = it.ReadString()
		case slo.LabelSLO:
			l.SLO = it.ReadString()
		case slo.LabelWindow:
			l.Window = it.ReadString()
		case slo.LabelSeverity:
			l.Severity = it.ReadString()
		case "alertname":
			l.AlertName = it.ReadString()
		case "alertstate":
			l.AlertState = it.ReadString()
		default:
			it.Skip()
		}
		return true
	})
	return l
}

// readPair reads [unix seconds, "value"]; ok is false for NaN, ±Inf and malformed pairs.
func readPair(it *jsoniter.Iterator) (p Point, ok bool) {
	i := 0
	var ts float64
	var v float64
	good := true
	it.ReadArrayCB(func(it *jsoniter.Iterator) bool {
		switch i {
		case 0:
			if it.WhatIsNext() != jsoniter.NumberValue {
				good = false
				it.Skip()
				break
			}
			ts = it.ReadFloat64()
		case 1:
			if it.WhatIsNext() != jsoniter.StringValue {
				good = false
				it.Skip()
				break
			}
			var err error
			v, err = strconv.ParseFloat(it.ReadString(), 64)
			good = good && err == nil && v == v && v <= 1e308 && v >= -1e308
		default:
			it.Skip()
		}
		i++
		return true
	})
	if !good || i != 2 {
		return Point{}, false
	}
	return Point{T: time.UnixMilli(int64(ts * 1000)).UTC(), V: v}, true
}

// check turns an answer's status into an error and checks its result type.
func (a *apiAnswer) check(want string) error {
	if a.Status == "" {
		return fmt.Errorf("not a Prometheus API answer")
	}
	if a.Status != "success" {
		return fmt.Errorf("%s: %s", a.ErrorType, a.Error)
	}
	if a.ResultType != want {
		return fmt.Errorf("want a %s, got a %s", want, a.ResultType)
	}
	return nil
}
