package operator

// ControllerGen is controller-gen, pinned: `go generate ./operator` writes the deep-copy
// methods of api/v1alpha1 and the CRD into the Helm chart; TestCRDUpToDate checks that
// the committed files are what it generates.
const ControllerGen = "sigs.k8s.io/controller-tools/cmd/controller-gen@v0.23.0"

// CRDDir is the chart's crds directory, relative to this package.
const CRDDir = "../deploy/helm/slokit-operator/crds"

//go:generate go run sigs.k8s.io/controller-tools/cmd/controller-gen@v0.23.0 object crd:allowDangerousTypes=true paths=./api/... output:crd:artifacts:config=../deploy/helm/slokit-operator/crds
