package slo

// Parse decodes and validates one spec file's bytes (slokit/v1, Sloth prometheus/v1 or
// OpenSLO v1), reporting every problem at once. The Service is nil when any error is found.
func Parse(file string, data []byte) (*Service, Diagnostics) {
	return nil, Diagnostics{{File: file, Message: "spec parsing is being implemented"}}
}

// LoadFiles reads and parses each path; diagnostics of every file are returned together.
func LoadFiles(paths ...string) ([]*Service, Diagnostics) {
	var out []*Service
	var all Diagnostics
	for _, p := range paths {
		s, ds := Parse(p, nil)
		all = append(all, ds...)
		if s != nil {
			out = append(out, s)
		}
	}
	return out, all
}
