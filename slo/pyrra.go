package slo

import "go.yaml.in/yaml/v3"

func (w *walker) convertPyrra(root *yaml.Node, path string) *Service {
	w.errf(root, path, "Pyrra ServiceLevelObjectives are not read yet")
	return nil
}
