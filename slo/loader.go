package slo

import (
	"fmt"
	"strings"

	"github.com/slokit/slokit/internal/strictyaml"
	"go.yaml.in/yaml/v3"
)

// loader reads the documents of several files and resolves what spans them (OpenSLO
// references, duplicate SLOs). Each file has its own walker, so that each diagnostic
// names the file it is about.
type loader struct {
	files []*loadedFile
	// openslo holds every OpenSLO object of every file, in file order.
	openslo []openSLOObject
}

type loadedFile struct {
	w        *walker
	services []*Service
}

func (lf *loadedFile) add(s *Service) {
	if s != nil {
		lf.services = append(lf.services, s)
	}
}

// format is the kind of spec a document holds.
type format int

const (
	formatUnknown format = iota
	formatV1
	formatSloth
	formatSlothK8s
	formatList
	formatOpenSLO
	formatPyrra
)

// file reads every document of f. walked is true for a file found by walking a
// directory: one holding no SLO spec is then skipped with a warning, not an error.
func (l *loader) file(f File, walked bool) {
	w := newWalker(f.Name, len(f.Data))
	lf := &loadedFile{w: w}
	w.lf = lf
	l.files = append(l.files, lf)
	if f.readErr != nil {
		w.Diags = append(w.Diags, Diagnostic{File: f.Name, Message: f.readErr.Error(), Err: f.readErr})
		w.Errs++
		return
	}
	if len(f.Data) > MaxFileSize {
		w.Errf(nil, "", "spec larger than %d MiB: split it into one file per service", MaxFileSize>>20)
		return
	}
	docs := w.Documents(f.Data)
	if w.Failed() {
		return
	}
	if walked && !anySpec(docs) {
		w.Warnf(nil, "", "skipped: no document is an SLO spec (version: %s or %s, or an OpenSLO, Sloth or Pyrra object)", VersionV1, VersionSloth)
		return
	}
	if len(docs) == 0 {
		w.Errf(nil, "", "empty file: a spec starts with version: %s", VersionV1)
		return
	}
	for _, d := range docs {
		l.document(lf, d, "")
		if w.Exhausted != nil {
			return
		}
	}
}

// document reads one document (or one item of a list) at path.
func (l *loader) document(lf *loadedFile, root *yaml.Node, path string) {
	w := lf.w
	root = w.Resolve(root)
	if root == nil {
		return
	}
	w.Scope = objectScope(root)
	switch w.detect(root, path) {
	case formatV1:
		w.format = formatV1
		lf.add(w.convertV1(w.decodeV1(root)))
	case formatSloth:
		w.format = formatSloth
		lf.add(w.convertSloth(w.decodeSloth(root, path, slothPromKeys)))
	case formatSlothK8s:
		w.format = formatSloth
		lf.add(w.slothK8s(root, path))
	case formatList:
		l.list(lf, root, path)
	case formatOpenSLO:
		if root.Kind == yaml.SequenceNode {
			for i, item := range root.Content {
				l.openslo = append(l.openslo, w.decodeOpenSLOObject(item, strictyaml.Index(path, i)))
			}
			return
		}
		l.openslo = append(l.openslo, w.decodeOpenSLOObject(root, path))
	case formatPyrra:
		lf.add(w.convertPyrra(root, path))
	}
	w.Scope = ""
}

// list reads the items of a Kubernetes List (kind: List, or a kind ending in List).
func (l *loader) list(lf *loadedFile, root *yaml.Node, path string) {
	w := lf.w
	f, ok := w.Fields(root, path, "apiVersion", "kind", "metadata", "items")
	if !ok {
		return
	}
	items, _ := w.seqAt(f["items"], strictyaml.Join(path, "items"))
	for i, item := range items {
		l.document(lf, item, strictyaml.Index(strictyaml.Join(path, "items"), i))
		if w.Exhausted != nil {
			return
		}
	}
}

// anySpec reports whether any document looks like a spec slokit reads.
func anySpec(docs []*yaml.Node) bool {
	for _, d := range docs {
		if d.Kind == yaml.SequenceNode && len(d.Content) > 0 {
			d = d.Content[0]
		}
		if v := lookup(d, "version"); v != nil && (v.Value == VersionV1 || v.Value == VersionSloth) {
			return true
		}
		if v := lookup(d, "apiVersion"); v != nil {
			k := lookup(d, "kind")
			if specAPIVersion(v.Value) || (k != nil && (k.Value == "List" || strings.HasSuffix(k.Value, "List")) && hasSpecItem(d)) {
				return true
			}
		}
	}
	return false
}

func hasSpecItem(list *yaml.Node) bool {
	for i := 0; i+1 < len(list.Content); i += 2 {
		if list.Content[i].Value == "items" && list.Content[i+1].Kind == yaml.SequenceNode {
			return anySpec(list.Content[i+1].Content)
		}
	}
	return false
}

func specAPIVersion(v string) bool {
	return strings.HasPrefix(v, "openslo/") || strings.HasPrefix(v, "sloth.slok.dev/") || strings.HasPrefix(v, "pyrra.dev/")
}

