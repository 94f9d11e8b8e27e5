package ui

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"satchel/engine/drm"
	"satchel/engine/simulate"
)

// Timeline colours: the SVG report's palette (engine/simulate), mid tones with at least 3:1
// contrast on light and dark backgrounds. Text and grid lines take the theme's colours.
var (
	colorLicense  = color.NRGBA{0x3b, 0x82, 0xf6, 0xff}
	colorRental   = color.NRGBA{0xd9, 0x77, 0x06, 0xff}
	colorPlayback = color.NRGBA{0x8b, 0x5c, 0xf6, 0xff}
	colorPlays    = color.NRGBA{0x16, 0xa3, 0x4a, 0xff}
	colorRefused  = color.NRGBA{0xdc, 0x26, 0x26, 0xff}
	colorDownload = color.NRGBA{0x71, 0x71, 0x7a, 0xff}
	colorClock    = color.NRGBA{0xdb, 0x27, 0x77, 0xff}
)

// Timeline geometry (device-independent pixels).
const (
	tlLeft   = 118 // the label column
	tlRight  = 24
	tlTop    = 78 // title, scenario and axis labels
	tlLaneH  = 24 // a lane's title row
	tlRowH   = 32 // a window row: its label and its bar
	tlMarkH  = 30 // the plays row
	tlLegend = 34
	tlMinW   = 640
)

var windowKinds = []simulate.WindowKind{simulate.WindowLicense, simulate.WindowRental, simulate.WindowPlayback}

func windowColor(k simulate.WindowKind) color.NRGBA {
	switch k {
	case simulate.WindowRental:
		return colorRental
	case simulate.WindowPlayback:
		return colorPlayback
	}
	return colorLicense
}

// timelineMark is one drawn play attempt, kept so tests can read what the picture shows.
type timelineMark struct {
	system  drm.System
	outcome simulate.Outcome
	color   color.Color
	at      fyne.Position
}

// timelineView draws a simulated device's timeline on the canvas: one lane per DRM system,
// its license windows as bars (license, rental = time to start, playback = after the first
// play), each download as a grey triangle, each play attempt as a mark (a green dot: plays, a
// red cross: refused; a green line while it plays, a red bar where a clock stopped it) and
// device clock changes as pink lines. It is the same picture as the report's SVG.
type timelineView struct {
	widget.BaseWidget
	tl    *simulate.Timeline
	marks []timelineMark // rebuilt at each layout
}

func newTimelineView() *timelineView {
	v := &timelineView{}
	v.ExtendBaseWidget(v)
	return v
}

// set shows tl (nil: nothing).
func (v *timelineView) set(tl *simulate.Timeline) {
	v.tl = tl
	v.Refresh()
}

// CreateRenderer implements fyne.Widget.
func (v *timelineView) CreateRenderer() fyne.WidgetRenderer {
	return &timelineRenderer{v: v}
}

type timelineRenderer struct {
	drawn
	v *timelineView
}

func (r *timelineRenderer) Refresh() {
	r.build(r.size)
	canvas.Refresh(r.v)
}

func (r *timelineRenderer) Layout(s fyne.Size) {
	r.size = s
	r.build(s)
}

func (r *timelineRenderer) MinSize() fyne.Size {
	tl := r.v.tl
	if tl == nil {
		return fyne.NewSize(tlMinW, 40)
	}
	h := float32(tlTop + tlLegend)
	for _, l := range tl.Lanes {
		h += laneHeight(l)
	}
	return fyne.NewSize(tlMinW, h)
}

func laneHeight(l simulate.Lane) float32 {
	h := float32(tlLaneH + tlMarkH)
	for _, k := range windowKinds {
		if laneHas(l, k) {
			h += tlRowH
		}
	}
	return h
}

func laneHas(l simulate.Lane, k simulate.WindowKind) bool {
	for _, w := range l.Windows {
		if w.Kind == k {
			return true
		}
	}
	return false
}

// drawing collects the objects of one layout.
type drawing struct {
	tl      *simulate.Timeline
	width   float32
	bottom  float32
	objects []fyne.CanvasObject
	marks   []timelineMark
	fg, dim color.Color
}

