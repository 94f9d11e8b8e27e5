package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"satchel/engine/verify"
)

// findingsView lists a report's findings by category: an accordion item per category (its
// counts in the title; categories with warnings or failures open), a wrapping label per
// finding with its fix, so every row is as tall as its text. "Only warnings and failures"
// hides what passed.
type findingsView struct {
	obj      fyne.CanvasObject
	acc      *widget.Accordion
	empty    *widget.Label
	problems *widget.Check
	report   *verify.Report
	rows     []*widget.Label // the finding labels shown (tests)
}

func newFindingsView() *findingsView {
	v := &findingsView{}
	v.acc = widget.NewAccordion()
	v.acc.MultiOpen = true
	v.empty = widget.NewLabel("No findings yet: verify a package, a manifest, a folder or an MP4 to see what " +
		"was checked here.")
	v.empty.Wrapping = fyne.TextWrapWord
	v.problems = widget.NewCheck("only warnings and failures", func(bool) { v.build() })
	v.obj = container.NewBorder(v.problems, nil, nil, nil, container.NewVScroll(container.NewVBox(v.empty, v.acc)))
	return v
}

// set shows rep's findings (nil: the empty state).
func (v *findingsView) set(rep *verify.Report) {
	v.report = rep
	v.build()
}

func (v *findingsView) build() {
	v.acc.Items = nil
	v.rows = nil
	rep := v.report
	v.empty.Hidden = rep != nil
	if rep == nil {
		v.acc.Refresh()
		return
	}
	for _, cat := range categoriesOf(rep) {
		p, w, f := countIn(rep, cat)
		box := container.NewVBox()
		for _, fd := range rep.Findings {
			if fd.Category != cat || (v.problems.Checked && fd.Status == verify.Pass) {
				continue
			}
			l := widget.NewLabel(findingText(fd))
			l.Wrapping = fyne.TextWrapWord
			switch fd.Status {
			case verify.Fail:
				l.Importance = widget.DangerImportance
			case verify.Warn:
				l.Importance = widget.WarningImportance
			}
			v.rows = append(v.rows, l)
			box.Add(l)
		}
		if len(box.Objects) == 0 {
			continue
		}
		item := widget.NewAccordionItem(fmt.Sprintf("%s  (%d pass, %d warn, %d fail)", cat, p, w, f), box)
		item.Open = w+f > 0
		v.acc.Append(item)
	}
	if len(v.acc.Items) == 0 {
		v.empty.SetText("Nothing to show: every check passed.")
		v.empty.Show()
	}
	v.acc.Refresh()
}

// categoriesOf lists rep's finding categories in the order they were first checked.
func categoriesOf(rep *verify.Report) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range rep.Findings {
		if !seen[f.Category] {
			seen[f.Category] = true
			out = append(out, f.Category)
		}
	}
	return out
}

func countIn(rep *verify.Report, cat string) (pass, warn, fail int) {
	for _, x := range rep.Findings {
		if x.Category != cat {
			continue
		}
		switch x.Status {
		case verify.Pass:
			pass++
		case verify.Warn:
			warn++
		case verify.Fail:
			fail++
		}
	}
	return pass, warn, fail
}

// findingText is one finding as the list shows it: its mark, subject and message, where it
// was found, and (unless it passed) the fix.
func findingText(f verify.Finding) string {
	mark := map[verify.Severity]string{verify.Pass: "✓", verify.Warn: "⚠", verify.Fail: "✖"}[f.Status]
	txt := fmt.Sprintf("%s %s: %s", mark, f.Subject, f.Message)
	if loc := f.Location(); loc != "" && f.Status != verify.Pass {
		txt += "\n    at " + loc
	}
	if f.Fix != "" && f.Status != verify.Pass {
		txt += "\n    fix: " + f.Fix
	}
	return strings.TrimSpace(txt)
}

// reportIssues are rep's warnings and failures, grouped by category, for the banner.
func reportIssues(rep *verify.Report) []issue {
	var out []issue
	for _, f := range rep.Findings {
		if f.Status == verify.Pass {
			continue
		}
		out = append(out, issue{group: f.Category, subject: f.Subject, message: f.Message, fix: f.Fix,
			fail: f.Status == verify.Fail})
	}
	return out
}

// reportCounts words a report's summary: "65 pass · 8 warn · 0 fail".
func reportCounts(rep *verify.Report) string {
	return fmt.Sprintf("%d pass · %d warn · %d fail", rep.Summary.Pass, rep.Summary.Warn, rep.Summary.Fail)
}

// reportLevel is the banner level of a report's verdict.
func reportLevel(rep *verify.Report) level {
	switch {
	case rep.Summary.Fail > 0:
		return levelFail
	case rep.Summary.Warn > 0:
		return levelWarn
	}
	return levelPass
}
