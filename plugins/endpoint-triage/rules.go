package main

import (
	"cmp"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"

	"github.com/lhk-soc/lhk/pdk"
)

// The rules. Each is a plain function of the collected telemetry, so what
// makes a finding can be read here and tested on the developer's machine.
const (
	RuleEncodedPowerShell  = "encoded-powershell"  // PowerShell with -enc/-e, FromBase64String, IEX, DownloadString…
	RuleOfficeSpawnsShell  = "office-spawns-shell" // WINWORD, EXCEL, OUTLOOK, wscript, mshta… starting a shell
	RuleRunKeyPersistence  = "run-key-persistence" // a value written under a Run/RunOnce/Winlogon key
	RuleServicePersistence = "service-persistence" // a service's ImagePath written, or sc create / New-Service
	RuleBeaconing          = "beaconing"           // many connections to one external address at regular intervals
	RuleLateralLogon       = "lateral-logon"       // a network (3) or remote interactive (10) logon from a workstation to a server
	RuleIOCMatch           = "ioc-match"           // an indicator of the config key iocs in the telemetry
)

// str returns the first of the named fields that holds a string or a
// number, formatted.
func str(e pdk.Event, names ...string) string {
	for _, n := range names {
		switch v := e[n].(type) {
		case string:
			if v != "" && v != "-" {
				return v
			}
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			return strconv.FormatBool(v)
		}
	}
	return ""
}