func (r *timelineRenderer) build(s fyne.Size) {
	tl := r.v.tl
	r.objects, r.v.marks = nil, nil
	if tl == nil {
		t := canvas.NewText("Run a scenario to see the license timeline.", theme.Color(theme.ColorNamePlaceHolder))
		t.Move(fyne.NewPos(8, 8))
		r.objects = []fyne.CanvasObject{t}
		return
	}
	d := &drawing{tl: tl, width: max(s.Width, tlMinW), fg: theme.Color(theme.ColorNameForeground),
		dim: theme.Color(theme.ColorNameDisabled)}
	d.bottom = r.MinSize().Height - tlLegend
	d.title()
	d.axis()
	y := float32(tlTop)
	for _, l := range tl.Lanes {
		d.lane(l, y)
		y += laneHeight(l)
	}
	d.clockChanges()
	d.legend(d.bottom + 14)
	r.objects, r.v.marks = d.objects, d.marks
}

func (d *drawing) x(o simulate.Offset) float32 {
	chart := d.width - tlLeft - tlRight
	if d.tl.End <= 0 {
		return tlLeft
	}
	f := math.Min(math.Max(float64(o)/float64(d.tl.End), 0), 1)
	return tlLeft + float32(f)*chart
}

func (d *drawing) text(s string, c color.Color, size float32, bold bool, x, y float32) *canvas.Text {
	t := canvas.NewText(s, c)
	t.TextSize = size
	t.TextStyle.Bold = bold
	t.Move(fyne.NewPos(x, y))
	d.objects = append(d.objects, t)
	return t
}

func (d *drawing) line(c color.Color, w, x1, y1, x2, y2 float32) {
	l := canvas.NewLine(c)
	l.StrokeWidth = w
	l.Position1, l.Position2 = fyne.NewPos(x1, y1), fyne.NewPos(x2, y2)
	d.objects = append(d.objects, l)
}

func (d *drawing) rect(c color.Color, x, y, w, h float32) {
	r := canvas.NewRectangle(c)
	r.CornerRadius = 2
	r.Move(fyne.NewPos(x, y))
	r.Resize(fyne.NewSize(w, h))
	d.objects = append(d.objects, r)
}

func (d *drawing) title() {
	title := "Simulated device " + d.tl.Device
	if d.tl.Policy != "" {
		title += " · policy “" + d.tl.Policy + "”"
	}
	sc := "Scenario"
	if d.tl.Scenario.Name != "" {
		sc += " " + d.tl.Scenario.Name
	}
	d.text(title, d.fg, 14, true, 8, 0)
	d.text(sc+": "+d.tl.Scenario.String(), d.fg, 11, false, 8, 20)
}

// axis draws a line and a label per day (every few days when they do not fit), and hour
// ticks when there is room for them.
func (d *drawing) axis() {
	chart := d.width - tlLeft - tlRight
	days := float32(d.tl.End) / float32(simulate.Day)
	step := 1
	for days/float32(step) > chart/52 { // a day label needs about 52 px
		step++
	}
	pxPerHour := chart / (days * 24)
	for _, h := range []int{6, 12} {
		if float32(h)*pxPerHour < 40 || step > 1 {
			continue
		}
		for t := h; simulate.Offset(t)*simulate.Hour < d.tl.End; t += h {
			if t%24 == 0 {
				continue
			}
			x := d.x(simulate.Offset(t) * simulate.Hour)
			d.line(withAlpha(d.dim, 0x50), 1, x, tlTop-6, x, d.bottom)
			d.text(fmt.Sprintf("%02d:00", t%24), d.dim, 9, false, x-12, tlTop-20)
		}
		break
	}
	for day := 0; simulate.Offset(day)*simulate.Day <= d.tl.End; day += step {
		x := d.x(simulate.Offset(day) * simulate.Day)
		d.line(withAlpha(d.dim, 0xa0), 1, x, tlTop-22, x, d.bottom)
		if x < d.width-tlRight-36 {
			d.text("day "+strconv.Itoa(day+1), d.fg, 11, false, x+3, tlTop-36)
		}
	}
}

