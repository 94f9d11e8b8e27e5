// Package verify is Satchel's round-trip checker. Given a file, a folder, a manifest or a URL
// (Satchel's output or another packager's) it checks the structure, the encryption and DRM
// signalling, runs a license round trip per DRM system, lints the offline policy, decrypts
// every sample (cenc, cbcs, cens, cbc1, PIFF) and proves the decryption by decoding the clear
// media with a real decoder (and comparing it bit for bit with the source when it is known).
// Every finding is pass, warn or fail with where it was found, the reason and the fix; the
// report also keeps a structured inventory of what the package signals, for later analyses.
//
// Remote input stays remote: references resolve against the manifest URL, other hosts are
// fetched only when allowed, and every fetch is bounded (see Limits). It is not a player.
package verify

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"satchel/engine/devices"
	"satchel/engine/simulate"
)

// Severity is the outcome of one check.
type Severity string

// The severities, from best to worst.
const (
	Pass Severity = "pass" // the check held
	Warn Severity = "warn" // works, but some players or devices may fail; see the fix
	Fail Severity = "fail" // broken: players will fail, or the checker could not prove it works
)

// Label is the upper-case label of s used in text reports ("PASS", "WARN", "FAIL").
func (s Severity) Label() string { return strings.ToUpper(string(s)) }

// Finding categories.
const (
	CatStructure  = "structure"
	CatEncryption = "encryption"
	CatDRM        = "drm"
	CatLicense    = "license"
	CatPolicy     = "policy"
	CatDecryption = "decryption"
	CatIntegrity  = "integrity"
	CatPublish    = "publish"
	CatTiming     = "timing"
	CatLimits     = "limits"
	CatSubtitles  = "subtitles"
)

// Finding is one check result.
type Finding struct {
	Category string   `json:"category"`
	Status   Severity `json:"status"`
	Subject  string   `json:"subject"` // the manifest, rendition or track the finding is about
	// File is the file (or URL) the finding was made in, relative to the package when local.
	File string `json:"file,omitempty"`
	// At locates it inside File: a box path ("moov/trak/mdia/minf/stbl/stsd/encv/sinf/schi/tenc",
	// "moof/traf/senc") or a manifest element ("MPD/Period[0]/AdaptationSet[video]/
	// ContentProtection[1]", "EXT-X-KEY[0]").
	At      string `json:"at,omitempty"`
	Message string `json:"message"` // what was found and why it matters
	Fix     string `json:"fix,omitempty"`
}

// Where is a finding's location.
type Where struct{ File, At string }

// Exchange is one license request/response, kept for the GUI's viewer.
type Exchange struct {
	System   string          `json:"system"`
	Endpoint string          `json:"endpoint"`
	Request  json.RawMessage `json:"request,omitempty"`
	Response json.RawMessage `json:"response,omitempty"`
	Error    string          `json:"error,omitempty"`
}

// Summary counts findings.
type Summary struct {
	Pass int `json:"pass"`
	Warn int `json:"warn"`
	Fail int `json:"fail"`
}

// Report is the checker's result.
type Report struct {
	Target           string        `json:"target"`
	Started          time.Time     `json:"started"`
	Duration         time.Duration `json:"duration_ns"`
	Tracks           int           `json:"tracks"`
	Samples          int           `json:"samples_decrypted"`
	Findings         []Finding     `json:"findings"`
	Summary          Summary       `json:"summary"`
	LicenseExchanges []Exchange    `json:"license_exchanges,omitempty"`
	// Inventory is what the package holds and signals, as structured facts.
	Inventory Inventory `json:"inventory"`
	// Readiness is the offline readiness matrix: per device profile ready, not ready (rule,
	// evidence, fix) or unknown, under the input's policy. Nil when the input offers nothing
	// a device downloads. It does not change the verdict: a device that cannot play offline
	// is a fact about the package, not a defect.
	Readiness *devices.Matrix `json:"readiness,omitempty"`
	// Simulation is a simulated device's license timeline for the package, when the caller
	// ran one (Verify does not).
	Simulation *simulate.Timeline `json:"simulation,omitempty"`
	// Hosts are the hosts content was fetched from (remote input).
	Hosts []HostUse `json:"hosts,omitempty"`
	// Bytes is the media read (segments and files), for throughput figures.
	Bytes int64 `json:"bytes_read"`
}

