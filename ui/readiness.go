package ui

import (
	"fmt"
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"satchel/engine/devices"
)

// Readiness table columns.
const (
	colMark = iota
	colDevice
	colVerdict
	colWhy
	readinessCols
)

// readinessView is the offline readiness matrix of a verification: a table with a row per
// device (✓ ready, ✕ not ready, ? unknown; the device; the verdict; why and the fix) and, for
// the selected row, every finding with the evidence found, the fix, why and the source.
type readinessView struct {
	obj     fyne.CanvasObject
	summary *banner
	table   *widget.Table
	detail  *widget.Label
	matrix  *devices.Matrix
}

// newReadinessView builds the view; controls (the device filter and the scenario of the next
// run) sit at the right of its summary line.
func newReadinessView(controls fyne.CanvasObject) *readinessView {
	v := &readinessView{}
	v.summary = newBanner(nil)
	v.summary.compact = true
	v.summary.set(outcome{level: levelInfo, title: "Offline readiness",
		detail: "Verify a package to see which devices can play it offline."})
	v.detail = widget.NewLabel("Verify a package to see which devices can play it offline; select a device for " +
		"every rule, the evidence and the fix.")
	v.detail.Wrapping = fyne.TextWrapWord
	v.table = widget.NewTableWithHeaders(v.size, v.createCell, v.updateCell)
	v.table.ShowHeaderColumn = false
	v.table.CreateHeader = v.createCell
	v.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		title := []string{"", "Device", "Verdict", "Why not ready → fix"}[id.Col]
		setCell(o, title, theme.Color(theme.ColorNameForeground), true)
	}
	v.table.SetColumnWidth(colMark, 28)
	v.table.SetColumnWidth(colDevice, 140)
	v.table.SetColumnWidth(colVerdict, 80)
	v.table.SetColumnWidth(colWhy, 2000)
	v.table.OnSelected = func(id widget.TableCellID) { v.showDetail(id.Row) }
	split := container.NewHSplit(v.table, container.NewVScroll(v.detail))
	split.Offset = 0.6
	v.obj = v.summary.above(container.NewBorder(controls, nil, nil, nil, split))
	return v
}

// cellLayout places a cell's text at its left, centred vertically, with little padding: the
// eleven device rows fit above the findings.
type cellLayout struct{}

func (cellLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	m := objs[0].MinSize()
	objs[0].Resize(fyne.NewSize(size.Width-8, m.Height))
	objs[0].Move(fyne.NewPos(4, (size.Height-m.Height)/2))
}

func (cellLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	m := objs[0].MinSize()
	return fyne.NewSize(m.Width+8, m.Height+8)
}

func setCell(o fyne.CanvasObject, text string, c color.Color, bold bool) {
	t := o.(*fyne.Container).Objects[0].(*canvas.Text)
	t.Text, t.Color, t.TextStyle.Bold = text, c, bold
	t.Refresh()
}

// cellText returns the text object of a cell (tests read what a cell shows).
func cellText(o fyne.CanvasObject) *canvas.Text { return o.(*fyne.Container).Objects[0].(*canvas.Text) }

func (v *readinessView) size() (int, int) {
	if v.matrix == nil {
		return 0, readinessCols
	}
	return len(v.matrix.Rows), readinessCols
}

func (v *readinessView) createCell() fyne.CanvasObject {
	t := canvas.NewText("not ready", theme.Color(theme.ColorNameForeground))
	return container.New(cellLayout{}, t)
}

func (v *readinessView) updateCell(id widget.TableCellID, o fyne.CanvasObject) {
	text, c, bold := v.cell(id.Row, id.Col)
	setCell(o, text, c, bold)
	if t := cellText(o); id.Col == colMark {
		t.TextSize = theme.TextSize() * 1.3
	} else {
		t.TextSize = theme.TextSize()
	}
}

// cell is the text of one cell, its colour and weight: the mark and the verdict in the
// theme's success (✓), error (✕) or warning (?) colour.
func (v *readinessView) cell(row, col int) (string, color.Color, bool) {
	fg := theme.Color(theme.ColorNameForeground)
	if v.matrix == nil || row < 0 || row >= len(v.matrix.Rows) {
		return "", fg, false
	}
	r := v.matrix.Rows[row]
	switch col {
	case colMark:
		return r.Verdict.Symbol(), verdictColor(r.Verdict), true // drawn larger: see updateCell
	case colDevice:
		return string(r.Device), fg, true
	case colVerdict:
		return r.Verdict.Label(), verdictColor(r.Verdict), false
	}
	return rowWhy(r), fg, false
}

