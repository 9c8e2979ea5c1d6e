package deploy

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// manifests are the resources of one rendered overlay, decoded strictly (an
// unknown or misspelled field fails the test).
type manifests struct {
	deployments     []appsv1.Deployment
	services        []corev1.Service
	ingresses       []networkingv1.Ingress
	pdbs            []policyv1.PodDisruptionBudget
	networkPolicies []networkingv1.NetworkPolicy
	configMaps      []corev1.ConfigMap
	secrets         []corev1.Secret
	pvcs            []corev1.PersistentVolumeClaim
}

// render builds an overlay with kustomize from a copy of kubernetes/ in a
// temporary directory, with each overlay's git-ignored lhk-secret.env made
// from its example.
func render(t *testing.T, overlay string) *manifests {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("kubernetes")); err != nil {
		t.Fatal(err)
	}
	examples, _ := filepath.Glob(filepath.Join(dir, "overlays", "*", "lhk-secret.env.example"))
	for _, ex := range examples {
		b, err := os.ReadFile(ex)
		if err != nil {
			t.Fatal(err)
		}
		secret := strings.TrimSuffix(ex, ".example")
		if err := os.WriteFile(secret, []byte(strings.ReplaceAll(string(b), "LHK_ADMIN_TOKEN=\n", "LHK_ADMIN_TOKEN=test-token\n")), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(dir, "overlays", overlay))
	if err != nil {
		t.Fatalf("kustomize build %s: %v", overlay, err)
	}
	m := &manifests{}
	for _, r := range rm.Resources() {
		b, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		switch r.GetKind() {
		case "Deployment":
			err = decodeInto(&m.deployments, b)
		case "Service":
			err = decodeInto(&m.services, b)
		case "Ingress":
			err = decodeInto(&m.ingresses, b)
		case "PodDisruptionBudget":
			err = decodeInto(&m.pdbs, b)
		case "NetworkPolicy":
			err = decodeInto(&m.networkPolicies, b)
		case "ConfigMap":
			err = decodeInto(&m.configMaps, b)
		case "Secret":
			err = decodeInto(&m.secrets, b)
		case "PersistentVolumeClaim":
			err = decodeInto(&m.pvcs, b)
		default:
			t.Fatalf("%s: unexpected kind %s (%s)", overlay, r.GetKind(), r.GetName())
		}
		if err != nil {
			t.Fatalf("%s: decode %s %s: %v\n%s", overlay, r.GetKind(), r.GetName(), err, b)
		}
	}
	return m
}

// decodeInto decodes one resource strictly and appends it to list.
func decodeInto[T any](list *[]T, b []byte) error {
	var v T
	if err := yaml.UnmarshalStrict(b, &v); err != nil {
		return err
	}
	*list = append(*list, v)
	return nil
}

// subset reports whether every label of sel is in labels (and sel is not
// empty: an empty selector matches everything, never what we mean).
func subset(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// containerPort finds a port of c by name or number.
func containerPort(c corev1.Container, p intstr.IntOrString) (corev1.ContainerPort, bool) {
	for _, cp := range c.Ports {
		if (p.Type == intstr.String && cp.Name == p.StrVal) || (p.Type == intstr.Int && cp.ContainerPort == p.IntVal) {
			return cp, true
		}
	}
	return corev1.ContainerPort{}, false
}

// one returns the single item of s.
func one[T any](t *testing.T, what string, s []T) T {
	t.Helper()
	if len(s) != 1 {
		t.Fatalf("%d %s, want 1", len(s), what)
	}
	return s[0]
}

// env returns the container's variable name and whether it is set.
func env(c corev1.Container, name string) (corev1.EnvVar, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e, true
		}
	}
	return corev1.EnvVar{}, false
}

// listenPort returns the port of a host:port listen address.
func listenPort(t *testing.T, what, addr string) int32 {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("%s %q: %v", what, addr, err)
	}
	if host != "0.0.0.0" && host != "" {
		t.Errorf("%s %q listens on %s only: probes and the Service could not reach it", what, addr, host)
	}
	var n int32
	fmt.Sscan(port, &n)
	return n
}