// HostUse is one host that content was (or was not) fetched from.
type HostUse struct {
	Host    string `json:"host"`
	Origin  bool   `json:"origin"`  // the host of the verified URL
	Allowed bool   `json:"allowed"` // fetched: the origin or an allowed host
	Fetches int    `json:"fetches"`
	Refused int    `json:"refused,omitempty"`
}

// Failed reports whether any finding failed.
func (r *Report) Failed() bool { return r.Summary.Fail > 0 }

func (r *Report) add(cat string, status Severity, subject, msg, fix string) {
	r.addAt(Where{}, cat, status, subject, msg, fix)
}

func (r *Report) addAt(w Where, cat string, status Severity, subject, msg, fix string) {
	r.Findings = append(r.Findings, Finding{Category: cat, Status: status, Subject: subject, File: w.File, At: w.At,
		Message: msg, Fix: fix})
	switch status {
	case Pass:
		r.Summary.Pass++
	case Warn:
		r.Summary.Warn++
	case Fail:
		r.Summary.Fail++
	}
}

func (r *Report) pass(cat, subject, format string, a ...any) {
	r.add(cat, Pass, subject, fmt.Sprintf(format, a...), "")
}

func (r *Report) warn(cat, subject, msg, fix string) { r.add(cat, Warn, subject, msg, fix) }
func (r *Report) fail(cat, subject, msg, fix string) { r.add(cat, Fail, subject, msg, fix) }

func (r *Report) passAt(w Where, cat, subject, format string, a ...any) {
	r.addAt(w, cat, Pass, subject, fmt.Sprintf(format, a...), "")
}

func (r *Report) warnAt(w Where, cat, subject, msg, fix string) {
	r.addAt(w, cat, Warn, subject, msg, fix)
}
func (r *Report) failAt(w Where, cat, subject, msg, fix string) {
	r.addAt(w, cat, Fail, subject, msg, fix)
}

// Verdict is "PASS", "PASS WITH WARNINGS" or "FAIL".
func (r *Report) Verdict() string {
	switch {
	case r.Summary.Fail > 0:
		return "FAIL"
	case r.Summary.Warn > 0:
		return "PASS WITH WARNINGS"
	}
	return "PASS"
}

// readinessCaveat is said under the readiness matrix of a failed verification: the matrix
// judges signalling and policy, and a package that fails verification plays on no device.
const readinessCaveat = "Verification FAILED: the readiness matrix judges signalling and policy only; " +
	"the package plays on no device until the failures are fixed."

// ReadinessCaveat is the sentence shown under the readiness matrix when verification failed.
func (r *Report) ReadinessCaveat() string { return readinessCaveat }

// VerdictClass is the verdict as a severity name for styling: "pass", "warn" or "fail".
func (r *Report) VerdictClass() string {
	switch {
	case r.Summary.Fail > 0:
		return "fail"
	case r.Summary.Warn > 0:
		return "warn"
	}
	return "pass"
}

// WriteText writes the human report: findings grouped by subject (in the order subjects were
// first checked), each with its location and, unless it passed, the fix; then what was not
// checked, the offline readiness matrix and the simulated timeline (when there are).
func (r *Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "Satchel verify: %s\n", r.Target)
	fmt.Fprintf(w, "%d tracks, %d samples decrypted, %.1fs\n", r.Tracks, r.Samples, r.Duration.Seconds())
	for _, g := range r.Groups() {
		fmt.Fprintf(w, "\n%s\n", g.Subject)
		for _, f := range g.Findings {
			fmt.Fprintf(w, "  [%s] %-10s %s\n", f.Status.Label(), f.Category, f.Message)
			if loc := f.Location(); loc != "" {
				fmt.Fprintf(w, "         at: %s\n", loc)
			}
			if f.Fix != "" && f.Status != Pass {
				fmt.Fprintf(w, "        fix: %s\n", f.Fix)
			}
		}
	}
	if nc := r.Inventory.NotChecked; len(nc) > 0 {
		fmt.Fprintf(w, "\nNot checked\n")
		for _, n := range nc {
			fmt.Fprintf(w, "  %s: %s\n", n.File, n.Reason)
		}
	}
	if r.Readiness != nil {
		fmt.Fprintln(w)
		if err := r.Readiness.WriteText(w); err != nil {
			return err
		}
		if r.Failed() {
			fmt.Fprintf(w, "  %s\n", readinessCaveat)
		}
	}
	if r.Simulation != nil {
		fmt.Fprintln(w)
		if err := r.Simulation.WriteText(w); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "\n%s — %d pass, %d warn, %d fail\n", r.Verdict(), r.Summary.Pass, r.Summary.Warn, r.Summary.Fail)
	return err
}

