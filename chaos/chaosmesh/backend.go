// Package chaosmesh injects game-day faults as Chaos Mesh custom resources and reads
// from them when each fault really began and ended.
package chaosmesh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/internal/kube"
	"github.com/slokit/slokit/slo"
)

// BackendName is the fault.backend value that selects Chaos Mesh.
const BackendName = "chaosmesh"

// Backend builds Chaos Mesh injectors and sweeps what runs left behind.
type Backend struct {
	// Kube selects the cluster. The zero value follows kubectl ($KUBECONFIG,
	// ~/.kube/config, then in-cluster).
	Kube kube.Options
	// Client, if set, is used instead of a client built from Kube; Namespace must then
	// be set in Kube or in every fault.
	Client client.Client
	// Log receives progress; nil discards it.
	Log *slog.Logger
	// PollInterval is the time between two reads of an object's status; 0 means 1s.
	PollInterval time.Duration
	// SweepTimeout bounds Sweep's wait for the deleted objects to be gone; 0 means
	// DefaultRemoveTimeout.
	SweepTimeout time.Duration

	once      sync.Once
	c         client.Client
	namespace string
	err       error
}

var (
	_ chaos.Backend = (*Backend)(nil)
	_ chaos.Sweeper = (*Backend)(nil)
)

// Name implements chaos.Backend.
func (b *Backend) Name() string { return BackendName }

// Parse implements chaos.Backend: the typed fault is a *Fault; see ParseFault for the
// parameters.
func (b *Backend) Parse(file string, params *yaml.Node) (chaos.FaultParams, slo.Diagnostics) {
	f, ds := ParseFault(file, params)
	if len(ds.Errors()) > 0 || f == nil {
		return nil, ds
	}
	return f, ds
}

// New implements chaos.Backend: it builds the injector of run's fault. Nothing is sent
// to the cluster before Inject.
func (b *Backend) New(params chaos.FaultParams, run chaos.Run) (chaos.Injector, error) {
	f, ok := params.(*Fault)
	if !ok || f == nil {
		return nil, fmt.Errorf("chaosmesh: params %T are not from Backend.Parse", params)
	}
	return b.Injector(f, run)
}

// Injector builds the injector of a parsed fault for run.
func (b *Backend) Injector(f *Fault, run chaos.Run) (*Injector, error) {
	if run.ID == "" {
		return nil, errors.New("chaosmesh: the run has no ID to label its objects with")
	}
	c, ns, err := b.client()
	if err != nil {
		return nil, err
	}
	if f.Namespace != "" {
		ns = f.Namespace
	}
	if ns == "" {
		return nil, errors.New("chaosmesh: no namespace; set namespace in the fault parameters or in the kubeconfig context")
	}
	k, _ := kindNamed(f.Kind)
	obj := f.Object.DeepCopyObject().(chaosObject)
	name := f.Name
	if name == "" {
		name = ObjectName(run)
	}
	if !oneShot(f.Kind, f.Action) && run.Timeout > 0 {
		var err error
		if obj, err = expireWithRun(obj, run.Timeout); err != nil {
			return nil, err
		}
	}
	obj.SetName(name)
	obj.SetNamespace(ns)
	obj.SetLabels(RunLabels(run))
	obj.SetAnnotations(map[string]string{AnnotationGameDay: run.GameDay})
	return &Injector{
		c: c, kind: k, fault: *f, run: run, poll: b.poll(), log: b.logger(),
		obj: obj,
	}, nil
}

// RunLabels returns the labels of every object created for run.
func RunLabels(run chaos.Run) map[string]string {
	return map[string]string{
		LabelManagedBy: ManagedBy,
		LabelRunID:     labelValue(run.ID),
		LabelGameDay:   labelValue(run.GameDay),
	}
}

// ObjectName returns the default object name of run's fault: slokit-<gameday>-<run id>.
func ObjectName(run chaos.Run) string {
	id := dnsPart(run.ID, 20)
	gd := dnsPart(run.GameDay, 63-len("slokit--")-len(id))
	if gd == "" {
		return "slokit-" + id
	}
	return "slokit-" + gd + "-" + id
}

var (
	notLabel = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)
	notDNS   = regexp.MustCompile(`[^a-z0-9-]+`)
)

// labelValue makes s a valid label value (at most 63 of [A-Za-z0-9_.-], alphanumeric ends).
func labelValue(s string) string {
	s = notLabel.ReplaceAllString(s, "-")
	if len(s) > 63 {
		s = s[:63]
	}
	return strings.Trim(s, "-_.")
}

