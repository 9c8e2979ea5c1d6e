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

// ecsCopy copies the first of a Windows event's fields that it has (winField)
// to an ECS field, read by conv; a value conv refuses sets nothing. With
// base set, the value is a path and base also gets its last element.
type ecsCopy struct {
	to, base string
	names    []string
	conv     func(any) (any, bool)
}

// apply copies c's field into e unless e already has it.
func (c ecsCopy) apply(e map[string]any) {
	v, ok := winField(e, c.names...)
	if !ok {
		return
	}
	if v, ok = c.conv(v); !ok {
		return
	}
	set(e, c.to, v)
	if c.base != "" {
		set(e, c.base, basename(v.(string)))
	}
}

// The conversions of an ecsCopy.
func asString(v any) (any, bool) { s := scalarString(v); return s, s != "" }
func asPID(v any) (any, bool)    { return parsePID(v) }
func asPort(v any) (any, bool)   { return parsePort(v) }
func asIP(v any) (any, bool)     { return parseIP(v) }

// processCopies are the process fields of every Windows event but
// Security's 4688, which names them its own way (securityProcessCopies:
// there ProcessId is the parent's).
var (
	processCopies = append([]ecsCopy{
		{to: "process.executable", base: "process.name", names: []string{"Image", "ProcessName", "Application", "SourceImage"}, conv: asString},
		{to: "process.pid", names: []string{"ProcessId", "SourceProcessId"}, conv: asPID},
		{to: "process.parent.executable", base: "process.parent.name", names: []string{"ParentImage"}, conv: asString},
		{to: "process.parent.pid", names: []string{"ParentProcessId"}, conv: asPID},
	}, commonProcessCopies...)
	securityProcessCopies = append([]ecsCopy{
		{to: "process.executable", base: "process.name", names: []string{"NewProcessName"}, conv: asString},
		{to: "process.pid", names: []string{"NewProcessId"}, conv: asPID},
		{to: "process.parent.pid", names: []string{"ProcessId"}, conv: asPID},
		{to: "process.parent.executable", base: "process.parent.name", names: []string{"ParentProcessName"}, conv: asString},
	}, commonProcessCopies...)
	commonProcessCopies = []ecsCopy{
		{to: "process.command_line", names: []string{"CommandLine"}, conv: asString},
		{to: "process.parent.command_line", names: []string{"ParentCommandLine"}, conv: asString},
		{to: "process.working_directory", names: []string{"CurrentDirectory"}, conv: asString},
		{to: "process.entity_id", names: []string{"ProcessGuid"}, conv: asString},
		{to: "process.parent.entity_id", names: []string{"ParentProcessGuid"}, conv: asString},
	}
)

// otherCopies are the network, DNS, file and registry fields. ImageLoaded
// is the file only of events without a TargetFilename.
var otherCopies = []ecsCopy{
	{to: "source.ip", names: []string{"SourceIp", "IpAddress", "SourceAddress"}, conv: asIP},
	{to: "source.port", names: []string{"SourcePort", "IpPort"}, conv: asPort},
	{to: "source.domain", names: []string{"SourceHostname"}, conv: asString},
	{to: "destination.ip", names: []string{"DestinationIp", "DestAddress"}, conv: asIP},
	{to: "destination.port", names: []string{"DestinationPort", "DestPort"}, conv: asPort},
	{to: "destination.domain", names: []string{"DestinationHostname"}, conv: asString},
	{to: "dns.question.name", names: []string{"QueryName"}, conv: asString},
	{to: "file.path", base: "file.name", names: []string{"TargetFilename"}, conv: asString},
	{to: "file.path", base: "file.name", names: []string{"ImageLoaded"}, conv: asString},
	{to: "registry.path", names: []string{"TargetObject"}, conv: asString},
}

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

	// Process.
	copies := processCopies
	if lc == "security" && code == "4688" {
		copies = securityProcessCopies
	}
	for _, c := range copies {
		c.apply(e)
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

	// Network, files and registry.
	for _, c := range otherCopies {
		c.apply(e)
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