// checkCommon checks what every overlay must get right.
func checkCommon(t *testing.T, m *manifests) checked {
	t.Helper()
	dep := one(t, "Deployments", m.deployments)
	pod := dep.Spec.Template
	c := one(t, "containers", pod.Spec.Containers)
	labels := pod.Labels
	cm := one(t, "ConfigMaps", m.configMaps)
	secret := one(t, "Secrets", m.secrets)
	svc := one(t, "Services", m.services)

	if dep.Spec.Selector == nil || !subset(dep.Spec.Selector.MatchLabels, labels) {
		t.Errorf("Deployment selector %v does not match its pod labels %v", dep.Spec.Selector, labels)
	}

	// Configuration: the ConfigMap and Secret the container names exist.
	cfg := map[string]string{}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef == nil || ef.ConfigMapRef.Name != cm.Name {
			t.Errorf("envFrom %+v does not name the ConfigMap %s", ef, cm.Name)
		}
	}
	if len(c.EnvFrom) == 0 {
		t.Error("the container takes no configuration from the ConfigMap")
	}
	for k, v := range cm.Data {
		cfg[k] = v
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			cfg[e.Name] = e.Value
			continue
		}
		if ref := e.ValueFrom.SecretKeyRef; ref != nil {
			if ref.Name != secret.Name {
				t.Errorf("%s comes from Secret %q, want %q", e.Name, ref.Name, secret.Name)
			}
			if _, ok := secret.Data[ref.Key]; !ok {
				t.Errorf("%s comes from key %q, which Secret %s lacks", e.Name, ref.Key, secret.Name)
			}
		}
	}
	if e, ok := env(c, "LHK_ADMIN_TOKEN"); !ok || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
		t.Error("LHK_ADMIN_TOKEN does not come from the Secret")
	}
	if e, ok := env(c, "LHK_REPLICA"); !ok || e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "metadata.name" {
		t.Error("LHK_REPLICA is not the pod's name")
	}
	for k, v := range cm.Data {
		if strings.Contains(strings.ToLower(k), "token") || strings.HasPrefix(v, "postgres") || k == "LHK_DB" {
			t.Errorf("the ConfigMap holds %s, which belongs in the Secret", k)
		}
	}

	// Ports: lhkd listens where the container says, and the named ports exist.
	http, ok := containerPort(c, intstr.FromString("http"))
	if !ok {
		t.Fatal("no container port named http")
	}
	if got := listenPort(t, "LHK_LISTEN", cfg["LHK_LISTEN"]); got != http.ContainerPort {
		t.Errorf("lhkd listens on %d, the http port is %d", got, http.ContainerPort)
	}
	metrics, ok := containerPort(c, intstr.FromString("metrics"))
	if !ok {
		t.Fatal("no container port named metrics")
	}
	if got := listenPort(t, "LHK_METRICS_LISTEN", cfg["LHK_METRICS_LISTEN"]); got != metrics.ContainerPort {
		t.Errorf("lhkd serves metrics on %d, the metrics port is %d", got, metrics.ContainerPort)
	}
	if v := pod.Annotations["prometheus.io/port"]; v != fmt.Sprint(metrics.ContainerPort) {
		t.Errorf("prometheus.io/port = %q, the metrics port is %d", v, metrics.ContainerPort)
	}

	// Probes: liveness and start-up on /healthz, readiness on /readyz, all
	// on the http port.
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}, {"startup", c.StartupProbe, "/healthz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("no HTTP %s probe", p.name)
			continue
		}
		g := p.probe.HTTPGet
		if g.Path != p.path {
			t.Errorf("%s probe path %q, want %q", p.name, g.Path, p.path)
		}
		if cp, ok := containerPort(c, g.Port); !ok || cp.ContainerPort != http.ContainerPort {
			t.Errorf("%s probe port %v is not the http port", p.name, g.Port.String())
		}
	}

	// Service: selects the pods, its ports target declared container ports.
	if !subset(svc.Spec.Selector, labels) {
		t.Errorf("Service selector %v does not match pod labels %v", svc.Spec.Selector, labels)
	}
	var svcHTTP *corev1.ServicePort
	for i, sp := range svc.Spec.Ports {
		cp, ok := containerPort(c, sp.TargetPort)
		if !ok {
			t.Errorf("Service port %s targets %s, which is no container port", sp.Name, sp.TargetPort.String())
		}
		if cp.Name == "http" {
			svcHTTP = &svc.Spec.Ports[i]
		}
	}
	if svcHTTP == nil {
		t.Fatal("no Service port targets the http container port")
	}

	// Ingress: to the Service's http port only (never metrics).
	ing := one(t, "Ingresses", m.ingresses)
	n := 0
	for _, rule := range ing.Spec.Rules {
		if rule.HTTP == nil {
			continue
		}
		for _, p := range rule.HTTP.Paths {
			n++
			b := p.Backend.Service
			if b == nil || b.Name != svc.Name {
				t.Errorf("Ingress path %s goes to %+v, not Service %s", p.Path, b, svc.Name)
				continue
			}
			if b.Port.Name != svcHTTP.Name && b.Port.Number != svcHTTP.Port {
				t.Errorf("Ingress path %s goes to port %+v, not the Service's http port", p.Path, b.Port)
			}
		}
	}
	if n == 0 {
		t.Error("the Ingress routes nothing")
	}

	// PodDisruptionBudget selects the pods and lets one go at a time.
	pdb := one(t, "PodDisruptionBudgets", m.pdbs)
	if pdb.Spec.Selector == nil || !subset(pdb.Spec.Selector.MatchLabels, labels) {
		t.Errorf("PDB selector %v does not match pod labels %v", pdb.Spec.Selector, labels)
	}
	if pdb.Spec.MaxUnavailable == nil && pdb.Spec.MinAvailable == nil {
		t.Error("the PDB bounds nothing")
	}

	// NetworkPolicies select the pods; together they let the http port in and DNS out.
	if len(m.networkPolicies) == 0 {
		t.Fatal("no NetworkPolicy")
	}
	httpIn, dnsOut := false, false
	for _, np := range m.networkPolicies {
		if !subset(np.Spec.PodSelector.MatchLabels, labels) {
			t.Errorf("NetworkPolicy %s selects %v, not the pods %v", np.Name, np.Spec.PodSelector.MatchLabels, labels)
		}
		for _, r := range np.Spec.Ingress {
			for _, p := range r.Ports {
				if p.Port == nil {
					continue
				}
				cp, ok := containerPort(c, *p.Port)
				if !ok {
					t.Errorf("NetworkPolicy %s allows port %s, which is no container port", np.Name, p.Port.String())
				}
				if cp.Name == "http" && len(r.From) == 0 {
					httpIn = true
				}
			}
		}
		for _, r := range np.Spec.Egress {
			for _, p := range r.Ports {
				if p.Port != nil && p.Port.IntValue() == 53 && p.Protocol != nil && *p.Protocol == corev1.ProtocolUDP {
					dnsOut = true
				}
			}
		}
	}
	if !httpIn {
		t.Error("no NetworkPolicy lets requests in on the http port")
	}
	if !dnsOut {
		t.Error("no NetworkPolicy lets DNS out")
	}

	// Security: non-root, read-only root filesystem, no capabilities.
	psc := pod.Spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Errorf("the pod may run as root: %+v", psc)
	}
	sc := c.SecurityContext
	switch {
	case sc == nil:
		t.Error("the container has no securityContext")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Error("the container's root filesystem is writable")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Error("the container may escalate privileges")
	case sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL"):
		t.Error("the container keeps its capabilities")
	case sc.RunAsUser != nil && *sc.RunAsUser == 0:
		t.Error("the container runs as root")
	}
	if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() {
		t.Errorf("resources incomplete: %+v", c.Resources)
	}

	// The data directory is a volume (the root filesystem is read-only), and
	// so is /tmp.
	mounts := map[string]string{}
	for _, vm := range c.VolumeMounts {
		mounts[vm.MountPath] = vm.Name
	}
	for _, path := range []string{cfg["LHK_DATA"], "/tmp"} {
		if path == "" || mounts[path] == "" {
			t.Errorf("nothing is mounted at %q", path)
		}
	}
	vols := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		vols[v.Name] = v
	}
	for _, name := range mounts {
		if _, ok := vols[name]; !ok {
			t.Errorf("mount of volume %q, which the pod lacks", name)
		}
	}

	// Draining: the grace period outlasts preStop plus the drain timeout.
	drain, err := time.ParseDuration(cfg["LHK_DRAIN_TIMEOUT"])
	if err != nil {
		t.Fatalf("LHK_DRAIN_TIMEOUT: %v", err)
	}
	var preStop time.Duration
	if lc := c.Lifecycle; lc != nil && lc.PreStop != nil && lc.PreStop.Sleep != nil {
		preStop = time.Duration(lc.PreStop.Sleep.Seconds) * time.Second
	}
	grace := 30 * time.Second // Kubernetes' default
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = time.Duration(*g) * time.Second
	}
	if grace <= preStop+drain {
		t.Errorf("terminationGracePeriodSeconds %v <= preStop %v + drain timeout %v: the kubelet kills lhkd mid-drain", grace, preStop, drain)
	}
	return checked{dep: dep, container: c, config: cfg, data: vols[mounts[cfg["LHK_DATA"]]]}
}

