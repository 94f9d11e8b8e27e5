package devices

import (
	"slices"
	"strings"

	"satchel/engine/drm"
)

// Verdict is a device's offline readiness.
type Verdict string

// The verdicts.
const (
	// Ready: a presentation of the package meets every rule of the device.
	Ready Verdict = "ready"
	// NotReady: a rule fails for every presentation the device could download.
	NotReady Verdict = "not-ready"
	// Unknown: nothing fails, but evidence is missing (typically: no policy given).
	Unknown Verdict = "unknown"
)

// Finding is one rule's result for a device, with the evidence found and the fix.
type Finding struct {
	Rule   RuleID `json:"rule"`
	Result Result `json:"result"`
	// Says is the rule.
	Says string `json:"says"`
	// Evidence is what was found, and where (file, element, policy field).
	Evidence string `json:"evidence"`
	Fix      string `json:"fix,omitempty"`
	Why      string `json:"why"`
	Source   string `json:"source"`
}

// Row is one device of the matrix.
type Row struct {
	Device  ProfileID  `json:"device"`
	Name    string     `json:"name"`
	System  drm.System `json:"system"`
	Verdict Verdict    `json:"verdict"`
	// Via is the presentation the verdict is about (the one that passes, or the closest).
	Via string `json:"via,omitempty"`
	// Findings are the failed and unknown rules behind a not-ready or unknown verdict.
	Findings []Finding `json:"findings,omitempty"`
	// Caveats hold for a ready device too.
	Caveats []Finding `json:"caveats,omitempty"`
}

// Matrix is the offline readiness of a package per device.
type Matrix struct {
	Source string `json:"source,omitempty"`
	// Policy names the policy the verdicts assume ("" when none was given).
	Policy string `json:"policy,omitempty"`
	Rows   []Row  `json:"devices"`
}

// Evaluate applies the device profiles to the evidence: every profile, or only the listed
// ones (in table order). A device is Ready when its device and policy rules hold and one
// presentation it can download meets all its presentation rules.
func Evaluate(ev Evidence, only []ProfileID) Matrix {
	m := Matrix{Source: ev.Source}
	if ev.Policy != nil {
		m.Policy = ev.Policy.Name
	}
	for i := range profiles {
		prof := &profiles[i]
		if len(only) > 0 && !slices.Contains(only, prof.ID) {
			continue
		}
		m.Rows = append(m.Rows, evaluate(prof, &ev))
	}
	return m
}

// candidate is one presentation's results for a profile's presentation rules.
type candidate struct {
	p               *Presentation
	findings        []Finding
	fails, unknowns int
}

func evaluate(prof *Profile, ev *Evidence) Row {
	row := Row{Device: prof.ID, Name: prof.Name, System: prof.System}
	var global []Finding
	for _, r := range prof.Rules {
		if r.Scope != ScopePresentation {
			global = append(global, apply(r, &ruleCtx{prof: prof, ev: ev}))
		}
	}
	best, found := bestCandidate(prof, ev)
	all := global
	if found {
		all = append(all, best.findings...)
		row.Via = via(best.p)
	} else {
		all = append(all, noCandidate(prof, ev))
	}
	var fails, unknowns int
	for _, f := range all {
		switch f.Result {
		case ResultFail:
			fails++
			row.Findings = append(row.Findings, f)
		case ResultUnknown:
			unknowns++
			row.Findings = append(row.Findings, f)
		case ResultCaveat:
			row.Caveats = append(row.Caveats, f)
		}
	}
	// Failures first, then what is unknown, each in rule order.
	slices.SortStableFunc(row.Findings, func(a, b Finding) int {
		if a.Result == b.Result {
			return 0
		}
		if a.Result == ResultFail {
			return -1
		}
		return 1
	})
	switch {
	case fails > 0:
		row.Verdict = NotReady
	case unknowns > 0:
		row.Verdict = Unknown
	default:
		row.Verdict = Ready
	}
	return row
}

// bestCandidate evaluates the presentation rules on every presentation the device can
// download and returns the one with the fewest failures (then unknowns), first in order.
func bestCandidate(prof *Profile, ev *Evidence) (candidate, bool) {
	var best candidate
	found := false
	for _, d := range prof.Deliveries {
		for i := range ev.Presentations {
			p := &ev.Presentations[i]
			if p.Delivery != d {
				continue
			}
			c := candidate{p: p}
			for _, r := range prof.Rules {
				if r.Scope != ScopePresentation {
					continue
				}
				f := apply(r, &ruleCtx{prof: prof, ev: ev, p: p})
				c.findings = append(c.findings, f)
				switch f.Result {
				case ResultFail:
					c.fails++
				case ResultUnknown:
					c.unknowns++
				}
			}
			if !found || c.fails < best.fails || c.fails == best.fails && c.unknowns < best.unknowns {
				best, found = c, true
			}
		}
	}
	return best, found
}

func apply(r Rule, c *ruleCtx) Finding {
	res, evidence := r.check(c)
	f := Finding{Rule: r.ID, Result: res, Says: r.Says, Evidence: evidence, Why: r.Why, Source: r.Source}
	if res != ResultPass {
		f.Fix = r.Fix
	}
	return f
}

// noCandidate is the finding when the package offers nothing the device downloads.
func noCandidate(prof *Profile, ev *Evidence) Finding {
	var want []string
	for _, d := range prof.Deliveries {
		want = append(want, deliveryName(d))
	}
	var have []string
	for _, p := range ev.Presentations {
		have = append(have, p.Location+" ("+deliveryName(p.Delivery)+")")
	}
	found := "the package offers " + orNone(have)
	if len(ev.Presentations) == 0 {
		found = "no package was examined (policy only)"
	}
	return Finding{Rule: "delivery", Result: ResultFail, Says: "The device downloads " + strings.Join(want, " or ") + ".",
		Evidence: found, Fix: "package " + strings.Join(want, " or ") + " output",
		Why:    "Each platform downloads its own form of the content.",
		Source: deliverySource(prof)}
}

func deliverySource(prof *Profile) string {
	switch prof.System {
	case drm.PlayReady:
		return srcPROffline
	case drm.FairPlay:
		return srcFPHLS
	}
	return srcMedia3DRM
}

func deliveryName(d Delivery) string {
	switch d {
	case DeliveryDASH:
		return "a DASH MPD"
	case DeliveryHLS:
		return "an HLS playlist"
	}
	return "a single-file MP4"
}

func via(p *Presentation) string {
	s := p.Location + " (" + string(p.Delivery)
	if len(p.Schemes) > 0 {
		s += ", " + schemesText(p)
	}
	return s + ")"
}

// Count returns how many rows have verdict v.
func (m Matrix) Count(v Verdict) int {
	n := 0
	for _, r := range m.Rows {
		if r.Verdict == v {
			n++
		}
	}
	return n
}

// Row returns the row of device id.
func (m Matrix) Row(id ProfileID) (Row, bool) {
	for _, r := range m.Rows {
		if r.Device == id {
			return r, true
		}
	}
	return Row{}, false
}
