package logquery

import (
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
)

// winField returns a Windows event field as NXLog/Logstash ship it (top
// level, "Image") or as Winlogbeat does ("winlog.event_data.Image"), with
// Windows' "-" for "none" treated as absent.
func winField(e map[string]any, names ...string) (any, bool) {
	for _, n := range names {
		for _, k := range [...]string{n, "winlog.event_data." + n, "event_data." + n} {
			v, ok := e[k]
			if !ok || v == nil {
				continue
			}
			if s, isStr := v.(string); isStr && (s == "" || s == "-") {
				continue
			}
			return v, true
		}
	}
	return nil, false
}

// winString is winField as a string.
func winString(e map[string]any, names ...string) (string, bool) {
	v, ok := winField(e, names...)
	if !ok {
		return "", false
	}
	s := scalarString(v)
	return s, s != ""
}

// scalarString formats a string or number; other values give "".
func scalarString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return ""
}

// set stores an ECS field unless the event already has it.
func set(e map[string]any, k string, v any) {
	if _, ok := e[k]; !ok {
		e[k] = v
	}
}

// basename returns the last element of a Windows or Unix path.
func basename(p string) string {
	if i := strings.LastIndexAny(p, `\/`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// parsePID reads a process id in decimal (Sysmon) or hex (Security: 0x988).
func parsePID(v any) (json.Number, bool) {
	s := strings.TrimSpace(scalarString(v))
	var n uint64
	var err error
	if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		n, err = strconv.ParseUint(h, 16, 64)
	} else {
		n, err = strconv.ParseUint(s, 10, 64)
	}
	if err != nil {
		return "", false
	}
	return json.Number(strconv.FormatUint(n, 10)), true
}

// parsePort reads a port number.
func parsePort(v any) (json.Number, bool) {
	n, err := strconv.ParseUint(strings.TrimSpace(scalarString(v)), 10, 16)
	if err != nil {
		return "", false
	}
	return json.Number(strconv.FormatUint(n, 10)), true
}

// parseIP returns the canonical form of an IP address, or false.
func parseIP(v any) (string, bool) {
	a, err := netip.ParseAddr(strings.TrimSpace(scalarString(v)))
	if err != nil {
		return "", false
	}
	return a.String(), true
}

// logonTypes names Windows logon types as Winlogbeat does.
var logonTypes = map[string]string{
	"0": "System", "2": "Interactive", "3": "Network", "4": "Batch", "5": "Service",
	"7": "Unlock", "8": "NetworkCleartext", "9": "NewCredentials",
	"10": "RemoteInteractive", "11": "CachedInteractive",
}

// kind is what an event id means in ECS terms.
type kind struct {
	category, typ, action, outcome string
}

// sysmonKinds and securityKinds classify the common event ids.
var (
	sysmonKinds = map[string]kind{
		"1":  {"process", "start", "process-created", ""},
		"3":  {"network", "connection", "network-connection", ""},
		"5":  {"process", "end", "process-terminated", ""},
		"11": {"file", "creation", "file-created", ""},
		"12": {"registry", "change", "registry-key-created-or-deleted", ""},
		"13": {"registry", "change", "registry-value-set", ""},
		"14": {"registry", "change", "registry-key-renamed", ""},
		"22": {"network", "protocol", "dns-query", ""},
		"23": {"file", "deletion", "file-deleted", ""},
		"26": {"file", "deletion", "file-delete-detected", ""},
	}
	securityKinds = map[string]kind{
		"4624": {"authentication", "start", "logged-in", "success"},
		"4625": {"authentication", "start", "logon-failed", "failure"},
		"4634": {"authentication", "end", "logged-out", "success"},
		"4647": {"authentication", "end", "logged-out", "success"},
		"4648": {"authentication", "start", "logged-in-explicit", "success"},
		"4672": {"authentication", "info", "logged-in-special", "success"},
		"4688": {"process", "start", "process-created", ""},
		"4689": {"process", "end", "process-terminated", ""},
		"5156": {"network", "connection", "network-connection-allowed", "success"},
		"5157": {"network", "connection", "network-connection-blocked", "failure"},
	}
)

// MapWindows adds ECS fields to a Windows event in NXLog, Logstash or
// Winlogbeat form, keeping its original fields. Fields the event already has
// are left alone. Events without an event id are not Windows events.
func MapWindows(e map[string]any) {
	code, ok := winString(e, "EventID", "winlog.event_id", "event_id")
	if !ok {
		return
	}
	if _, ok := e["EventID"]; !ok {
		if _, ok := e["winlog.event_id"]; !ok {
			return // a bare "event_id" is not enough to call it Windows
		}
	}
	set(e, "event.code", code)
	set(e, "event.module", "windows")
	set(e, "event.kind", "event")

	channel, _ := winString(e, "Channel", "winlog.channel")
	if channel != "" {
		set(e, "winlog.channel", channel)
	}
	if p, ok := winString(e, "SourceName", "ProviderName", "Provider", "winlog.provider_name"); ok {
		set(e, "event.provider", p)
	}
	if h, ok := winString(e, "Hostname", "Computer", "winlog.computer_name"); ok {
		set(e, "host.name", h)
	}

	lc := strings.ToLower(channel)
	var k kind
	var known bool
	switch {
	case strings.Contains(lc, "sysmon"):
		set(e, "event.dataset", "windows.sysmon")
		k, known = sysmonKinds[code]
	case lc == "security":
		set(e, "event.dataset", "windows.security")
		k, known = securityKinds[code]
	case strings.Contains(lc, "powershell"):
		set(e, "event.dataset", "windows.powershell")
	case channel != "":
		set(e, "event.dataset", "windows.eventlog")
	}
	if known {
		set(e, "event.category", k.category)
		set(e, "event.type", k.typ)
		set(e, "event.action", k.action)
		if k.outcome != "" {
			set(e, "event.outcome", k.outcome)
		}
	}

	securityProcess := lc == "security" && (code == "4688")
	// Process.
	if securityProcess {
		if v, ok := winString(e, "NewProcessName"); ok {
			set(e, "process.executable", v)
			set(e, "process.name", basename(v))
		}
		if v, ok := winField(e, "NewProcessId"); ok {
			if pid, ok := parsePID(v); ok {
				set(e, "process.pid", pid)
			}
		}
		if v, ok := winField(e, "ProcessId"); ok {
			if pid, ok := parsePID(v); ok {
				set(e, "process.parent.pid", pid)
			}
		}
		if v, ok := winString(e, "ParentProcessName"); ok {
			set(e, "process.parent.executable", v)
			set(e, "process.parent.name", basename(v))
		}
	} else {
		if v, ok := winString(e, "Image", "ProcessName", "Application", "SourceImage"); ok {
			set(e, "process.executable", v)
			set(e, "process.name", basename(v))
		}
		if v, ok := winField(e, "ProcessId", "SourceProcessId"); ok {
			if pid, ok := parsePID(v); ok {
				set(e, "process.pid", pid)
			}
		}
		if v, ok := winString(e, "ParentImage"); ok {
			set(e, "process.parent.executable", v)
			set(e, "process.parent.name", basename(v))
		}
		if v, ok := winField(e, "ParentProcessId"); ok {
			if pid, ok := parsePID(v); ok {
				set(e, "process.parent.pid", pid)
			}
		}
	}
	if v, ok := winString(e, "CommandLine"); ok {
		set(e, "process.command_line", v)
	}
	if v, ok := winString(e, "ParentCommandLine"); ok {
		set(e, "process.parent.command_line", v)
	}
	if v, ok := winString(e, "CurrentDirectory"); ok {
		set(e, "process.working_directory", v)
	}
	if v, ok := winString(e, "ProcessGuid"); ok {
		set(e, "process.entity_id", v)
	}
	if v, ok := winString(e, "ParentProcessGuid"); ok {
		set(e, "process.parent.entity_id", v)
	}

	// User.
	if v, ok := winString(e, "User"); ok {
		if dom, name, found := strings.Cut(v, `\`); found {
			set(e, "user.domain", dom)
			set(e, "user.name", name)
		} else {
			set(e, "user.name", v)
		}
	} else if v, ok := winString(e, "SubjectUserName"); ok {
		set(e, "user.name", v)
		if d, ok := winString(e, "SubjectDomainName"); ok {
			set(e, "user.domain", d)
		}
	}
	if v, ok := winString(e, "TargetUserName"); ok {
		set(e, "user.target.name", v)
		if d, ok := winString(e, "TargetDomainName"); ok {
			set(e, "user.target.domain", d)
		}
	}
	if v, ok := winString(e, "LogonType"); ok {
		if name, ok := logonTypes[v]; ok {
			v = name
		}
		set(e, "winlog.logon.type", v)
	}

	// Network.
	if v, ok := winField(e, "SourceIp", "IpAddress", "SourceAddress"); ok {
		if ip, ok := parseIP(v); ok {
			set(e, "source.ip", ip)
		}
	}
	if v, ok := winField(e, "SourcePort", "IpPort"); ok {
		if p, ok := parsePort(v); ok {
			set(e, "source.port", p)
		}
	}
	if v, ok := winString(e, "SourceHostname"); ok {
		set(e, "source.domain", v)
	}
	if v, ok := winField(e, "DestinationIp", "DestAddress"); ok {
		if ip, ok := parseIP(v); ok {
			set(e, "destination.ip", ip)
		}
	}
	if v, ok := winField(e, "DestinationPort", "DestPort"); ok {
		if p, ok := parsePort(v); ok {
			set(e, "destination.port", p)
		}
	}
	if v, ok := winString(e, "DestinationHostname"); ok {
		set(e, "destination.domain", v)
	}
	if v, ok := winString(e, "QueryName"); ok {
		set(e, "dns.question.name", v)
	}

	// Files and registry.
	if v, ok := winString(e, "TargetFilename"); ok {
		set(e, "file.path", v)
		set(e, "file.name", basename(v))
	} else if v, ok := winString(e, "ImageLoaded"); ok {
		set(e, "file.path", v)
		set(e, "file.name", basename(v))
	}
	if v, ok := winString(e, "TargetObject"); ok {
		set(e, "registry.path", v)
	}
	if v, ok := winString(e, "Hashes"); ok {
		prefix := "process"
		if _, isFile := e["file.path"]; isFile && code != "1" {
			prefix = "file"
		}
		mapHashes(e, prefix, v)
	}
}

// mapHashes reads Sysmon's "SHA1=…,MD5=…,SHA256=…,IMPHASH=…" into
// <prefix>.hash.* (lower case) and <prefix>.pe.imphash.
func mapHashes(e map[string]any, prefix, hashes string) {
	for _, part := range strings.Split(hashes, ",") {
		alg, sum, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || sum == "" {
			continue
		}
		alg, sum = strings.ToLower(alg), strings.ToLower(sum)
		switch alg {
		case "md5", "sha1", "sha256", "sha384", "sha512":
			set(e, prefix+".hash."+alg, sum)
		case "imphash":
			set(e, prefix+".pe.imphash", sum)
		}
	}
}