// checked is what checkCommon found, for the overlays' own checks.
type checked struct {
	dep       appsv1.Deployment
	container corev1.Container
	config    map[string]string // environment: ConfigMap and plain env
	data      corev1.Volume     // mounted at LHK_DATA
}

func TestReplicas(t *testing.T) {
	m := render(t, "replicas")
	r := checkCommon(t, m)
	if n := r.dep.Spec.Replicas; n == nil || *n != 3 {
		t.Errorf("replicas = %v, want 3", n)
	}
	e, ok := env(r.container, "LHK_DB")
	if !ok || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Key != "LHK_DB" {
		t.Errorf("LHK_DB does not come from the Secret: %+v", e)
	}
	if r.data.EmptyDir == nil {
		t.Error("with the registry on PostgreSQL the data directory (compile cache) should be an emptyDir")
	}
	if st := r.dep.Spec.Strategy; st.Type != appsv1.RollingUpdateDeploymentStrategyType || st.RollingUpdate == nil ||
		st.RollingUpdate.MaxUnavailable == nil || st.RollingUpdate.MaxUnavailable.IntValue() != 0 {
		t.Errorf("strategy %+v: a rolling update should never take a serving pod away first", st)
	}
	if len(r.dep.Spec.Template.Spec.TopologySpreadConstraints) == 0 {
		t.Error("no topology spread: the replicas may share a node")
	}
	for _, tsc := range r.dep.Spec.Template.Spec.TopologySpreadConstraints {
		if tsc.LabelSelector == nil || !subset(tsc.LabelSelector.MatchLabels, r.dep.Spec.Template.Labels) {
			t.Errorf("topology spread over %v does not select the pods", tsc.LabelSelector)
		}
	}
	if lc := r.container.Lifecycle; lc == nil || lc.PreStop == nil || lc.PreStop.Sleep == nil || lc.PreStop.Sleep.Seconds < 1 {
		t.Error("no preStop sleep: the Service may still route to a draining pod")
	}
	postgres := false
	for _, np := range m.networkPolicies {
		for _, r := range np.Spec.Egress {
			for _, p := range r.Ports {
				postgres = postgres || (p.Port != nil && p.Port.IntValue() == 5432)
			}
		}
	}
	if !postgres {
		t.Error("no NetworkPolicy lets lhkd reach PostgreSQL")
	}
}

