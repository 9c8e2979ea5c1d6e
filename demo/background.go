package demo

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Windows event sources as NXLog names them.
const (
	chanSysmon     = "Microsoft-Windows-Sysmon/Operational"
	chanSecurity   = "Security"
	chanPowerShell = "Microsoft-Windows-PowerShell/Operational"
	chanSystem     = "System"
	srcSysmon      = "Microsoft-Windows-Sysmon"
	srcSecurity    = "Microsoft-Windows-Security-Auditing"
	srcPowerShell  = "Microsoft-Windows-PowerShell"
	srcSCM         = "Service Control Manager"
	userSystem     = `NT AUTHORITY\SYSTEM`
)

// Programs the background and the story share.
const (
	exeExplorer   = `C:\Windows\explorer.exe`
	exeChrome     = `C:\Program Files\Google\Chrome\Application\chrome.exe`
	exeOffice     = `C:\Program Files\Microsoft Office\root\Office16\`
	exeWord       = exeOffice + `WINWORD.EXE`
	exeExcel      = exeOffice + `EXCEL.EXE`
	exeOutlook    = exeOffice + `OUTLOOK.EXE`
	exePowerPoint = exeOffice + `POWERPNT.EXE`
	exeTeams      = `C:\Users\{u}\AppData\Local\Microsoft\Teams\current\Teams.exe`
	exeOneDrive   = `C:\Program Files\Microsoft OneDrive\OneDrive.exe`
	exeCmd        = `C:\Windows\System32\cmd.exe`
	exePowerShell = `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`
	exeSvchost    = `C:\Windows\System32\svchost.exe`
	exeServices   = `C:\Windows\System32\services.exe`
	exeDefender   = `C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MsMpEng.exe`
	exeMonitor    = `C:\Program Files\Zabbix Agent 2\` + monitorExe
	exeSystem     = "System"
	uaChrome      = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)

// proc is a kind of benign process start.
type proc struct {
	parent, image, cmd string // {u} is the user, {n} a number, {doc} and {xls} file names
	system             bool   // runs as SYSTEM, also on servers
	weight             int
}

var procs = []proc{
	{exeExplorer, exeChrome, `"` + exeChrome + `" --type=renderer --lang=en-US --renderer-client-id={n} --launch-time-ticks={n}`, false, 20},
	{exeChrome, exeChrome, `"` + exeChrome + `" --type=utility --utility-sub-type=network.mojom.NetworkService --lang=en-US --service-sandbox-type=none`, false, 8},
	{exeExplorer, exeOutlook, `"` + exeOutlook + `" /recycle`, false, 4},
	{exeExplorer, exeWord, `"` + exeWord + `" /n "C:\Users\{u}\Documents\{doc}.docx"`, false, 6},
	{exeExplorer, exeExcel, `"` + exeExcel + `" "C:\Users\{u}\Documents\{xls}.xlsx"`, false, 5},
	{exeExplorer, exePowerPoint, `"` + exePowerPoint + `" "C:\Users\{u}\Documents\{doc}.pptx"`, false, 2},
	{exeExplorer, exeTeams, `"` + exeTeams + `" --type=renderer --autoplay-policy=no-user-gesture-required`, false, 4},
	{exeExplorer, exeOneDrive, `"` + exeOneDrive + `" /background`, false, 3},
	{exeExplorer, exeCmd, `"` + exeCmd + `"`, false, 2},
	{exeCmd, `C:\Windows\System32\ipconfig.exe`, `ipconfig /all`, false, 1},
	{exeExplorer, `C:\Windows\System32\notepad.exe`, `"C:\Windows\system32\notepad.exe" C:\Users\{u}\Desktop\todo.txt`, false, 2},
	{exeSvchost, `C:\Windows\System32\taskhostw.exe`, `taskhostw.exe -RegisterDevice -ProtectionStateChanged -FreeNetworkOnly`, true, 5},
	{exeServices, exeSvchost, `C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule`, true, 6},
	{exeSvchost, `C:\Program Files\Windows Defender\MpCmdRun.exe`, `"C:\Program Files\Windows Defender\MpCmdRun.exe" -SignatureUpdate -ScheduleJob -RestrictPrivileges`, true, 2},
	{exeSvchost, exePowerShell, `powershell.exe -NoProfile -ExecutionPolicy Bypass -File "C:\ProgramData\IT\inventory.ps1"`, true, 2},
	{exeSvchost, `C:\Windows\System32\backgroundTaskHost.exe`, `"C:\Windows\system32\backgroundTaskHost.exe" -ServerName:BackgroundTaskHost.WebAccountProvider`, true, 3},
	{exeServices, `C:\Windows\System32\msiexec.exe`, `C:\Windows\system32\msiexec.exe /V`, true, 1},
	{exeSvchost, `C:\Windows\System32\wermgr.exe`, `C:\Windows\system32\wermgr.exe -upload`, true, 1},
}

var (
	docs      = []string{"weekly-status", "meeting-notes", "proposal-draft", "budget-2027", "customer-list", "project-plan", "travel-expenses", "contract-review"}
	sheets    = []string{"sales-forecast", "inventory", "timesheet", "expenses-q4", "kpi-dashboard"}
	downloads = []string{"quote_2026.pdf", "minutes.docx", "invoice_8842.pdf", "brochure.pdf", "price-list.xlsx", "photo_0413.jpg", "ZoomInstaller.exe"}
	attached  = []string{"agenda.pdf", "scan_0042.pdf", "forecast.xlsx", "slides.pptx", "contract_v3.docx"}
	subjects  = []string{"Re: weekly sync", "Quote request", "Meeting minutes", "Your order has shipped", "Invitation: project kick-off", "Updated contract", "Expense report approved"}
	senders   = []string{"sales@partner-one.example.org", "noreply@shop.example.com", "info@supplier.example.org", "events@conference.example.com", "billing@cloud.example.com"}
	scanners  = []string{"45.148.10.172", "185.220.101.34", "162.142.125.220", "89.248.165.74", "167.94.138.120"}
	ssoApps   = []string{"salesforce.com", "workday.com", "box.com", "zoom.us", "atlassian.net"}
)

// site is a benign web destination, with the program that usually reaches it.
type site struct {
	domain, ip, image string
	paths             []string
	blocked           bool // the proxy blocks it (403)
}

var sites = []site{
	{"www.google.com", "142.250.196.100", exeChrome, []string{"/search?q=quarterly+report", "/search?q=weather", "/"}, false},
	{"login.microsoftonline.com", "20.190.141.32", exeOutlook, []string{"/common/oauth2/v2.0/token"}, false},
	{"outlook.office365.com", "52.98.152.2", exeOutlook, []string{"/mapi/emsmdb/", "/EWS/Exchange.asmx"}, false},
	{"teams.microsoft.com", "52.113.194.132", exeTeams, []string{"/api/chatsvc/", "/v1/users/ME/conversations"}, false},
	{"www.bing.com", "204.79.197.200", exeChrome, []string{"/search?q=translate", "/news"}, false},
	{"github.com", "140.82.112.3", exeChrome, []string{"/", "/notifications"}, false},
	{"news.yahoo.co.jp", "183.79.250.123", exeChrome, []string{"/topics", "/"}, false},
	{"update.googleapis.com", "142.250.196.99", exeChrome, []string{"/service/update2/json"}, false},
	{"onedrive.live.com", "13.107.42.13", exeOneDrive, []string{"/sync/", "/api/v2.1/drive"}, false},
	{"zoom.us", "170.114.52.2", exeChrome, []string{"/j/8841230977", "/signin"}, false},
	{"www.amazon.co.jp", "52.119.161.5", exeChrome, []string{"/gp/cart/view.html", "/s?k=usb+cable"}, false},
	{"docs.google.com", "142.250.207.14", exeChrome, []string{"/document/d/1xK9/edit", "/spreadsheets/d/7Qa2/edit"}, false},
	{"www.salesforce.com", "13.110.18.11", exeChrome, []string{"/home", "/lightning/page/home"}, false},
	{"casino-royale.example.org", "185.199.110.5", exeChrome, []string{"/play"}, true},
	{"free-movies.example.com", "91.215.85.17", exeChrome, []string{"/watch?v=1"}, true},
}

// hashes holds made-up Sysmon hashes of each program, derived from its path.
var hashes = map[string]string{}

func init() {
	for _, p := range procs {
		hashes[p.image] = makeHashes(p.image)
	}
	for _, s := range []string{exeExplorer, exeSvchost, exeServices, exePowerShell, exeWord, exeOutlook} {
		hashes[s] = makeHashes(s)
	}
}

func makeHashes(image string) string {
	s1 := sha1.Sum([]byte(image))
	m := md5.Sum([]byte(image))
	s2 := sha256.Sum256([]byte(image))
	imp := md5.Sum([]byte("imp:" + image))
	return "SHA1=" + strings.ToUpper(hex.EncodeToString(s1[:])) + ",MD5=" + strings.ToUpper(hex.EncodeToString(m[:])) +
		",SHA256=" + strings.ToUpper(hex.EncodeToString(s2[:])) + ",IMPHASH=" + strings.ToUpper(hex.EncodeToString(imp[:]))
}

// gen writes one tenant-day of events into a batch.
type gen struct {
	b       *batch
	r       *rand.Rand
	p       *profile
	day     time.Time
	weekend bool
	cum     [24]int // cumulative hour weights
}

// hourWeights is the shape of a work day in UTC, from 00:00.
var hourWeights = [24]int{1, 1, 1, 1, 1, 1, 1, 3, 10, 10, 10, 10, 7, 10, 10, 10, 10, 6, 3, 2, 2, 2, 1, 1}

// genDay writes n background events of tenant p on day: its noise patterns
// first, the rest spread over the day in a work-hours shape.
func genDay(b *batch, r *rand.Rand, p *profile, day time.Time, n int) {
	g := &gen{b: b, r: r, p: p, day: day, weekend: isWeekend(day)}
	sum := 0
	for h := range 24 {
		w := hourWeights[(h-p.workShift+24)%24]
		if g.weekend {
			w = 1
			if w2 := hourWeights[(h-p.workShift+24)%24]; w2 >= 10 {
				w = 2
			}
		}
		sum += w
		g.cum[h] = sum
	}
	rest := n
	for _, np := range Noise {
		if np.Tenant != p.tenant {
			continue
		}
		k := n * np.PerMille / 1000
		rest -= k
		g.noise(np.Name, k)
	}
	for range rest {
		g.background()
	}
}

// at returns a random time of the day in the work-hours shape, to the millisecond.
func (g *gen) at() time.Time {
	x := g.r.IntN(g.cum[23])
	h := 0
	for g.cum[h] <= x {
		h++
	}
	return g.day.Add(time.Duration(h)*time.Hour + time.Duration(g.r.Int64N(3600_000))*time.Millisecond)
}

// bgKinds are the background's kinds of events and their weights (sum 100).
var bgKinds = []struct {
	weight int
	emit   func(*gen, time.Time)
}{
	{13, (*gen).sysmonProcess},
	{13, (*gen).sysmonNetwork},
	{7, (*gen).sysmonFile},
	{5, (*gen).sysmonRegistry},
	{13, (*gen).sysmonDNS},
	{8, (*gen).logon},
	{1, (*gen).logonFailure},
	{8, (*gen).securityProcess},
	{16, (*gen).proxy},
	{9, (*gen).firewall},
	{4, (*gen).auth},
	{3, (*gen).mail},
}

func (g *gen) background() {
	t := g.at()
	x := g.r.IntN(100)
	for _, k := range bgKinds {
		if x < k.weight {
			k.emit(g, t)
			return
		}
		x -= k.weight
	}
}

// noise writes k events of one noise pattern at a regular pace over the day.
func (g *gen) noise(name string, k int) {
	if k == 0 {
		return
	}
	step := int64(24*time.Hour/time.Millisecond) / int64(k)
	for i := range k {
		ms := int64(i)*step + g.r.Int64N(step/5+1)
		t := g.day.Add(time.Duration(ms) * time.Millisecond)
		switch name {
		case NoiseBackupLogonFailures:
			g.backupFailure(t)
		case NoiseMonitoringDNS:
			g.monitorDNS(t)
		case NoiseNetBIOSDenies:
			g.netbios(t)
		}
		g.b.last().noise = name
	}
}

// pick returns a random element.
func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// workstation picks a workstation and its user's index.
func (g *gen) workstation() (host, int) {
	i := g.r.IntN(len(g.p.ws))
	return g.p.ws[i], i
}

// anyHost picks a machine: mostly workstations, sometimes a server.
func (g *gen) anyHost() (h host, user int) {
	if g.r.IntN(100) < 15 {
		return pick(g.r, g.p.servers), -1
	}
	return g.workstation()
}

func (g *gen) pid() int { return 4 * (100 + g.r.IntN(5000)) }

func (g *gen) port() int { return 49152 + g.r.IntN(16000) }

// guid returns a Sysmon-style process GUID.
func (g *gen) guid() string {
	var b [36]byte
	x, y := g.r.Uint64(), g.r.Uint64()
	hx := hex.AppendEncode(nil, []byte{byte(x >> 56), byte(x >> 48), byte(x >> 40), byte(x >> 32), byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x),
		byte(y >> 56), byte(y >> 48), byte(y >> 40), byte(y >> 32), byte(y >> 24), byte(y >> 16), byte(y >> 8), byte(y)})
	copy(b[0:8], hx[0:8])
	b[8] = '-'
	copy(b[9:13], hx[8:12])
	b[13] = '-'
	copy(b[14:18], hx[12:16])
	b[18] = '-'
	copy(b[19:23], hx[16:20])
	b[23] = '-'
	copy(b[24:36], hx[20:32])
	return "{" + string(b[:]) + "}"
}

// userOf returns DOMAIN\user of workstation user i, or SYSTEM for -1.
func (g *gen) userOf(i int) string {
	if i < 0 {
		return userSystem
	}
	return g.p.domain + `\` + g.p.users[i]
}

// fill replaces the placeholders of a command line.
func (g *gen) fill(s, user string) string {
	if !strings.Contains(s, "{") {
		return s
	}
	s = strings.ReplaceAll(s, "{u}", user)
	for strings.Contains(s, "{n}") {
		s = strings.Replace(s, "{n}", strconv.Itoa(g.r.IntN(9000)+10), 1)
	}
	s = strings.ReplaceAll(s, "{doc}", pick(g.r, docs))
	return strings.ReplaceAll(s, "{xls}", pick(g.r, sheets))
}

// win begins a Windows event in NXLog form.
func (g *gen) win(t time.Time, kind, hostName string, id int, channel, source string) {
	g.b.begin(t, g.p.tenant, kind)
	g.b.s("Hostname", hostName)
	g.b.n("EventID", id)
	g.b.s("Channel", channel)
	g.b.s("SourceName", source)
}

// pickProc picks a process start fit for a host (servers run system ones).
func (g *gen) pickProc(server bool) proc {
	for {
		p := procs[g.r.IntN(len(procs))]
		if server && !p.system {
			continue
		}
		if g.r.IntN(20) < p.weight {
			return p
		}
	}
}

func (g *gen) sysmonProcess(t time.Time) {
	h, ui := g.anyHost()
	p := g.pickProc(h.server)
	user, name := userSystem, ""
	if !p.system {
		user, name = g.userOf(ui), g.p.users[ui]
	}
	g.win(t, KindSysmon, h.name, 1, chanSysmon, srcSysmon)
	g.b.s("ProcessGuid", g.guid())
	g.b.n("ProcessId", g.pid())
	g.b.s("Image", g.fill(p.image, name))
	g.b.s("CommandLine", g.fill(p.cmd, name))
	if p.system {
		g.b.s("CurrentDirectory", `C:\Windows\system32\`)
		g.b.s("IntegrityLevel", "System")
	} else {
		g.b.s("CurrentDirectory", `C:\Users\`+name+`\`)
		g.b.s("IntegrityLevel", "Medium")
	}
	g.b.s("User", user)
	g.b.s("Hashes", hashes[p.image])
	g.b.s("ParentProcessGuid", g.guid())
	g.b.n("ParentProcessId", g.pid())
	g.b.s("ParentImage", g.fill(p.parent, name))
	g.b.s("ParentCommandLine", g.fill(p.parent, name))
}

func (g *gen) securityProcess(t time.Time) {
	h, ui := g.anyHost()
	p := g.pickProc(h.server)
	subject, name := h.name+"$", ""
	if !p.system {
		subject, name = g.p.users[ui], g.p.users[ui]
	}
	g.win(t, KindSecurity, h.name, 4688, chanSecurity, srcSecurity)
	g.b.s("SubjectUserName", subject)
	g.b.s("SubjectDomainName", g.p.domain)
	g.b.s("NewProcessId", "0x"+strconv.FormatInt(int64(g.pid()), 16))
	g.b.s("NewProcessName", g.fill(p.image, name))
	g.b.s("TokenElevationType", "%%1938")
	g.b.s("ProcessId", "0x"+strconv.FormatInt(int64(g.pid()), 16))
	g.b.s("CommandLine", g.fill(p.cmd, name))
	g.b.s("ParentProcessName", g.fill(p.parent, name))
}

// destination picks where a host connects: a web site, or an internal server.
func (g *gen) destination(h host) (ip, domain, image string, port int) {
	if g.r.IntN(100) < 85 {
		s := pick(g.r, sites[:len(sites)-2])
		return s.ip, s.domain, s.image, 443
	}
	switch x := g.r.IntN(10); {
	case x < 4:
		return g.p.dc.ip, g.p.dc.name + "." + g.p.dnsSuffix, exeSvchost, pick(g.r, []int{88, 389, 445})
	case x < 7 && !g.isPatientZero(h) && h.name != g.p.fs.name:
		return g.p.fs.ip, g.p.fs.name + "." + g.p.dnsSuffix, exeSystem, 445
	default:
		return g.p.mon.ip, g.p.mon.name + "." + g.p.dnsSuffix, exeMonitor, 10051
	}
}

// isPatientZero reports whether h is the story's first victim, which never
// reaches the lateral host in the background: its connection there is new.
func (g *gen) isPatientZero(h host) bool {
	return g.p.tenant == Story.Tenant && h.name == Story.PatientZeroHost
}

func (g *gen) sysmonNetwork(t time.Time) {
	h, ui := g.anyHost()
	ip, domain, image, port := g.destination(h)
	user, name := userSystem, ""
	if ui >= 0 && image != exeSvchost && image != exeSystem && image != exeMonitor {
		user, name = g.userOf(ui), g.p.users[ui]
	} else if image != exeSvchost && image != exeSystem && image != exeMonitor {
		image = exeSvchost // a server's web traffic: Windows Update and the like
	}
	g.win(t, KindSysmon, h.name, 3, chanSysmon, srcSysmon)
	g.b.s("ProcessGuid", g.guid())
	g.b.n("ProcessId", g.pid())
	g.b.s("Image", g.fill(image, name))
	g.b.s("User", user)
	g.b.s("Protocol", "tcp")
	g.b.s("Initiated", "true")
	g.b.s("SourceIp", h.ip)
	g.b.n("SourcePort", g.port())
	g.b.s("DestinationIp", ip)
	g.b.s("DestinationHostname", domain)
	g.b.n("DestinationPort", port)
}

func (g *gen) sysmonFile(t time.Time) {
	h, ui := g.anyHost()
	var image, path, user string
	if ui < 0 {
		user = userSystem
		if g.r.IntN(2) == 0 {
			image, path = exeSvchost, `C:\Windows\Prefetch\`+strings.ToUpper(pick(g.r, []string{"taskhostw.exe", "svchost.exe", "msiexec.exe", "wermgr.exe"}))+"-"+strconv.FormatUint(g.r.Uint64()&0xffffffff, 16)+".pf"
		} else {
			image, path = exeDefender, `C:\ProgramData\Microsoft\Windows Defender\Scans\History\Service\DetectionHistory\`+strconv.Itoa(g.r.IntN(90)+10)+".bin"
		}
	} else {
		u := g.p.users[ui]
		user = g.userOf(ui)
		switch g.r.IntN(4) {
		case 0:
			image, path = exeChrome, `C:\Users\`+u+`\Downloads\`+pick(g.r, downloads)
		case 1:
			image, path = exeWord, `C:\Users\`+u+`\AppData\Roaming\Microsoft\Word\~WRL`+strconv.Itoa(g.r.IntN(9000)+1000)+".tmp"
		case 2:
			image, path = exeOutlook, outlookCache(u)+pick(g.r, attached)
		default:
			image, path = g.fill(exeTeams, u), `C:\Users\`+u+`\AppData\Roaming\Microsoft\Teams\Cache\f_`+strconv.Itoa(g.r.IntN(90000)+10000)
		}
	}
	g.win(t, KindSysmon, h.name, 11, chanSysmon, srcSysmon)
	g.b.s("ProcessGuid", g.guid())
	g.b.n("ProcessId", g.pid())
	g.b.s("Image", image)
	g.b.s("TargetFilename", path)
	g.b.s("User", user)
}

// outlookCache is the folder where a user's Outlook keeps opened attachments.
func outlookCache(user string) string {
	h := fnv.New32a()
	h.Write([]byte(user))
	dir := strings.ToUpper(strconv.FormatUint(uint64(h.Sum32())|1<<40, 36))[:8]
	return `C:\Users\` + user + `\AppData\Local\Microsoft\Windows\INetCache\Content.Outlook\` + dir + `\`
}

func (g *gen) sysmonRegistry(t time.Time) {
	h, ui := g.anyHost()
	var image, key, details, user string
	if ui < 0 {
		user, image = userSystem, exeDefender
		key = `HKLM\SOFTWARE\Microsoft\Windows Defender\Signature Updates\SignaturesLastUpdated`
		details = "QWORD (0x01db" + strconv.FormatUint(g.r.Uint64()&0xffff, 16) + "-0x" + strconv.FormatUint(g.r.Uint64()&0xffffffff, 16) + ")"
	} else {
		u, sid := g.p.users[ui], g.p.userSID(ui)
		user = g.userOf(ui)
		// OneDrive and Teams rewrite their Run keys at start, a few times a
		// week per user: benign look-alikes of the story's persistence.
		switch x := g.r.IntN(100); {
		case x < 78:
			image, key, details = exeExplorer, `HKU\`+sid+`\Software\Microsoft\Windows\CurrentVersion\Explorer\RecentDocs\.docx\MRUListEx`, "Binary Data"
		case x < 80:
			image, key, details = exeOneDrive, `HKU\`+sid+`\Software\Microsoft\Windows\CurrentVersion\Run\OneDrive`, `"`+exeOneDrive+`" /background`
		case x < 82:
			image, key, details = g.fill(exeTeams, u), `HKU\`+sid+`\Software\Microsoft\Windows\CurrentVersion\Run\com.squirrel.Teams.Teams`,
				`C:\Users\`+u+`\AppData\Local\Microsoft\Teams\Update.exe --processStart "Teams.exe" --process-start-args "--system-initiated"`
		default:
			user = userSystem
			image, key, details = exeSvchost, `HKLM\System\CurrentControlSet\Services\bam\State\UserSettings\`+sid+`\\Device\HarddiskVolume3\Windows\explorer.exe`, "Binary Data"
		}
	}
	g.win(t, KindSysmon, h.name, 13, chanSysmon, srcSysmon)
	g.b.s("EventType", "SetValue")
	g.b.s("ProcessGuid", g.guid())
	g.b.n("ProcessId", g.pid())
	g.b.s("Image", image)
	g.b.s("TargetObject", key)
	g.b.s("Details", details)
	g.b.s("User", user)
}

func (g *gen) sysmonDNS(t time.Time) {
	h, ui := g.anyHost()
	var image, name, answer, user string
	if g.r.IntN(100) < 80 {
		s := pick(g.r, sites)
		image, name, answer = s.image, s.domain, s.ip
	} else {
		srv := pick(g.r, g.p.servers)
		image, name, answer = exeExplorer, strings.ToLower(srv.name)+"."+g.p.dnsSuffix, srv.ip
	}
	if ui < 0 {
		user = userSystem
		image = exeSvchost
	} else {
		user = g.userOf(ui)
		image = g.fill(image, g.p.users[ui])
	}
	g.win(t, KindSysmon, h.name, 22, chanSysmon, srcSysmon)
	g.b.s("ProcessGuid", g.guid())
	g.b.n("ProcessId", g.pid())
	g.b.s("Image", image)
	g.b.s("QueryName", name)
	g.b.s("QueryStatus", "0")
	g.b.s("QueryResults", "::ffff:"+answer+";")
	g.b.s("User", user)
}

// logon writes a Security 4624: interactive and unlock logons on a user's
// workstation, Kerberos network logons on the file server and the domain
// controller, and service logons on servers.
func (g *gen) logon(t time.Time) {
	ws, ui := g.workstation()
	u := g.p.users[ui]
	x := g.r.IntN(100)
	switch {
	case x < 45:
		lt := 2
		if x >= 30 {
			lt = 7
		}
		g.win(t, KindSecurity, ws.name, 4624, chanSecurity, srcSecurity)
		g.b.s("SubjectUserName", ws.name+"$")
		g.b.s("SubjectDomainName", g.p.domain)
		g.b.s("TargetUserName", u)
		g.b.s("TargetDomainName", g.p.domain)
		g.b.n("LogonType", lt)
		g.b.s("LogonProcessName", "User32")
		g.b.s("AuthenticationPackageName", "Negotiate")
		g.b.s("WorkstationName", ws.name)
		g.b.s("ProcessName", `C:\Windows\System32\svchost.exe`)
		g.b.s("IpAddress", "127.0.0.1")
		g.b.s("IpPort", "0")
		g.b.s("user.name", u)
	case x < 90:
		target := g.p.dc
		if g.r.IntN(2) == 0 && !g.isPatientZero(ws) {
			target = g.p.fs
		}
		g.win(t, KindSecurity, target.name, 4624, chanSecurity, srcSecurity)
		g.b.s("TargetUserName", u)
		g.b.s("TargetDomainName", g.p.domain)
		g.b.n("LogonType", 3)
		g.b.s("LogonProcessName", "Kerberos")
		g.b.s("AuthenticationPackageName", "Kerberos")
		g.b.s("IpAddress", ws.ip)
		g.b.s("IpPort", strconv.Itoa(g.port()))
		g.b.s("user.name", u)
	default:
		srv := pick(g.r, g.p.servers)
		g.win(t, KindSecurity, srv.name, 4624, chanSecurity, srcSecurity)
		g.b.s("SubjectUserName", srv.name+"$")
		g.b.s("SubjectDomainName", g.p.domain)
		g.b.s("TargetUserName", "SYSTEM")
		g.b.s("TargetDomainName", "NT AUTHORITY")
		g.b.n("LogonType", 5)
		g.b.s("LogonProcessName", "Advapi")
		g.b.s("AuthenticationPackageName", "Negotiate")
		g.b.s("ProcessName", exeServices)
		g.b.s("user.name", "SYSTEM")
	}
}

// logonFailure writes a Security 4625 of a mistyped password.
func (g *gen) logonFailure(t time.Time) {
	ws, ui := g.workstation()
	u := g.p.users[ui]
	g.win(t, KindSecurity, ws.name, 4625, chanSecurity, srcSecurity)
	g.b.s("SubjectUserName", ws.name+"$")
	g.b.s("SubjectDomainName", g.p.domain)
	g.b.s("TargetUserName", u)
	g.b.s("TargetDomainName", g.p.domain)
	g.b.s("Status", "0xC000006D")
	g.b.s("SubStatus", "0xC000006A")
	g.b.s("FailureReason", "%%2313")
	g.b.n("LogonType", 2)
	g.b.s("LogonProcessName", "User32")
	g.b.s("AuthenticationPackageName", "Negotiate")
	g.b.s("WorkstationName", ws.name)
	g.b.s("IpAddress", "127.0.0.1")
	g.b.s("IpPort", "0")
	g.b.s("user.name", u)
}

// proxy writes a web proxy log line (ECS).
func (g *gen) proxy(t time.Time) {
	ws, ui := g.workstation()
	s := pick(g.r, sites)
	status, action := 200, "allowed"
	switch x := g.r.IntN(100); {
	case s.blocked:
		status, action = 403, "blocked"
	case x < 8:
		status = 304
	case x < 11:
		status = 404
	case x < 13:
		status = 204
	}
	method := "GET"
	if g.r.IntN(100) < 15 {
		method = "POST"
	}
	g.b.begin(t, g.p.tenant, KindProxy)
	g.b.s("event.dataset", KindProxy)
	g.b.s("event.kind", "event")
	g.b.s("event.category", "web")
	g.b.s("event.action", action)
	g.b.s("observer.name", g.p.proxy)
	g.b.s("user.name", g.p.users[ui])
	g.b.s("source.ip", ws.ip)
	g.b.s("destination.ip", s.ip)
	g.b.n("destination.port", 443)
	g.b.s("url.domain", s.domain)
	g.b.s("url.full", "https://"+s.domain+pick(g.r, s.paths))
	g.b.s("http.request.method", method)
	g.b.n("http.response.status_code", status)
	g.b.n("http.response.bytes", 200+g.r.IntN(80000))
	g.b.s("user_agent.original", uaChrome)
}

// fw begins a firewall log line (ECS).
func (g *gen) fw(t time.Time, action, rule, transport, direction, src string, sport int, dst string, dport int) {
	g.b.begin(t, g.p.tenant, KindFirewall)
	g.b.s("event.dataset", KindFirewall)
	g.b.s("event.kind", "event")
	g.b.s("event.category", "network")
	g.b.s("event.action", action)
	g.b.s("observer.name", g.p.firewall)
	g.b.s("rule.name", rule)
	g.b.s("network.transport", transport)
	g.b.s("network.direction", direction)
	g.b.s("source.ip", src)
	g.b.n("source.port", sport)
	g.b.s("destination.ip", dst)
	g.b.n("destination.port", dport)
}

func (g *gen) firewall(t time.Time) {
	switch x := g.r.IntN(100); {
	case x < 35:
		ws, _ := g.workstation()
		g.fw(t, "allow", "allow-web", "tcp", "outbound", ws.ip, g.port(), pick(g.r, sites[:len(sites)-2]).ip, 443)
	case x < 55:
		g.fw(t, "allow", "allow-dns-forwarders", "udp", "outbound", g.p.dc.ip, g.port(), pick(g.r, []string{"8.8.8.8", "1.1.1.1"}), 53)
	case x < 90:
		g.fw(t, "deny", "default-deny", "tcp", "inbound", pick(g.r, scanners), g.port(), g.p.publicIP, pick(g.r, []int{22, 23, 445, 3389, 8080}))
	case x < 95:
		ws, _ := g.workstation()
		g.fw(t, "deny", "block-p2p", "tcp", "outbound", ws.ip, g.port(), "77.247.181."+strconv.Itoa(g.r.IntN(200)+10), 6881)
	default:
		ws, _ := g.workstation()
		if g.isPatientZero(ws) {
			ws = g.p.ws[0]
		}
		g.fw(t, "allow", "allow-smb-internal", "tcp", "internal", ws.ip, g.port(), g.p.fs.ip, 445)
	}
}

// auth writes a VPN or SSO authentication (ECS).
func (g *gen) auth(t time.Time) {
	ws, ui := g.workstation()
	u := g.p.users[ui]
	outcome := "success"
	if g.r.IntN(100) < 4 {
		outcome = "failure"
	}
	g.b.begin(t, g.p.tenant, KindAuth)
	g.b.s("event.dataset", KindAuth)
	g.b.s("event.kind", "event")
	g.b.s("event.category", "authentication")
	if g.r.IntN(100) < 40 {
		g.b.s("event.action", "vpn-login")
		g.b.s("service.name", "vpn")
		g.b.s("observer.name", strings.Replace(g.p.firewall, "-FW-", "-VPN-", 1))
		g.b.s("source.ip", g.p.homeNet+"."+strconv.Itoa(1+(ui*7+g.r.IntN(3))%254))
	} else {
		g.b.s("event.action", "sso-login")
		g.b.s("service.name", "sso")
		g.b.s("url.domain", pick(g.r, ssoApps))
		g.b.s("source.ip", ws.ip)
	}
	g.b.s("event.outcome", outcome)
	if outcome == "failure" {
		g.b.s("event.reason", "invalid password")
	}
	g.b.s("user.name", u)
	g.b.s("user.domain", g.p.domain)
	g.b.s("user.email", u+"@"+g.p.mailDom)
}

// mail writes a mail gateway log line (ECS).
func (g *gen) mail(t time.Time) {
	_, ui := g.workstation()
	u := g.p.users[ui]
	action := "delivered"
	if g.r.IntN(100) < 5 {
		action = "quarantined"
	}
	g.b.begin(t, g.p.tenant, KindMail)
	g.b.s("event.dataset", KindMail)
	g.b.s("event.kind", "event")
	g.b.s("event.category", "email")
	g.b.s("event.action", action)
	g.b.s("observer.name", g.p.mx)
	g.b.s("source.ip", "198.18.0."+strconv.Itoa(g.r.IntN(250)+2))
	g.b.s("email.from.address", pick(g.r, senders))
	g.b.s("email.to.address", u+"@"+g.p.mailDom)
	g.b.s("email.subject", pick(g.r, subjects))
	if g.r.IntN(100) < 30 {
		g.b.s("email.attachments.file.name", pick(g.r, attached))
	}
	g.b.s("user.name", u)
}

// backupFailure is the backup agent's failing logon (noise).
func (g *gen) backupFailure(t time.Time) {
	g.win(t, KindSecurity, g.p.fs.name, 4625, chanSecurity, srcSecurity)
	g.b.s("TargetUserName", g.p.backupSvc)
	g.b.s("TargetDomainName", g.p.domain)
	g.b.s("Status", "0xC000006D")
	g.b.s("SubStatus", "0xC000006A")
	g.b.s("FailureReason", "%%2313")
	g.b.n("LogonType", 3)
	g.b.s("LogonProcessName", "NtLmSsp")
	g.b.s("AuthenticationPackageName", "NTLM")
	g.b.s("WorkstationName", g.p.bk.name)
	g.b.s("IpAddress", g.p.bk.ip)
	g.b.s("IpPort", strconv.Itoa(g.port()))
	g.b.s("user.name", g.p.backupSvc)
}

// monitorDNS is the monitoring agent's lookup of its server (noise).
func (g *gen) monitorDNS(t time.Time) {
	h, _ := g.anyHost()
	g.win(t, KindSysmon, h.name, 22, chanSysmon, srcSysmon)
	g.b.n("ProcessId", 2400+4*(len(h.name)%16))
	g.b.s("Image", exeMonitor)
	g.b.s("QueryName", "zabbix."+g.p.dnsSuffix)
	g.b.s("QueryStatus", "0")
	g.b.s("QueryResults", "::ffff:"+g.p.mon.ip+";")
	g.b.s("User", userSystem)
}

// netbios is a denied NetBIOS name query broadcast (noise).
func (g *gen) netbios(t time.Time) {
	ws, _ := g.workstation()
	g.fw(t, "deny", "default-deny", "udp", "internal", ws.ip, 137, g.p.broadcast, 137)
}