// Location is "file: at", "file" or "at" (empty when the finding has no location).
func (f Finding) Location() string {
	switch {
	case f.File != "" && f.At != "":
		return f.File + ": " + f.At
	case f.File != "":
		return f.File
	}
	return f.At
}

// Group is the findings about one subject.
type Group struct {
	Subject  string
	Findings []Finding
}

// Groups returns the findings grouped by subject, subjects in order of first appearance.
func (r *Report) Groups() []Group {
	var out []Group
	idx := map[string]int{}
	for _, f := range r.Findings {
		i, ok := idx[f.Subject]
		if !ok {
			i = len(out)
			idx[f.Subject] = i
			out = append(out, Group{Subject: f.Subject})
		}
		out[i].Findings = append(out[i].Findings, f)
	}
	return out
}

// WriteJSON writes the report as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

var htmlReport = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Satchel verify: {{.Target}}</title>
<style>
:root{color-scheme:light dark;--fg:#1b1f24;--bg:#ffffff;--dim:#57606a;--line:#d0d7de;--code:#f6f8fa;
--pass:#1a7f37;--warn:#9a6700;--fail:#cf222e;--pass-bg:#dafbe1;--warn-bg:#fff8c5;--fail-bg:#ffebe9}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--dim:#9198a1;--line:#30363d;--code:#161b22;
--pass:#3fb950;--warn:#d29922;--fail:#f85149;--pass-bg:#0f2d1a;--warn-bg:#2e2306;--fail-bg:#3a1116}}
body{font-family:system-ui,sans-serif;margin:2rem;color:var(--fg);background:var(--bg)}
h1{font-size:1.3rem}
.banner{border:2px solid;border-radius:6px;padding:.6rem 1rem;margin:1rem 0}
.banner .verdict{font-size:1.4rem;font-weight:bold;margin:0 0 .3rem 0}
.banner p{margin:.2rem 0}
.banner.pass{border-color:var(--pass);background:var(--pass-bg);color:var(--fg)} .banner.pass .verdict{color:var(--pass)}
.banner.warn{border-color:var(--warn);background:var(--warn-bg);color:var(--fg)} .banner.warn .verdict{color:var(--warn)}
.banner.fail{border-color:var(--fail);background:var(--fail-bg);color:var(--fg)} .banner.fail .verdict{color:var(--fail)}
table{border-collapse:collapse;width:100%;margin-top:1rem} td,th{border-bottom:1px solid var(--line);padding:.4rem;text-align:left;vertical-align:top}
.pass{color:var(--pass)} .warn{color:var(--warn)} .fail{color:var(--fail)} .fix{color:var(--dim);font-size:.9em}
.ready{color:var(--pass)} .not-ready{color:var(--fail)} .unknown{color:var(--warn)} .mark{font-size:1.2em;font-weight:bold;width:1.5em}
.rule{margin:.2rem 0} .rule code{font-weight:600}
pre{background:var(--code);padding:.5rem;overflow:auto;max-height:20rem;white-space:pre-wrap;word-break:break-all}
.timeline svg{max-width:100%;height:auto;background:#fff}
</style></head><body>
<h1>Satchel verify: {{.Target}}</h1>
<div class="banner {{.VerdictClass}}"><p class="verdict">{{.Verdict}}</p>
<p>{{.Summary.Pass}} pass, {{.Summary.Warn}} warn, {{.Summary.Fail}} fail{{if .Summary.Fail}} — each failure below says how to fix it{{end}}.</p>
<p>{{.Tracks}} tracks, {{.Samples}} samples decrypted. Checked {{.Started.Format "2006-01-02 15:04:05 MST"}}.</p></div>
{{with .Readiness}}<h2>Offline readiness</h2>
<p>{{if .Policy}}Under policy “{{.Policy}}”.{{else}}No policy given: whether licenses persist cannot be judged.{{end}}
{{.Count "ready"}} ready, {{.Count "not-ready"}} not ready, {{.Count "unknown"}} unknown.</p>
{{if $.Failed}}<p class="fail">{{$.ReadinessCaveat}}</p>{{end}}
<table><tr><th></th><th>Device</th><th>Verdict</th><th>Why / fix</th></tr>
{{range .Rows}}<tr><td class="mark {{.Verdict}}">{{.Verdict.Symbol}}</td><td><b>{{.Device}}</b><div class="fix">{{.Name}}</div></td>
<td class="{{.Verdict}}">{{.Verdict.Label}}{{if .Via}}<div class="fix">via {{.Via}}</div>{{end}}</td><td>{{range .Findings}}<div class="rule"><code>{{.Rule}}</code> {{.Says}}<div class="fix">Found: {{.Evidence}}</div>{{if .Fix}}<div class="fix">Fix: {{.Fix}}</div>{{end}}<div class="fix">Source: {{.Source}}</div></div>{{end}}{{range .Caveats}}<div class="rule">! <code>{{.Rule}}</code> {{.Evidence}}<div class="fix">{{.Fix}}</div></div>{{end}}</td></tr>
{{end}}</table>{{end}}
{{with .Simulation}}<h2>Simulated device: license timeline</h2>
<p>Scenario {{with .Scenario.Name}}{{.}}: {{end}}{{.Scenario}}{{if .Policy}}, policy “{{.Policy}}”{{end}}.</p>
<div class="timeline">{{$.SimulationSVG}}</div>{{end}}
{{range .Groups}}<h2>{{.Subject}}</h2>
<table><tr><th>Status</th><th>Category</th><th>Finding</th><th>Where</th></tr>
{{range .Findings}}<tr><td class="{{.Status}}">{{.Status}}</td><td>{{.Category}}</td><td>{{.Message}}{{if and .Fix (ne .Status "pass")}}<div class="fix">Fix: {{.Fix}}</div>{{end}}</td><td class="fix">{{.Location}}</td></tr>
{{end}}</table>{{end}}
{{if .Inventory.NotChecked}}<h2>Not checked</h2><ul>{{range .Inventory.NotChecked}}<li>{{.File}}: {{.Reason}}</li>{{end}}</ul>{{end}}
{{if .LicenseExchanges}}<h2>License exchanges</h2>{{range .LicenseExchanges}}<h3>{{.System}} — {{.Endpoint}}</h3>
<p>Request</p><pre>{{printf "%s" .Request}}</pre><p>Response</p><pre>{{printf "%s" .Response}}</pre>{{if .Error}}<p class="fail">{{.Error}}</p>{{end}}{{end}}{{end}}
</body></html>
`))

// WriteHTML writes a self-contained HTML report: the verdict, the offline readiness matrix,
// the simulated license timeline as an inline SVG (when there is one), the findings, what was
// not checked and the license exchanges.
func (r *Report) WriteHTML(w io.Writer) error { return htmlReport.Execute(w, r) }

// SimulationSVG is the simulated timeline as inline SVG for the HTML report ("" without one).
// The SVG is Satchel's own rendering (every text escaped), so it is safe to inline.
func (r *Report) SimulationSVG() template.HTML {
	if r.Simulation == nil {
		return ""
	}
	var b strings.Builder
	if err := r.Simulation.WriteSVG(&b); err != nil {
		return ""
	}
	return template.HTML(b.String()) //nolint:gosec // generated by engine/simulate, every text escaped
}