func verdictColor(v devices.Verdict) color.Color {
	switch v {
	case devices.Ready:
		return theme.Color(theme.ColorNameSuccess)
	case devices.NotReady:
		return theme.Color(theme.ColorNameError)
	}
	return theme.Color(theme.ColorNameWarning)
}

// rowWhy sums a row up: the first failing rule with its evidence and fix, or for a ready
// device how (and its caveats).
func rowWhy(r devices.Row) string {
	if len(r.Findings) > 0 {
		f := r.Findings[0]
		s := string(f.Rule)
		if f.Fix != "" {
			s += " → " + f.Fix
		}
		if n := len(r.Findings) - 1; n > 0 {
			s += fmt.Sprintf(" (+%d more)", n)
		}
		return s + " · found: " + f.Evidence
	}
	s := r.Name
	if r.Via != "" {
		s += " — via " + r.Via
	}
	if len(r.Caveats) > 0 {
		s += fmt.Sprintf(" (! %s)", r.Caveats[0].Evidence)
	}
	return s
}

// set shows m (nil: no matrix, e.g. a rendition folder was verified).
func (v *readinessView) set(m *devices.Matrix) {
	v.matrix = m
	v.detail.SetText("Select a device to see every rule it fails, the evidence found and where, the fix, why " +
		"and the source.")
	v.table.UnselectAll()
	v.summary.set(readinessOutcome(m))
	v.table.Refresh()
	if m != nil {
		for i, r := range m.Rows {
			if r.Verdict != devices.Ready {
				v.table.Select(widget.TableCellID{Row: i, Col: colDevice}) // the first device that cannot play
				break
			}
		}
	}
}

// readinessOutcome is the readiness banner: READY OFFLINE when every device is, NOT READY
// ON n OF m otherwise, with the counts and the policy.
func readinessOutcome(m *devices.Matrix) outcome {
	if m == nil {
		return outcome{level: levelInfo, title: "Offline readiness",
			detail: "The target offers nothing a device downloads (verify a package, manifest or MP4)."}
	}
	pol := "No policy given: whether licenses persist is unknown."
	if m.Policy != "" {
		pol = fmt.Sprintf("Under policy “%s”.", m.Policy)
	}
	ready, not, unknown := m.Count(devices.Ready), m.Count(devices.NotReady), m.Count(devices.Unknown)
	o := outcome{level: levelPass, title: "READY OFFLINE", detail: pol + " Select a device for every rule, " +
		"the evidence and the fix.",
		counts: fmt.Sprintf("%d ready · %d not ready · %d unknown", ready, not, unknown)}
	switch {
	case not > 0:
		o.level, o.title = levelWarn, fmt.Sprintf("NOT READY ON %d OF %d DEVICES", not, len(m.Rows))
	case unknown > 0:
		o.level, o.title = levelInfo, fmt.Sprintf("READY ON %d OF %d DEVICES", ready, len(m.Rows))
	}
	return o
}

func (v *readinessView) showDetail(row int) {
	if v.matrix == nil || row < 0 || row >= len(v.matrix.Rows) {
		return
	}
	r := v.matrix.Rows[row]
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s — %s: %s", r.Verdict.Symbol(), r.Device, r.Name, r.Verdict.Label())
	if r.Via != "" {
		fmt.Fprintf(&b, " (via %s)", r.Via)
	}
	for _, f := range append(append([]devices.Finding(nil), r.Findings...), r.Caveats...) {
		fmt.Fprintf(&b, "\n\n%s — %s\nFound: %s", f.Rule, f.Says, f.Evidence)
		if f.Fix != "" {
			fmt.Fprintf(&b, "\nFix: %s", f.Fix)
		}
		fmt.Fprintf(&b, "\nWhy: %s\nSource: %s", f.Why, f.Source)
	}
	v.detail.SetText(b.String())
}
