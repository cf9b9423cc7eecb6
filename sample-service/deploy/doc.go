// Package deploy holds the tests of the shortlink service's deployment artefacts: the
// Dockerfile, the Helm chart under helm/shortlink and the GitHub Actions workflow.
package deploy
