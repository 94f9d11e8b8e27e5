package ui

import (
	"fmt"
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"satchel/app/services"
)

// Segment chart geometry.
const (
	sgLeft  = 150 // the rendition labels
	sgRight = 16
	sgTop   = 30 // the time axis labels
	sgRowH  = 46 // GOP ticks above, the segment bar, its labels
	sgMinW  = 560
)

// segmentChart draws the selected ladder on one time axis: a row per rendition with its GOPs
// as ticks (sync samples) and the segments packaging would cut as alternating blocks; a
// segment much longer than asked (a GOP that never ends) is drawn in the warning colour with
// its length, and a cut where a rendition has no sync sample is an error-coloured mark.
type segmentChart struct {
	widget.BaseWidget
	rows   []services.RenditionSegments
	target time.Duration
	long   []string // "name: segment N is D" for the long segments drawn (tests)
}

func newSegmentChart() *segmentChart {
	c := &segmentChart{}
	c.ExtendBaseWidget(c)
	return c
}

func (c *segmentChart) set(rows []services.RenditionSegments, target time.Duration) {
	c.rows, c.target = rows, target
	c.Refresh()
}

// CreateRenderer implements fyne.Widget.
func (c *segmentChart) CreateRenderer() fyne.WidgetRenderer { return &segmentRenderer{c: c} }

type segmentRenderer struct {
	drawn
	c *segmentChart
}

func (r *segmentRenderer) Layout(s fyne.Size) { r.size = s; r.build() }
func (r *segmentRenderer) Refresh()           { r.build(); canvas.Refresh(r.c) }

func (r *segmentRenderer) MinSize() fyne.Size {
	return fyne.NewSize(sgMinW, float32(sgTop+sgRowH*max(len(r.c.rows), 1)+28))
}

func (r *segmentRenderer) build() {
	c := r.c
	fg, dim := theme.Color(theme.ColorNameForeground), theme.Color(theme.ColorNamePlaceHolder)
	r.objects, c.long = nil, nil
	text := func(s string, col color.Color, size float32, x, y float32) *canvas.Text {
		t := canvas.NewText(s, col)
		t.TextSize = size
		t.Move(fyne.NewPos(x, y))
		r.objects = append(r.objects, t)
		return t
	}
	if len(c.rows) == 0 {
		text("Tick renditions in the list to see their GOPs and the segments a package would have.", dim,
			theme.TextSize(), 8, 8)
		return
	}
	end := time.Duration(0)
	for _, row := range c.rows {
		end = max(end, row.Duration)
	}
	w := max(r.size.Width, sgMinW)
	chart := w - sgLeft - sgRight
	x := func(d time.Duration) float32 {
		if end <= 0 {
			return sgLeft
		}
		return sgLeft + float32(float64(d)/float64(end))*chart
	}
	r.axis(end, x, fg, dim)
	primary := theme.Color(theme.ColorNamePrimary)
	shades := []color.Color{blend(primary, theme.Color(theme.ColorNameBackground), 0.85),
		blend(primary, theme.Color(theme.ColorNameBackground), 0.55)}
	for i, row := range c.rows {
		y := float32(sgTop + i*sgRowH)
		label := fmt.Sprintf("%s", row.Name)
		text(label, fg, theme.TextSize()*0.95, 8, y+6).TextStyle.Bold = true
		text(fmt.Sprintf("%dp · %d kb/s · %d GOPs", row.Height, row.Bitrate/1000, len(row.GOPs)), dim,
			theme.TextSize()*0.8, 8, y+24)
		for _, g := range row.GOPs { // GOP ticks
			l := canvas.NewLine(fg)
			l.StrokeWidth = 1
			l.Position1, l.Position2 = fyne.NewPos(x(g), y+6), fyne.NewPos(x(g), y+14)
			r.objects = append(r.objects, l)
		}
		for k, d := range row.SegmentDurations() {
			start := row.Segments[k]
			col := shades[k%2]
			if c.target > 0 && d > c.target*3/2 {
				col = theme.Color(theme.ColorNameWarning)
				c.long = append(c.long, fmt.Sprintf("%s: segment %d is %s", row.Name, k+1, d.Round(time.Millisecond)))
				t := text(fmt.Sprintf("%.0f s", d.Seconds()), theme.Color(theme.ColorNameForeground),
					theme.TextSize()*0.8, x(start)+3, y+30)
				t.TextStyle.Bold = true
			}
			rect := canvas.NewRectangle(col)
			rect.Move(fyne.NewPos(x(start), y+16))
			rect.Resize(fyne.NewSize(max(x(start+d)-x(start)-1, 1), 12))
			r.objects = append(r.objects, rect)
		}
		for _, m := range row.Misaligned {
			l := canvas.NewLine(theme.Color(theme.ColorNameError))
			l.StrokeWidth = 3
			l.Position1, l.Position2 = fyne.NewPos(x(m), y+2), fyne.NewPos(x(m), y+32)
			r.objects = append(r.objects, l)
		}
	}
	legendY := float32(sgTop + len(c.rows)*sgRowH + 6)
	text(fmt.Sprintf("ticks: GOP starts · blocks: segments of about %s · longer than 1.5× in the warning colour · "+
		"a red line: a cut with no sync sample here", c.target), dim, theme.TextSize()*0.8, 8, legendY)
}

func (r *segmentRenderer) axis(end time.Duration, x func(time.Duration) float32, fg, dim color.Color) {
	step := niceStep(end.Seconds(), 8)
	for s := 0.0; s <= end.Seconds()+1e-9; s += step {
		d := time.Duration(s * float64(time.Second))
		px := x(d)
		l := canvas.NewLine(withAlpha(dim, 0x60))
		l.Position1, l.Position2 = fyne.NewPos(px, sgTop-4), fyne.NewPos(px, float32(sgTop+len(r.c.rows)*sgRowH))
		t := canvas.NewText(fmt.Sprintf("%gs", s), fg)
		t.TextSize = theme.TextSize() * 0.8
		t.Move(fyne.NewPos(px-6, 4))
		r.objects = append(r.objects, l, t)
	}
}

// niceStep is a round axis step (1, 2, 5 × 10^n) giving at most about n ticks over span.
func niceStep(span float64, n int) float64 {
	if span <= 0 {
		return 1
	}
	for _, base := range []float64{0.1, 1, 10, 100, 1000, 10000} {
		for _, m := range []float64{1, 2, 5} {
			if span/(base*m) <= float64(n) {
				return base * m
			}
		}
	}
	return span
}
