package ui

import (
	"fmt"
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// level is how a job ended, as its banner shows it.
type level int

// Levels of a banner, from the best news to the worst.
const (
	levelNone level = iota
	levelPass
	levelInfo // ran, and there is nothing to judge (a simulation)
	levelWarn
	levelFail
)

func (l level) mark() string {
	switch l {
	case levelPass:
		return "✓"
	case levelWarn:
		return "⚠"
	case levelFail:
		return "✖"
	}
	return "ℹ"
}

// levelColor is the theme colour of a level: success, warning, error or primary.
func levelColor(l level) color.Color {
	switch l {
	case levelPass:
		return theme.Color(theme.ColorNameSuccess)
	case levelWarn:
		return theme.Color(theme.ColorNameWarning)
	case levelFail:
		return theme.Color(theme.ColorNameError)
	}
	return theme.Color(theme.ColorNamePrimary)
}

// bannerTint is the banner's fill: the level's colour at 14 % over the background.
const bannerTint = 0.14

// issue is one warning or failure of a job, with its fix: the banner groups them.
type issue struct {
	group   string // a verify category, "policy", "packaging"…
	subject string
	message string
	fix     string
	fail    bool
}

// bannerAction is a next step the banner offers (Verify now, Publish, Open report…).
type bannerAction struct {
	label   string
	icon    fyne.Resource
	primary bool
	do      func()
}

// outcome is what a banner says about a finished job.
type outcome struct {
	level     level
	title     string // PASS, PASS WITH WARNINGS, FAIL, PUBLISHED…
	counts    string // "65 pass · 8 warn · 0 fail"
	detail    string // a second line: what was done, what went wrong
	pathLabel string // "Output", "Target", "Destination"
	path      string
	issues    []issue
	actions   []bannerAction
}

// banner is the coloured verdict at the top of a job screen: a mark and a title (PASS, PASS
// WITH WARNINGS, FAIL) with counts, the output path with a copy button, and the next steps;
// the warnings and failures are one click away (grouped, each with its fix). It takes no room
// until it has something to say.
type banner struct {
	widget.BaseWidget
	a       *App
	out     outcome
	bg      *canvas.Rectangle
	mark    *canvas.Text
	title   *canvas.Text
	counts  *widget.Label
	detail  *widget.Label
	path    *widget.Label
	pathRow *fyne.Container
	actions *fyne.Container
	issues  *widget.Button
	content *fyne.Container
	host    *fyne.Container // the container laid out around the banner (see above)
	compact bool            // one smaller line: a summary inside a view
}

// above puts b at the top of content: the screen's layout, re-laid out when b changes.
func (b *banner) above(content fyne.CanvasObject) *fyne.Container {
	b.host = container.NewBorder(b, nil, nil, nil, content)
	return b.host
}

// relayout lays the host out again: the banner's height changed.
func (b *banner) relayout() {
	if b.host != nil {
		b.host.Refresh()
	}
}

func newBanner(a *App) *banner {
	b := &banner{a: a}
	b.ExtendBaseWidget(b)
	b.bg = canvas.NewRectangle(color.Transparent)
	b.bg.CornerRadius = 6
	b.bg.StrokeWidth = 2
	b.mark = canvas.NewText("", color.Black)
	b.mark.TextSize = theme.TextSize() * 1.8
	b.mark.TextStyle.Bold = true
	b.title = canvas.NewText("", color.Black)
	b.title.TextSize = theme.TextSize() * 1.5
	b.title.TextStyle.Bold = true
	b.counts = widget.NewLabel("")
	b.detail = widget.NewLabel("")
	b.detail.Wrapping = fyne.TextWrapWord
	b.path = widget.NewLabel("")
	b.path.Wrapping = fyne.TextWrapBreak
	b.path.Selectable = true
	b.pathRow = container.NewBorder(nil, nil, nil, nil, b.path)
	if a != nil {
		b.pathRow = container.NewBorder(nil, nil, nil, a.copyButton("Copy path", func() string { return b.out.path }), b.path)
	}
	b.issues = widget.NewButtonWithIcon("", theme.ListIcon(), func() { b.showIssues() })
	if a == nil {
		b.issues.Hide() // a banner inside a view that shows its own details
	}
	b.actions = container.NewHBox()
	head := container.NewHBox(b.mark, container.NewCenter(b.title), b.counts)
	b.content = container.NewVBox(head, b.detail, b.pathRow, b.actions)
	b.Hide()
	return b
}

// set shows o.
func (b *banner) set(o outcome) {
	b.out = o
	b.mark.Text = o.level.mark()
	b.title.Text = o.title
	b.counts.SetText(o.counts)
	b.detail.SetText(o.detail)
	b.detail.Hidden = o.detail == "" || b.compact
	b.path.SetText(strings.TrimSpace(o.pathLabel + ": " + o.path))
	b.pathRow.Hidden = o.path == ""
	b.actions.Objects = nil
	for _, act := range o.actions {
		btn := widget.NewButtonWithIcon(act.label, act.icon, act.do)
		if act.primary {
			btn.Importance = widget.HighImportance
		}
		b.actions.Add(btn)
	}
	if len(o.issues) > 0 && b.a != nil {
		b.issues.SetText(issueCount(o.issues))
		b.actions.Add(b.issues)
	}
	b.actions.Hidden = len(b.actions.Objects) == 0
	b.Show()
	b.Refresh()
	b.relayout()
}

// running shows that a job is under way (a neutral banner without actions).
func (b *banner) running(title, detail string) {
	b.set(outcome{level: levelInfo, title: title, detail: detail})
}

// clear hides the banner.
func (b *banner) clear() {
	b.out = outcome{}
	b.Hide()
	b.relayout()
}

// actionLabels lists the banner's buttons, in order (tests).
func (b *banner) actionLabels() []string {
	var out []string
	for _, o := range b.actions.Objects {
		out = append(out, o.(*widget.Button).Text)
	}
	return out
}

// button returns the banner's button labelled label, or nil.
func (b *banner) button(label string) *widget.Button {
	for _, o := range b.actions.Objects {
		if btn := o.(*widget.Button); btn.Text == label {
			return btn
		}
	}
	return nil
}

// issueCount words the issues button: "Show 2 failures and 8 warnings".
func issueCount(issues []issue) string {
	fails, warns := 0, 0
	for _, is := range issues {
		if is.fail {
			fails++
		} else {
			warns++
		}
	}
	var parts []string
	if fails > 0 {
		parts = append(parts, plural(fails, "failure", "failures"))
	}
	if warns > 0 {
		parts = append(parts, plural(warns, "warning", "warnings"))
	}
	return "Show " + strings.Join(parts, " and ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// showIssues opens the warnings and failures, grouped, in a dialog sized to the window.
func (b *banner) showIssues() {
	box := issuesBox(b.out.issues)
	d := dialog.NewCustom(b.out.title+" — "+issueCount(b.out.issues)[len("Show "):], "Close",
		container.NewVScroll(box), b.a.win)
	b.a.showDialog(d, 0.8)
}

// issuesBox lays the issues out by group (groups with failures first), each with its fix:
// every row is a wrapping label in a box, so it takes the height of its text.
func issuesBox(issues []issue) *fyne.Container {
	var groups []string
	byGroup := map[string][]issue{}
	for _, is := range issues {
		if _, ok := byGroup[is.group]; !ok {
			groups = append(groups, is.group)
		}
		byGroup[is.group] = append(byGroup[is.group], is)
	}
	hasFail := func(g string) bool {
		for _, is := range byGroup[g] {
			if is.fail {
				return true
			}
		}
		return false
	}
	var ordered []string
	for _, g := range groups {
		if hasFail(g) {
			ordered = append(ordered, g)
		}
	}
	for _, g := range groups {
		if !hasFail(g) {
			ordered = append(ordered, g)
		}
	}
	box := container.NewVBox()
	for _, g := range ordered {
		box.Add(heading(fmt.Sprintf("%s (%d)", g, len(byGroup[g]))))
		for _, is := range byGroup[g] {
			box.Add(issueRow(is))
		}
	}
	return box
}

// issueRow is one issue: what was found (in the error or warning colour) and the fix.
func issueRow(is issue) fyne.CanvasObject {
	mark, imp := "⚠", widget.WarningImportance
	if is.fail {
		mark, imp = "✖", widget.DangerImportance
	}
	what := widget.NewLabel(strings.TrimSpace(fmt.Sprintf("%s %s: %s", mark, is.subject, is.message)))
	what.Wrapping = fyne.TextWrapWord
	what.Importance = imp
	rows := container.NewVBox(what)
	if is.fix != "" {
		fix := widget.NewLabelWithStyle("Fix: "+is.fix, fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
		fix.Wrapping = fyne.TextWrapWord
		rows.Add(container.NewPadded(fix))
	}
	return rows
}

// CreateRenderer implements fyne.Widget.
func (b *banner) CreateRenderer() fyne.WidgetRenderer {
	return &bannerRenderer{b: b}
}

type bannerRenderer struct{ b *banner }

func (r *bannerRenderer) pad() float32 { return theme.Padding() * 2 }

func (r *bannerRenderer) Layout(s fyne.Size) {
	r.b.bg.Resize(s)
	p := r.pad()
	r.b.content.Move(fyne.NewPos(p, p/2))
	r.b.content.Resize(fyne.NewSize(s.Width-2*p, s.Height-p))
}

func (r *bannerRenderer) MinSize() fyne.Size {
	m := r.b.content.MinSize()
	p := r.pad()
	return fyne.NewSize(m.Width+2*p, m.Height+p)
}

func (r *bannerRenderer) Refresh() {
	c := levelColor(r.b.out.level)
	r.b.bg.FillColor = blend(c, theme.Color(theme.ColorNameBackground), bannerTint)
	r.b.bg.StrokeColor = c
	r.b.mark.Color = c
	scale := float32(1)
	if r.b.compact {
		scale = 0.7
	}
	r.b.mark.TextSize = theme.TextSize() * 1.8 * scale
	r.b.title.Color = theme.Color(theme.ColorNameForeground)
	r.b.title.TextSize = theme.TextSize() * 1.5 * scale
	r.b.bg.Refresh()
	r.b.mark.Refresh()
	r.b.title.Refresh()
	r.b.content.Refresh()
}

func (r *bannerRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.b.bg, r.b.content}
}

func (r *bannerRenderer) Destroy() {}