func TestSingleNode(t *testing.T) {
	m := render(t, "single-node")
	r := checkCommon(t, m)
	if n := r.dep.Spec.Replicas; n == nil || *n != 1 {
		t.Errorf("replicas = %v, want 1", n)
	}
	if st := r.dep.Spec.Strategy; st.Type != appsv1.RecreateDeploymentStrategyType || st.RollingUpdate != nil {
		t.Errorf("strategy %+v, want Recreate: two pods must never share the SQLite volume", st)
	}
	if _, ok := env(r.container, "LHK_DB"); ok {
		t.Error("LHK_DB is set: the single node keeps its registry in SQLite")
	}
	if _, ok := r.config["LHK_DB"]; ok {
		t.Error("LHK_DB is configured: the single node keeps its registry in SQLite")
	}
	pvc := one(t, "PersistentVolumeClaims", m.pvcs)
	if r.data.PersistentVolumeClaim == nil || r.data.PersistentVolumeClaim.ClaimName != pvc.Name || r.data.EmptyDir != nil {
		t.Errorf("the data directory is %+v, want only the claim %s", r.data.VolumeSource, pvc.Name)
	}
	if !slices.Contains(pvc.Spec.AccessModes, corev1.ReadWriteOnce) || pvc.Spec.Resources.Requests.Storage().IsZero() {
		t.Errorf("claim %+v", pvc.Spec)
	}
	for _, np := range m.networkPolicies {
		if np.Name == "lhk-postgres" {
			t.Error("the single node has a PostgreSQL egress policy")
		}
	}
	if fs := r.dep.Spec.Template.Spec.SecurityContext.FSGroup; fs == nil || *fs == 0 {
		t.Error("no fsGroup: the volume may not be writable by the non-root user")
	}
}

