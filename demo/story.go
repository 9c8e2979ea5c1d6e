// Package demo generates lhk's deterministic demo data: two tenants' worth of
// realistic telemetry (Windows process, logon and network events, proxy,
// firewall and authentication logs) with a benign background of thousands of
// events a day, plus one attack story in acme. lhkd demo loads it, and the
// shipped plugins' tests assert their findings against it.
package demo

import "time"

// The tenants of the demo.
const (
	TenantAcme   = "acme"
	TenantGlobex = "globex"
)

// Story is the attack the demo data holds for tenant acme, so tests can assert
// that the plugins find it. Times are offsets from the dataset's start.
var Story = struct {
	Tenant string
	// Phishing: a user opens a macro document from a mail attachment.
	PatientZeroHost string
	PatientZeroIP   string
	User            string // user.name, without domain
	Domain          string // user.domain
	PhishSender     string
	PhishSubject    string
	Attachment      string
	// Encoded PowerShell started by WINWORD.EXE.
	EncodedMarker string // a substring of the -enc command line
	// C2 beaconing over HTTPS every minute or so.
	C2Domain string
	C2IP     string
	C2Port   int
	// Lateral movement with the stolen credentials to a server.
	LateralHost string
	LateralIP   string
	// Persistence: a Run key on the patient-zero host.
	RunKey string
	// When: the story starts on day StoryDay of the dataset at StoryHour UTC.
	StoryDay  int
	StoryHour int
	// The SIEM alert the story raises, as alert-intake receives it.
	AlertID string
}{
	Tenant:          TenantAcme,
	PatientZeroHost: "ACME-WS-017",
	PatientZeroIP:   "10.20.1.17",
	User:            "hsato",
	Domain:          "ACME",
	PhishSender:     "invoice@acme-billing.example.net",
	PhishSubject:    "Overdue invoice 2026-1187",
	Attachment:      "Invoice_2026-1187.docm",
	EncodedMarker:   "-enc JABjAGwAaQBlAG4AdAA9AE4AZQB3AC0ATwBiAGoAZQBjAHQA",
	C2Domain:        "cdn-update.example-c2.net",
	C2IP:            "203.0.113.66",
	C2Port:          443,
	LateralHost:     "ACME-FS-01",
	LateralIP:       "10.20.0.10",
	RunKey:          `HKU\S-1-5-21-1004336348-1177238915-682003330-1117\Software\Microsoft\Windows\CurrentVersion\Run\OneDriveUpdate`,
	StoryDay:        4,
	StoryHour:       9,
	AlertID:         "SIEM-ACME-20481",
}

// DefaultStart is the first day of the data when Options.Start is zero: a
// Monday, so a report of "the previous week" covers whole days. Tests use
// this fixed week; lhkd demo starts at WeekStart of the day it first runs.
var DefaultStart = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

// StoryTime returns when the story begins for data starting at start.
func StoryTime(start time.Time) time.Time {
	return start.AddDate(0, 0, Story.StoryDay).Add(time.Duration(Story.StoryHour) * time.Hour)
}
