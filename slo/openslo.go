package slo

import "go.yaml.in/yaml/v3"

func (w *walker) convertOpenSLO(docs []*yaml.Node) *Service {
	w.errf(docs[0], "", "OpenSLO import is being implemented")
	return nil
}
