package devices

import (
	"fmt"
	"io"
	"strings"
)

// Symbol returns the mark of a verdict: ✓ ready, ✕ not ready, ? unknown.
func (v Verdict) Symbol() string {
	switch v {
	case Ready:
		return "✓"
	case NotReady:
		return "✕"
	}
	return "?"
}

// Label returns the verdict for people ("not ready").
func (v Verdict) Label() string { return strings.ReplaceAll(string(v), "-", " ") }

// WriteText renders the matrix for a terminal: one line per device with its verdict, and
// under each device that is not ready (or unknown) every failing rule with the evidence
// found, the fix, why and the source; caveats follow with a "!".
func (m Matrix) WriteText(w io.Writer) error {
	var b strings.Builder
	b.WriteString("Offline readiness")
	if m.Policy != "" {
		fmt.Fprintf(&b, " (policy %q)", m.Policy)
	} else {
		b.WriteString(" (no policy given: persistence cannot be judged)")
	}
	b.WriteString("\n")
	for _, r := range m.Rows {
		fmt.Fprintf(&b, "  %s %-17s %-10s %s", r.Verdict.Symbol(), r.Device, r.Verdict.Label(), r.Name)
		if r.Via != "" && r.Verdict == Ready {
			fmt.Fprintf(&b, " — via %s", r.Via)
		}
		b.WriteString("\n")
		for _, f := range r.Findings {
			writeFinding(&b, f)
		}
		for _, f := range r.Caveats {
			writeFinding(&b, f)
		}
	}
	fmt.Fprintf(&b, "  %d ready, %d not ready, %d unknown\n", m.Count(Ready), m.Count(NotReady), m.Count(Unknown))
	_, err := io.WriteString(w, b.String())
	return err
}

func writeFinding(b *strings.Builder, f Finding) {
	mark := map[Result]string{ResultFail: "✕", ResultUnknown: "?", ResultCaveat: "!"}[f.Result]
	fmt.Fprintf(b, "      %s %s: %s\n", mark, f.Rule, f.Says)
	fmt.Fprintf(b, "          found:  %s\n", f.Evidence)
	if f.Fix != "" {
		fmt.Fprintf(b, "          fix:    %s\n", f.Fix)
	}
	fmt.Fprintf(b, "          why:    %s\n", f.Why)
	fmt.Fprintf(b, "          source: %s\n", f.Source)
}

// WriteProfilesMarkdown writes the profile table as Markdown: per device its DRM system,
// deliveries and every rule with its why and source (docs/device-profiles.md is this output).
func WriteProfilesMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# Device profiles\n\n")
	b.WriteString("Generated from `engine/devices` (the profile table):\n" +
		"`go test ./engine/devices -run TestProfilesDoc -update`.\n" +
		"A device is **ready** when its device and policy rules hold and one presentation it downloads meets\n" +
		"all its presentation rules; **unknown** when nothing fails but evidence is missing (e.g. no policy).\n")
	for _, p := range profiles {
		fmt.Fprintf(&b, "\n## `%s` — %s\n\n", p.ID, p.Name)
		var ds []string
		for _, d := range p.Deliveries {
			ds = append(ds, string(d))
		}
		fmt.Fprintf(&b, "DRM: %s · downloads: %s", p.System.Title(), strings.Join(ds, ", "))
		if p.AndroidAPI > 0 {
			fmt.Fprintf(&b, " · Android API %d+", p.AndroidAPI)
		}
		b.WriteString("\n\n| Rule | Scope | Must hold | Why | Source |\n|---|---|---|---|---|\n")
		for _, r := range p.Rules {
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", r.ID, r.Scope, cell(r.Says), cell(r.Why), cell(r.Source))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
