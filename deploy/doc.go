// Package deploy holds what runs lhkd for real, and no Go code: the container
// image recipe (Dockerfile) and the Kubernetes manifests (kubernetes/, a
// kustomize base and the overlays replicas and single-node). Its test renders
// every overlay with kustomize and checks that ports, probes, selectors and
// the security settings fit together. docs/operations.md explains their use.
package deploy