func (d *drawing) lane(l simulate.Lane, y float32) {
	d.line(withAlpha(d.dim, 0xa0), 1, 8, y+2, d.width-tlRight, y+2)
	d.text(l.System.Title(), d.fg, 13, true, 8, y+3)
	y += tlLaneH
	for _, k := range windowKinds {
		if !laneHas(l, k) {
			continue
		}
		d.text(string(k), d.fg, 11, false, 20, y+8)
		for _, w := range l.Windows {
			if w.Kind == k {
				d.window(w, y)
			}
		}
		y += tlRowH
	}
	d.text("plays", d.fg, 11, false, 20, y+7)
	for _, a := range l.Acquisitions {
		tri := &canvas.Polygon{Sides: 3, Angle: 180, FillColor: colorDownload}
		tri.Move(fyne.NewPos(d.x(a.At)-6, y+4))
		tri.Resize(fyne.NewSize(12, 12))
		d.objects = append(d.objects, tri)
	}
	for _, m := range l.Marks {
		d.mark(l.System, m, y+14)
	}
}

func (d *drawing) window(w simulate.Window, y float32) {
	x1 := d.x(w.From)
	x2 := d.x(d.tl.End)
	if w.To != nil && *w.To <= d.tl.End {
		x2 = d.x(*w.To)
	}
	c := windowColor(w.Kind)
	if w.Used {
		c.A = 0x70
	}
	d.rect(c, x1, y+18, max(x2-x1, 2), 9)
	label := d.text(w.Label, d.fg, 10, false, x1, y+2)
	if lw := label.MinSize().Width; x1+lw > d.width-tlRight {
		label.Move(fyne.NewPos(max(tlLeft, x2-lw), y+2))
	}
}

func (d *drawing) mark(sys drm.System, m simulate.Mark, cy float32) {
	x := d.x(m.At)
	if m.Outcome == simulate.OutcomeRefused {
		d.line(colorRefused, 2.5, x-5, cy-5, x+5, cy+5)
		d.line(colorRefused, 2.5, x+5, cy-5, x-5, cy+5)
		d.marks = append(d.marks, timelineMark{system: sys, outcome: m.Outcome, color: colorRefused, at: fyne.NewPos(x, cy)})
		return
	}
	if m.For > 0 {
		end := m.At + m.For
		if m.Stopped != nil {
			end = m.Stopped.At
		}
		d.line(colorPlays, 3, x, cy, d.x(end), cy)
		if m.Stopped != nil {
			d.rect(colorRefused, d.x(end)-1.5, cy-8, 3, 16)
		}
	}
	c := canvas.NewCircle(colorPlays)
	c.Move(fyne.NewPos(x-5.5, cy-5.5))
	c.Resize(fyne.NewSize(11, 11))
	d.objects = append(d.objects, c)
	d.marks = append(d.marks, timelineMark{system: sys, outcome: m.Outcome, color: colorPlays, at: fyne.NewPos(x, cy)})
}

func (d *drawing) clockChanges() {
	for _, ev := range d.tl.Scenario.Events {
		if ev.Action != simulate.ActionClock {
			continue
		}
		x := d.x(ev.At)
		d.line(colorClock, 1.5, x, tlTop-6, x, d.bottom)
		sign := "+"
		if ev.Shift < 0 {
			sign = ""
		}
		d.text("device clock "+sign+ev.Shift.String(), colorClock, 10, false, x+4, tlTop-6)
	}
}

func (d *drawing) legend(y float32) {
	x := float32(8)
	item := func(draw func(x float32), label string) {
		draw(x)
		t := d.text(label, d.fg, 11, false, x+16, y-7)
		x += 16 + t.MinSize().Width + 18
	}
	for _, k := range windowKinds {
		c := windowColor(k)
		label := map[simulate.WindowKind]string{simulate.WindowLicense: "license", simulate.WindowRental: "rental (to start)",
			simulate.WindowPlayback: "playback (after the first play)"}[k]
		item(func(x float32) { d.rect(c, x, y-4, 12, 8) }, label)
	}
	item(func(x float32) {
		c := canvas.NewCircle(colorPlays)
		c.Move(fyne.NewPos(x, y-5))
		c.Resize(fyne.NewSize(10, 10))
		d.objects = append(d.objects, c)
	}, "plays")
	item(func(x float32) {
		d.line(colorRefused, 2.5, x, y-5, x+10, y+5)
		d.line(colorRefused, 2.5, x+10, y-5, x, y+5)
	}, "refused")
	item(func(x float32) {
		tri := &canvas.Polygon{Sides: 3, Angle: 180, FillColor: colorDownload}
		tri.Move(fyne.NewPos(x, y-6))
		tri.Resize(fyne.NewSize(12, 12))
		d.objects = append(d.objects, tri)
	}, "download")
}

func withAlpha(c color.Color, a uint8) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), a}
}