func dnsPart(s string, max int) string {
	s = notDNS.ReplaceAllString(strings.ToLower(s), "-")
	if len(s) > max {
		s = s[:max]
	}
	return strings.Trim(s, "-")
}

func (b *Backend) poll() time.Duration {
	if b.PollInterval > 0 {
		return b.PollInterval
	}
	return time.Second
}

func (b *Backend) logger() *slog.Logger {
	if b.Log != nil {
		return b.Log
	}
	return slog.New(slog.DiscardHandler)
}

// client returns the cluster client and the default namespace, built once.
func (b *Backend) client() (client.Client, string, error) {
	b.once.Do(func() {
		if b.Client != nil {
			b.c, b.namespace = b.Client, b.Kube.Namespace
			return
		}
		cfg, ns, err := kube.Config(b.Kube)
		if err != nil {
			b.err = fmt.Errorf("chaosmesh: %w", err)
			return
		}
		b.c, b.err = kube.NewClient(cfg)
		b.namespace = ns
	})
	return b.c, b.namespace, b.err
}

// Sweep implements chaos.Sweeper: it deletes every Chaos Mesh object slokit created
// for runID (every run when runID is "") and waits for them to be gone. It looks in
// all namespaces when allowed, else in the configured namespace. Objects held by a
// finalizer are reported with Chaos Mesh's escape annotation, never forced.
func (b *Backend) Sweep(ctx context.Context, runID string) ([]string, error) {
	c, ns, err := b.client()
	if errors.Is(err, kube.ErrNoConfig) {
		b.logger().Info("no Kubernetes cluster configured; nothing to sweep")
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	sel := client.MatchingLabels{LabelManagedBy: ManagedBy}
	if runID != "" {
		sel[LabelRunID] = labelValue(runID)
	}
	type left struct {
		kind kind
		obj  chaosObject
	}
	var found []left
	for _, k := range kinds {
		list := k.newList()
		err := c.List(ctx, list, sel)
		if apierrors.IsForbidden(err) && ns != "" {
			b.logger().Info("listing in all namespaces is forbidden; sweeping one namespace", "kind", k.name, "namespace", ns)
			err = c.List(ctx, list, sel, client.InNamespace(ns))
		}
		if err != nil {
			return nil, apiError("list", k.name+" objects", err)
		}
		for _, item := range list.GetItems() {
			found = append(found, left{k, item.(chaosObject)})
		}
	}
	var deleted []left
	var removed []string
	var errs []error
	for _, l := range found {
		if err := c.Delete(ctx, l.obj, client.PropagationPolicy("Background")); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, apiError("delete", l.kind.name+" "+l.obj.GetNamespace()+"/"+l.obj.GetName(), err))
			continue
		}
		deleted = append(deleted, l)
	}
	// Wait for the deletions to complete so that a stuck finalizer is reported.
	timeout := b.SweepTimeout
	if timeout <= 0 {
		timeout = DefaultRemoveTimeout
	}
	deadline := time.Now().Add(timeout)
	for _, l := range deleted {
		for {
			cur := l.kind.newObj()
			err := c.Get(ctx, client.ObjectKeyFromObject(l.obj), cur)
			if apierrors.IsNotFound(err) {
				removed = append(removed, fmt.Sprintf("%s %s/%s", l.kind.name, l.obj.GetNamespace(), l.obj.GetName()))
				break
			}
			if err != nil {
				errs = append(errs, apiError("read", l.kind.name+" "+l.obj.GetName(), err))
				break
			}
			if time.Now().After(deadline) {
				errs = append(errs, stuckError(l.kind.name, cur, timeout))
				break
			}
			if err := sleep(ctx, b.poll()); err != nil {
				return removed, err
			}
		}
	}
	return removed, errors.Join(errs...)
}

// expireWithRun gives a fault without spec.duration the run's timeout as its duration:
// Chaos Mesh then ends it by itself if slokit dies and nobody runs cleanup. A duration
// the game day set is kept.
func expireWithRun(obj chaosObject, timeout time.Duration) (chaosObject, error) {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("chaosmesh: %w", err)
	}
	spec, _ := u["spec"].(map[string]any)
	if spec == nil || spec["duration"] != nil {
		return obj, nil
	}
	spec["duration"] = timeout.String()
	out := obj.DeepCopyObject().(chaosObject)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u, out); err != nil {
		return nil, fmt.Errorf("chaosmesh: setting spec.duration: %w", err)
	}
	return out, nil
}