// TestDockerfile reads the image recipe: a static, trimmed build and a final
// stage that runs lhkd serve as a non-root user on the port the manifests use.
func TestDockerfile(t *testing.T) {
	f, err := os.Open("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type stage struct {
		from  string
		lines []string
	}
	var stages []stage
	sc := bufio.NewScanner(f)
	var cont string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cont += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		line, cont = cont+line, ""
		op, rest, _ := strings.Cut(line, " ")
		switch strings.ToUpper(op) {
		case "FROM":
			stages = append(stages, stage{from: rest})
		default:
			if len(stages) > 0 {
				stages[len(stages)-1].lines = append(stages[len(stages)-1].lines, strings.ToUpper(op)+" "+rest)
			}
		}
	}
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a build stage and a final one", len(stages))
	}
	build := strings.Join(stages[0].lines, "\n")
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "./cmd/lhkd"} {
		if !strings.Contains(build, want) {
			t.Errorf("the build stage lacks %q", want)
		}
	}
	final := stages[len(stages)-1]
	if !strings.Contains(final.from, "distroless/static") && !strings.HasPrefix(final.from, "scratch") {
		t.Errorf("final stage from %q, want distroless/static or scratch", final.from)
	}
	var user, entry, cmd, expose string
	for _, l := range final.lines {
		op, rest, _ := strings.Cut(l, " ")
		switch op {
		case "USER":
			user = rest
		case "ENTRYPOINT":
			entry = rest
		case "CMD":
			cmd = rest
		case "EXPOSE":
			expose = rest
		}
	}
	uid, _, _ := strings.Cut(user, ":")
	if uid == "" || uid == "0" || uid == "root" {
		t.Errorf("the final stage runs as %q, want a non-root user", user)
	}
	if !regexp.MustCompile(`^[1-9][0-9]*$`).MatchString(uid) {
		t.Errorf("USER %q: use a numeric uid so runAsNonRoot can verify it", user)
	}
	run := entry + " " + cmd
	for _, want := range []string{"lhkd", `"serve"`, `"--listen", "0.0.0.0:8080"`, `"--data", "/data"`} {
		if !strings.Contains(run, want) {
			t.Errorf("entrypoint and command %s lack %s", run, want)
		}
	}
	if expose != "8080" {
		t.Errorf("EXPOSE %q, want 8080", expose)
	}
}