// finish drops the services of files with errors and SLOs defined twice, and gathers
// every diagnostic, file by file.
func (l *loader) finish() ([]*Service, Diagnostics) {
	var out []*Service
	var all Diagnostics
	seen := map[string]string{} // objective ID → file
	for _, lf := range l.files {
		w := lf.w
		if w.Exhausted != nil {
			all = append(all, *w.Exhausted)
			continue
		}
		if !w.Failed() {
			for _, s := range groupServices(lf.services, w.File) {
				if l.unique(w, s, seen) {
					out = append(out, s)
				}
			}
		}
		w.Diags.Sort()
		all = append(all, w.Diags...)
	}
	return out, all
}

// unique records s's objectives in seen and reports whether none was defined before;
// a duplicate is an error of w's file.
func (l *loader) unique(w *walker, s *Service, seen map[string]string) bool {
	ok := true
	for _, o := range s.Objectives {
		if first, dup := seen[o.ID()]; dup {
			where := "in " + first
			if first == w.File {
				where = "earlier in this file"
			}
			w.Diags = append(w.Diags, Diagnostic{File: w.File, Message: fmt.Sprintf(
				"service %q SLO %q is also defined %s: its rules would collide; keep one definition", o.Service, o.Name, where)})
			w.Errs++
			ok = false
			continue
		}
		seen[o.ID()] = w.File
	}
	return ok
}

// groupServices joins the services of one file that share a name, in first-seen order,
// and sets their Source.
func groupServices(in []*Service, file string) []*Service {
	var out []*Service
	byName := map[string]*Service{}
	for _, s := range in {
		s.Source = file
		if s.Labels == nil {
			s.Labels = map[string]string{}
		}
		if m, ok := byName[s.Name]; ok {
			m.Objectives = append(m.Objectives, s.Objectives...)
			for k, v := range s.Origins {
				withOrigins(m, k, v)
			}
			continue
		}
		byName[s.Name] = s
		out = append(out, s)
	}
	return out
}

// detect tells the format of a document from its version, or apiVersion and kind.
func (w *walker) detect(root *yaml.Node, path string) format {
	if root.Kind == yaml.SequenceNode && len(root.Content) > 0 {
		// OpenSLO allows a list of objects in one document.
		if first := w.Resolve(root.Content[0]); first != nil && first.Kind == yaml.MappingNode {
			if v := lookup(first, "apiVersion"); v != nil && strings.HasPrefix(v.Value, "openslo/") {
				return formatOpenSLO
			}
		}
	}
	if root.Kind != yaml.MappingNode {
		w.Errf(root, path, "must be a mapping starting with version: %s, got %s", VersionV1, strictyaml.KindName(root))
		return formatUnknown
	}
	if v := lookup(root, "version"); v != nil {
		switch v.Value {
		case VersionV1:
			return formatV1
		case VersionSloth:
			return formatSloth
		}
		w.Errf(v, strictyaml.Join(path, "version"), "unsupported version %q: %s", v.Value, readsWhat)
		return formatUnknown
	}
	v := lookup(root, "apiVersion")
	if v == nil {
		w.Missing(root, strictyaml.Join(path, "version"), "required: start the file with version: %s (or %s for Sloth files, apiVersion: %s for OpenSLO)", VersionV1, VersionSloth, APIVersionOpenSLO)
		return formatUnknown
	}
	return w.detectKind(root, v, path)
}

// readsWhat lists the formats slokit reads, for messages.
var readsWhat = fmt.Sprintf("slokit reads version: %s, Sloth's version: %s and apiVersion: %s (kind %s), OpenSLO's apiVersion: %s or %s, and Pyrra's apiVersion: %s (kind %s)",
	VersionV1, VersionSloth, APIVersionSlothK8s, KindSlothK8s, APIVersionOpenSLO, APIVersionOpenSLOAlpha, APIVersionPyrra, KindPyrra)

func (w *walker) detectKind(root, v *yaml.Node, path string) format {
	kind := ""
	k := lookup(root, "kind")
	if k != nil {
		kind = k.Value
	}
	vp := strictyaml.Join(path, "apiVersion")
	switch {
	case v.Value == APIVersionOpenSLO || v.Value == APIVersionOpenSLOAlpha:
		return formatOpenSLO
	case strings.HasPrefix(v.Value, "openslo/"):
		w.Errf(v, vp, "unsupported OpenSLO version %q: slokit reads apiVersion: %s and %s", v.Value, APIVersionOpenSLO, APIVersionOpenSLOAlpha)
	case kind == "List" || (strings.HasSuffix(kind, "List") && (v.Value == APIVersionSlothK8s || v.Value == APIVersionPyrra)):
		return formatList
	case v.Value == APIVersionSlothK8s && kind == KindSlothK8s:
		return formatSlothK8s
	case v.Value == APIVersionSlothK8s && kind == "AlertWindows":
		w.Errf(k, strictyaml.Join(path, "kind"), "Sloth AlertWindows are not read: give the tiers in a slokit/v1 spec's alerting.windows (slokit convert writes one)")
	case v.Value == APIVersionPyrra && kind == KindPyrra:
		return formatPyrra
	case specAPIVersion(v.Value) && k != nil:
		w.Errf(k, strictyaml.Join(path, "kind"), "kind %q of %s is not an SLO: %s", kind, v.Value, readsWhat)
	default:
		w.Errf(v, vp, "unsupported apiVersion %q: %s", v.Value, readsWhat)
	}
	return formatUnknown
}