// strs returns the string values of a field holding a string or a list.
func strs(e pdk.Event, name string) []string {
	switch v := e[name].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// proc is a process of the collection with its parent in the tree.
type proc struct {
	*pdk.ProcessNode
	Parent *proc
}

// parentName is the name of the process's parent: from its creation record,
// else from the tree.
func (p *proc) parentName() string {
	if p.ParentName != "" {
		return baseName(p.ParentName)
	}
	if p.Parent != nil {
		return p.Parent.Name
	}
	return ""
}

// flatten lists the processes of a tree, parents before children.
func flatten(roots []*pdk.ProcessNode) []*proc {
	var out []*proc
	var walk func(n *pdk.ProcessNode, parent *proc)
	walk = func(n *pdk.ProcessNode, parent *proc) {
		p := &proc{ProcessNode: n, Parent: parent}
		out = append(out, p)
		for _, c := range n.Children {
			walk(c, p)
		}
	}
	for _, r := range roots {
		walk(r, nil)
	}
	return out
}

// baseName returns the last element of a Windows or Unix path.
func baseName(p string) string {
	if i := strings.LastIndexAny(p, `\/`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// nameIn reports whether a process name is in a set of lower-case names.
func nameIn(name string, set map[string]bool) bool {
	return set[strings.ToLower(baseName(strings.TrimSpace(name)))]
}

var (
	powershellNames = map[string]bool{"powershell.exe": true, "pwsh.exe": true, "powershell_ise.exe": true, "powershell": true, "pwsh": true}
	// officeAndScriptHosts are parents that should not start shells.
	officeAndScriptHosts = map[string]bool{
		"winword.exe": true, "excel.exe": true, "powerpnt.exe": true, "outlook.exe": true, "msaccess.exe": true,
		"mspub.exe": true, "onenote.exe": true, "visio.exe": true,
		"wscript.exe": true, "cscript.exe": true, "mshta.exe": true,
	}
	// shells are children that Office and script hosts should not start.
	shells = map[string]bool{
		"powershell.exe": true, "pwsh.exe": true, "cmd.exe": true,
		"wscript.exe": true, "cscript.exe": true, "mshta.exe": true,
		"rundll32.exe": true, "regsvr32.exe": true,
	}
	// suspiciousWriters are processes whose registry writes are suspect.
	suspiciousWriters = map[string]bool{
		"powershell.exe": true, "pwsh.exe": true, "cmd.exe": true, "wscript.exe": true, "cscript.exe": true,
		"mshta.exe": true, "rundll32.exe": true, "regsvr32.exe": true, "reg.exe": true,
		"winword.exe": true, "excel.exe": true, "powerpnt.exe": true, "outlook.exe": true,
	}
	rePowerShell = regexp.MustCompile(`(?i)\b(?:powershell|pwsh)(?:\.exe)?\b`)
	// psMarkers are the obfuscation and download-cradle words of the
	// encoded-powershell rule, besides the -EncodedCommand switch.
	psMarkers = []struct {
		name string
		re   *regexp.Regexp
	}{
		{"FromBase64String", regexp.MustCompile(`(?i)frombase64string`)},
		{"IEX", regexp.MustCompile(`(?i)(?:^|[^\w-])iex(?:[^\w-]|$)`)},
		{"Invoke-Expression", regexp.MustCompile(`(?i)invoke-expression`)},
		{"DownloadString", regexp.MustCompile(`(?i)downloadstring`)},
		{"DownloadFile", regexp.MustCompile(`(?i)downloadfile`)},
	}
	reServiceCreate = regexp.MustCompile(`(?i)(?:\bsc(?:\.exe)?["']?\s+(?:\\\\\S+\s+)?create\b|\bnew-service\b)`)
	reRunKey        = regexp.MustCompile(`(?i)\\(?:software\\(?:wow6432node\\)?microsoft\\windows\\currentversion\\(?:run|runonce|runonceex|runservices|runservicesonce|policies\\explorer\\run)|software\\microsoft\\windows nt\\currentversion\\winlogon\\(?:userinit|shell))(?:\\|$)`)
	reServiceKey    = regexp.MustCompile(`(?i)\\system\\(?:currentcontrolset|controlset\d{3})\\services\\([^\\]+)\\imagepath$`)
	// suspiciousData are words that make a persistence entry high severity:
	// script hosts and LOLBins, encoded commands, URLs, world-writable or
	// temporary folders. (AppData alone is not: Teams and Zoom live there.)
	suspiciousData = []string{`\temp\`, `\users\public\`, `powershell`, `pwsh`,
		`cmd.exe /c`, `cmd /c`, `mshta`, `wscript`, `cscript`, `rundll32`, `regsvr32`, ` -enc`, ` -e `, `http://`, `https://`, `frombase64string`}
)

// encodedFlag reports whether a command-line word is PowerShell's
// -EncodedCommand switch or an abbreviation of it (-e, -en, -enc, -ec…).
func encodedFlag(word string) bool {
	w, ok := strings.CutPrefix(word, "-")
	if !ok {
		w, ok = strings.CutPrefix(word, "/")
	}
	if !ok || w == "" {
		return false
	}
	w = strings.ToLower(w)
	return strings.HasPrefix("encodedcommand", w) || w == "ec"
}

// PowerShellMarkers returns what makes a PowerShell command line encoded or
// obfuscated ("-enc", "FromBase64String", "IEX"…) and the decoded start of an
// -EncodedCommand payload when there is one. A command line that does not
// run PowerShell has no markers.
func PowerShellMarkers(name, cmd string) (markers []string, decoded string) {
	if !nameIn(name, powershellNames) && !rePowerShell.MatchString(cmd) {
		return nil, ""
	}
	words := strings.Fields(cmd)
	for i, w := range words {
		if encodedFlag(w) {
			markers = append(markers, strings.ToLower(w))
			if i+1 < len(words) {
				decoded = decodePowerShell(words[i+1])
			}
			break
		}
	}
	for _, m := range psMarkers {
		if m.re.MatchString(cmd) {
			markers = append(markers, m.name)
		}
	}
	return markers, decoded
}

// decodePowerShell decodes an -EncodedCommand payload (base64 of UTF-16LE)
// and returns its start, printable, or "" when it is not one.
func decodePowerShell(s string) string {
	s = strings.Trim(s, `"'`)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
		if err != nil {
			// A truncated payload: decode what is whole.
			n := len(s) / 4 * 4
			if b, err = base64.StdEncoding.DecodeString(s[:n]); err != nil || n == 0 {
				return ""
			}
		}
	}
	if len(b) < 2 {
		return ""
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	text := string(utf16.Decode(u))
	var sb strings.Builder
	for _, r := range text {
		if !unicode.IsPrint(r) && r != ' ' {
			if unicode.IsSpace(r) {
				sb.WriteRune(' ')
				continue
			}
			return "" // not text: not an encoded command
		}
		sb.WriteRune(r)
		if sb.Len() >= 120 {
			sb.WriteString("…")
			break
		}
	}
	return sb.String()
}

// clip shortens s to n runes.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// procEvidence describes a process for a finding's evidence.
func procEvidence(p *proc) string {
	var b strings.Builder
	if p.EventID != "" {
		b.WriteString(p.EventID + ": ")
	}
	if !p.Start.IsZero() {
		b.WriteString(p.Start.UTC().Format(time.RFC3339) + " ")
	}
	if p.User != "" {
		b.WriteString(p.User + " ")
	}
	if pn := p.parentName(); pn != "" {
		b.WriteString(pn + " → ")
	}
	b.WriteString(p.Name)
	if p.PID != "" {
		b.WriteString(" (pid " + p.PID + ")")
	}
	if p.CommandLine != "" {
		b.WriteString(": " + clip(p.CommandLine, 200))
	}
	return b.String()
}

// eventEvidence describes an event for a finding's evidence.
func eventEvidence(e pdk.Event, detail string) string {
	var b strings.Builder
	if id := e.ID(); id != "" {
		b.WriteString(id + ": ")
	}
	if ts := e.String("@timestamp"); ts != "" {
		b.WriteString(ts + " ")
	}
	b.WriteString(detail)
	return strings.TrimSpace(b.String())
}

// processFindings applies the process rules: encoded-powershell,
// office-spawns-shell and service-persistence by command line.
func processFindings(procs []*proc) []Finding {
	var fs []Finding
	for _, p := range procs {
		parent := p.parentName()
		if markers, decoded := PowerShellMarkers(p.Name, p.CommandLine); len(markers) > 0 {
			what := fmt.Sprintf("Encoded or obfuscated PowerShell (%s)", strings.Join(markers, ", "))
			if parent != "" {
				what += " started by " + parent
			}
			if decoded != "" {
				what += fmt.Sprintf(", decoding to %q", decoded)
			}
			fs = append(fs, Finding{Severity: pdk.SeverityHigh, Rule: RuleEncodedPowerShell, What: what, Evidence: []string{procEvidence(p)}})
		}
		if nameIn(parent, officeAndScriptHosts) && nameIn(p.Name, shells) && !strings.EqualFold(baseName(parent), p.Name) {
			fs = append(fs, Finding{Severity: pdk.SeverityHigh, Rule: RuleOfficeSpawnsShell,
				What:     fmt.Sprintf("%s started %s: an Office or script host spawning a shell", parent, p.Name),
				Evidence: []string{procEvidence(p)}})
		}
		if reServiceCreate.MatchString(p.CommandLine) {
			sev := pdk.SeverityMedium
			if suspicious(strings.ToLower(p.CommandLine)) || nameIn(parent, officeAndScriptHosts) {
				sev = pdk.SeverityHigh
			}
			fs = append(fs, Finding{Severity: sev, Rule: RuleServicePersistence,
				What:     fmt.Sprintf("A service created from the command line by %s", p.Name),
				Evidence: []string{procEvidence(p)}})
		}
	}
	return mergeFindings(fs)
}

// suspicious reports whether a lower-case persistence value or command line
// holds a word of suspiciousData.
func suspicious(s string) bool {
	for _, w := range suspiciousData {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// registryFindings applies the persistence rules to registry changes: Run
// keys and service ImagePaths. They are high when the value or the writing
// process is suspect (a script host or shell writing, or a value running a
// script host, an encoded command, a URL, something in Temp or
// Users\Public); low when an installed program registers itself (the
// writer, under Program Files or Windows, is the program the value starts, as
// OneDrive does); else medium. Deletions are ignored.
func registryFindings(reg []pdk.Event, procs []*proc) []Finding {
	byPID := map[string]*proc{}
	for _, p := range procs {
		byPID[p.PID] = p
	}
	var fs []Finding
	for _, e := range reg {
		path := str(e, "registry.path", "registry.key", "TargetObject", "winlog.event_data.TargetObject")
		typ := strings.ToLower(str(e, "EventType", "winlog.event_data.EventType", "event.type"))
		if path == "" || strings.Contains(typ, "delet") {
			continue
		}
		data := strings.Join(strs(e, "registry.data.strings"), " ")
		if data == "" {
			data = str(e, "Details", "winlog.event_data.Details", "registry.value_data")
		}
		writerPath := strings.ToLower(str(e, "process.executable", "Image"))
		writer := baseName(str(e, "process.name", "process.executable", "Image"))
		if writer == "" {
			if p := byPID[str(e, "process.pid")]; p != nil {
				writer = p.Name
			}
		}
		rule, what := "", ""
		switch {
		case reRunKey.MatchString(path):
			rule, what = RuleRunKeyPersistence, "Run-key persistence: "+path+" set"
		case reServiceKey.MatchString(path):
			rule, what = RuleServicePersistence, "Service persistence: ImagePath of service "+reServiceKey.FindStringSubmatch(path)[1]+" set"
		default:
			continue
		}
		sev := pdk.SeverityMedium
		switch {
		case suspicious(strings.ToLower(data)) || nameIn(writer, suspiciousWriters):
			sev = pdk.SeverityHigh
		case installed(writerPath) && strings.Contains(strings.ToLower(data), writerPath):
			sev = pdk.SeverityLow
		}
		if writer != "" {
			what += " by " + writer
		}
		detail := path
		if data != "" {
			detail += " = " + clip(data, 200)
			what += " to " + code(clip(data, 160))
		}
		fs = append(fs, Finding{Severity: sev, Rule: rule, What: what, Evidence: []string{eventEvidence(e, detail)}})
	}
	return mergeFindings(fs)
}

// installed reports whether a lower-case executable path is under Program
// Files or Windows, where only administrators install.
func installed(path string) bool {
	return strings.HasPrefix(path, `c:\program files\`) || strings.HasPrefix(path, `c:\program files (x86)\`) || strings.HasPrefix(path, `c:\windows\`)
}

// mergeFindings joins findings of the same rule and description, keeping
// the first maxEvidence pieces of evidence and counting the rest.
func mergeFindings(fs []Finding) []Finding {
	var out []Finding
	idx := map[string]int{}
	extra := map[int]int{}
	for _, f := range fs {
		k := f.Rule + "\x00" + f.What
		i, ok := idx[k]
		if !ok {
			idx[k] = len(out)
			out = append(out, f)
			continue
		}
		if severityRank(f.Severity) < severityRank(out[i].Severity) {
			out[i].Severity = f.Severity
		}
		for _, ev := range f.Evidence {
			if len(out[i].Evidence) < maxEvidence {
				out[i].Evidence = append(out[i].Evidence, ev)
			} else {
				extra[i]++
			}
		}
		for _, o := range f.Observables {
			if !slices.Contains(out[i].Observables, o) {
				out[i].Observables = append(out[i].Observables, o)
			}
		}
	}
	for i, n := range extra {
		out[i].Evidence = append(out[i].Evidence, fmt.Sprintf("… and %d more", n))
	}
	return out
}

// iocKind classifies an indicator of the config key iocs as an observable
// type: ip, hash (hex of 32, 40 or 64 digits) or domain.
func iocKind(s string) string {
	if _, err := netip.ParseAddr(s); err == nil {
		return pdk.ObservableIP
	}
	if n := len(s); n == 32 || n == 40 || n == 64 {
		if strings.Trim(s, "0123456789abcdef") == "" {
			return pdk.ObservableHash
		}
	}
	return pdk.ObservableDomain
}

// tokens splits a lower-case value into the words indicators are compared
// with: addresses, domains, hashes, file names.
func tokens(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_')
	})
}

// iocMatches reports whether a value holds the indicator: as a whole word,
// or for a domain as a subdomain of it. IPv6 indicators match as substrings.
func iocMatches(value, ioc, kind string) bool {
	v := strings.ToLower(value)
	if !strings.Contains(v, ioc) {
		return false
	}
	if strings.Contains(ioc, ":") {
		return true
	}
	for _, t := range tokens(v) {
		if t == ioc || kind == pdk.ObservableDomain && strings.HasSuffix(t, "."+ioc) {
			return true
		}
	}
	return false
}

// iocFindings flags every event and process holding an indicator of the
// config key iocs: one high finding per indicator seen. extra are more
// events of the host (the sweep's) to look in besides the collection.
func iocFindings(iocs []string, c *pdk.Collection, procs []*proc, extra []pdk.Event) []Finding {
	var fs []Finding
	for _, ioc := range iocs {
		if ioc == "" {
			continue
		}
		kind := iocKind(ioc)
		var ev []string
		n := 0
		add := func(s string) {
			n++
			if len(ev) < maxEvidence {
				ev = append(ev, s)
			}
		}
		seen := map[string]bool{} // event ids counted, so an event counts once
		for _, p := range procs {
			if iocMatches(p.CommandLine, ioc, kind) || iocMatches(p.Executable, ioc, kind) {
				seen[p.EventID] = true
				add(procEvidence(p))
			}
		}
		for _, sec := range [][]pdk.Event{c.Network, c.Logons, c.Files, c.Registry, extra} {
			for _, e := range sec {
				if id := e.ID(); id != "" && seen[id] {
					continue
				}
				if k := eventHolds(e, ioc, kind); k != "" {
					seen[e.ID()] = true
					detail := k + " = " + clip(str(e, k), 200)
					if where := str(e, "process.executable", "process.name", "file.path"); where != "" && where != str(e, k) {
						detail += " (" + where + ")"
					}
					add(eventEvidence(e, detail))
				}
			}
		}
		if n == 0 {
			continue
		}
		if n > len(ev) {
			ev = append(ev, fmt.Sprintf("… and %d more", n-len(ev)))
		}
		fs = append(fs, Finding{Severity: pdk.SeverityHigh, Rule: RuleIOCMatch,
			What:        fmt.Sprintf("Known indicator %s (%s, config iocs) seen %d times", ioc, kind, n),
			Evidence:    ev,
			Observables: []pdk.Observable{{Type: kind, Value: ioc}}})
	}
	return fs
}

// eventHolds returns the first field of e holding the indicator, or "":
// ECS fields (dotted names) first, then the original ones, each in name
// order.
func eventHolds(e pdk.Event, ioc, kind string) string {
	keys := make([]string, 0, len(e))
	for k := range e {
		if k != "_id" && k != "tenant" && k != "@timestamp" {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b string) int {
		ecs := func(k string) int {
			if strings.Contains(k, ".") {
				return 0
			}
			return 1
		}
		return cmp.Or(ecs(a)-ecs(b), strings.Compare(a, b))
	})
	for _, k := range keys {
		for _, v := range strs(e, k) {
			if iocMatches(v, ioc, kind) {
				return k
			}
		}
	}
	return ""
}
