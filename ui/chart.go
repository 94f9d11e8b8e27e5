package ui

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"satchel/engine/encode"
)

// What the chart can plot on its y axis: the ladder's resolutions (the rows being edited,
// against their target bit rates) or a quality metric of an encoded ladder (against the
// measured bit rates).
const (
	metricLadder = "Ladder"
	metricPSNR   = "PSNR"
	metricSSIM   = "SSIM"
	metricVMAF   = "VMAF"
)

// qualityChart plots a ladder's bit rate against its resolution or its quality: one labelled
// point per rung, joined from the lowest bit rate up. With metricLadder the points are the
// rungs being edited at (target bit rate, height), the shape of the ladder before anything is
// encoded; with a quality metric they are the encoded rungs at (measured video bit rate,
// PSNR/SSIM/VMAF), so a rung that costs bits without raising quality over the one below shows
// as a flat or falling step.
type qualityChart struct {
	widget.BaseWidget
	points []encode.QualityPoint // by measured bit rate, lowest first (Result.QualityTable)
	rungs  []encode.Rung         // the ladder being edited
	metric string
}

func newQualityChart() *qualityChart {
	c := &qualityChart{metric: metricPSNR}
	c.ExtendBaseWidget(c)
	return c
}

// setPoints replaces the plotted rungs.
func (c *qualityChart) setPoints(pts []encode.QualityPoint) {
	c.points = pts
	c.Refresh()
}

// setRungs replaces the ladder plotted with metricLadder.
func (c *qualityChart) setRungs(rungs []encode.Rung) {
	c.rungs = rungs
	c.Refresh()
}

// setMetric chooses the y axis: metricLadder, metricPSNR, metricSSIM or metricVMAF.
func (c *qualityChart) setMetric(m string) {
	c.metric = m
	c.Refresh()
}

// value is the plotted quality of p, and whether p has it (VMAF may be missing).
func (c *qualityChart) value(p encode.QualityPoint) (float64, bool) {
	switch c.metric {
	case metricSSIM:
		return p.SSIM, true
	case metricVMAF:
		if p.VMAF == nil {
			return 0, false
		}
		return *p.VMAF, true
	}
	return p.PSNR, true
}

// yTitle is the y axis title with its unit.
func (c *qualityChart) yTitle() string {
	switch c.metric {
	case metricLadder:
		return "Resolution (height, px)"
	case metricSSIM:
		return "SSIM (1 = identical to the master)"
	case metricVMAF:
		return "VMAF (0–100)"
	}
	return "PSNR (dB)"
}

// x axis titles: target bit rates for the ladder, measured ones for quality.
const (
	xTitleLadder  = "Video bit rate, target (kb/s)"
	xTitleQuality = "Video bit rate, measured (kb/s)"
)

// xTitle is the x axis title.
func (c *qualityChart) xTitle() string {
	if c.metric == metricLadder {
		return xTitleLadder
	}
	return xTitleQuality
}

// plotted is what the chart shows for its metric, lowest bit rate first.
func (c *qualityChart) plotted() []plotted {
	var pts []plotted
	if c.metric == metricLadder {
		for _, r := range c.rungs {
			pts = append(pts, plotted{x: float64(r.VideoBitrate) / 1000, y: float64(r.Height),
				label: fmt.Sprintf("%dp %dk", r.Height, r.VideoBitrate.Kbps())})
		}
		slices.SortStableFunc(pts, func(a, b plotted) int { return cmp.Compare(a.x, b.x) })
		return pts
	}
	for _, p := range c.points {
		if v, ok := c.value(p); ok {
			pts = append(pts, plotted{x: float64(p.VideoBitrate) / 1000, y: v, label: pointLabel(p)})
		}
	}
	return pts
}

// emptyText is what the chart says when it has no point to plot.
func (c *qualityChart) emptyText() string {
	if c.metric == metricLadder {
		return "No rungs yet: choose a master and a ladder preset, or add rows."
	}
	return "No quality measured yet: encode with “Measure quality” ticked."
}

func (c *qualityChart) CreateRenderer() fyne.WidgetRenderer {
	r := &chartRenderer{c: c}
	r.rebuild()
	return r
}

// chartRenderer draws the chart from canvas primitives; it rebuilds them on every refresh
// (a ladder has at most encode.MaxRungs points).
type chartRenderer struct {
	drawn
	c *qualityChart
}

func (r *chartRenderer) MinSize() fyne.Size { return fyne.NewSize(320, 300) }

func (r *chartRenderer) Refresh() {
	r.rebuild()
	canvas.Refresh(r.c)
}

func (r *chartRenderer) Layout(size fyne.Size) {
	if size != r.size {
		r.size = size
		r.rebuild()
	}
}

// Chart margins: room for tick labels on the left and below, the y title above.
const (
	chartLeft   = 64
	chartRight  = 24
	chartTop    = 28
	chartBottom = 44
	chartTicks  = 5
)

// plotted is one point in data units with its label.
type plotted struct {
	x, y  float64
	label string
}

// rebuild lays every primitive out for the current size, points and metric.
func (r *chartRenderer) rebuild() {
	size := r.size
	if size.Width <= 0 || size.Height <= 0 {
		size = r.MinSize()
	}
	fg := theme.Color(theme.ColorNameForeground)
	grid := theme.Color(theme.ColorNameSeparator)
	pts := r.c.plotted()
	plotW, plotH := size.Width-chartLeft-chartRight, size.Height-chartTop-chartBottom
	objs := []fyne.CanvasObject{}
	yTitle := canvas.NewText(r.c.yTitle(), fg)
	yTitle.TextStyle.Bold = true
	yTitle.TextSize = theme.TextSize() * 0.9
	yTitle.Move(fyne.NewPos(4, 4))
	xTitleText := canvas.NewText(r.c.xTitle(), fg)
	xTitleText.TextStyle.Bold = true
	xTitleText.TextSize = theme.TextSize() * 0.9
	xw := fyne.MeasureText(xTitleText.Text, xTitleText.TextSize, xTitleText.TextStyle).Width
	xTitleText.Move(fyne.NewPos(chartLeft+(plotW-xw)/2, size.Height-theme.TextSize()-6))
	objs = append(objs, yTitle, xTitleText)
	xAxis := canvas.NewLine(fg)
	xAxis.Position1, xAxis.Position2 = fyne.NewPos(chartLeft, chartTop+plotH), fyne.NewPos(chartLeft+plotW, chartTop+plotH)
	yAxis := canvas.NewLine(fg)
	yAxis.Position1, yAxis.Position2 = fyne.NewPos(chartLeft, chartTop), fyne.NewPos(chartLeft, chartTop+plotH)
	objs = append(objs, xAxis, yAxis)
	if len(pts) == 0 || plotW < 40 || plotH < 40 {
		msg := canvas.NewText(r.c.emptyText(), fg)
		msg.TextSize = theme.TextSize() * 0.9
		msg.Move(fyne.NewPos(chartLeft+8, chartTop+plotH/2))
		r.objects = append(objs, msg)
		return
	}
	xr, yr := axisRange(pts, func(p plotted) float64 { return p.x }, true),
		axisRange(pts, func(p plotted) float64 { return p.y }, r.c.metric == metricLadder)
	toPos := func(x, y float64) fyne.Position {
		return fyne.NewPos(chartLeft+float32((x-xr[0])/(xr[1]-xr[0]))*plotW,
			chartTop+plotH-float32((y-yr[0])/(yr[1]-yr[0]))*plotH)
	}
	objs = append(objs, r.ticks(xr, yr, toPos, fg, grid)...)
	objs = append(objs, r.series(pts, toPos)...)
	r.objects = objs
}

// ticks draws the grid lines and tick labels of both axes, at round values.
func (r *chartRenderer) ticks(xr, yr [2]float64, toPos func(x, y float64) fyne.Position, fg, grid color.Color) []fyne.CanvasObject {
	var objs []fyne.CanvasObject
	small := theme.TextSize() * 0.8
	text := func(s string) (*canvas.Text, float32) {
		t := canvas.NewText(s, fg)
		t.TextSize = small
		return t, fyne.MeasureText(s, small, t.TextStyle).Width
	}
	for _, x := range niceTicks(xr) {
		p, top := toPos(x, yr[0]), toPos(x, yr[1])
		g := canvas.NewLine(grid)
		g.Position1, g.Position2 = top, p
		lbl, w := text(formatTick(x, xr))
		lbl.Move(fyne.NewPos(p.X-w/2, p.Y+4))
		objs = append(objs, g, lbl)
	}
	for _, y := range niceTicks(yr) {
		q, right := toPos(xr[0], y), toPos(xr[1], y)
		h := canvas.NewLine(grid)
		h.Position1, h.Position2 = q, right
		lbl, w := text(formatTick(y, yr))
		lbl.Move(fyne.NewPos(q.X-w-6, q.Y-small/2-2))
		objs = append(objs, h, lbl)
	}
	return objs
}

// tickStep is a round step (1, 2, 2.5 or 5 times a power of ten) giving at least chartTicks
// intervals over the range.
func tickStep(r [2]float64) float64 {
	raw := (r[1] - r[0]) / chartTicks
	if raw <= 0 {
		return 1
	}
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{2, 2.5, 5} {
		if m*mag <= raw {
			step = m * mag
		}
	}
	return step
}

// niceTicks are the multiples of tickStep inside the range.
func niceTicks(r [2]float64) []float64 {
	step := tickStep(r)
	var out []float64
	for v := math.Ceil(r[0]/step) * step; v <= r[1]+step*1e-9 && len(out) < 4*chartTicks; v += step {
		out = append(out, v)
	}
	return out
}

// series draws the line through the points, the points and their labels.
func (r *chartRenderer) series(pts []plotted, toPos func(x, y float64) fyne.Position) []fyne.CanvasObject {
	var objs []fyne.CanvasObject
	accent := theme.Color(theme.ColorNamePrimary)
	fg := theme.Color(theme.ColorNameForeground)
	for i := 1; i < len(pts); i++ {
		l := canvas.NewLine(accent)
		l.StrokeWidth = 2
		l.Position1, l.Position2 = toPos(pts[i-1].x, pts[i-1].y), toPos(pts[i].x, pts[i].y)
		objs = append(objs, l)
	}
	const radius = 5
	small := theme.TextSize() * 0.8
	var placed []rect
	for _, p := range pts {
		c := toPos(p.x, p.y)
		dot := canvas.NewCircle(accent)
		dot.StrokeColor, dot.StrokeWidth = fg, 1
		dot.Move(fyne.NewPos(c.X-radius, c.Y-radius))
		dot.Resize(fyne.NewSize(2*radius, 2*radius))
		placed = append(placed, rect{c.X - radius, c.Y - radius, 2 * radius, 2 * radius})
		objs = append(objs, dot)
	}
	for _, p := range pts {
		c := toPos(p.x, p.y)
		lbl := canvas.NewText(p.label, fg)
		lbl.TextSize = small
		sz := fyne.MeasureText(p.label, small, lbl.TextStyle)
		box := r.placeLabel(c, sz, radius+3, placed)
		placed = append(placed, box)
		lbl.Move(fyne.NewPos(box.x, box.y))
		objs = append(objs, lbl)
	}
	return objs
}

// rect is an area taken on the chart (a point or a label).
type rect struct{ x, y, w, h float32 }

func (a rect) overlaps(b rect) bool {
	return a.x < b.x+b.w && b.x < a.x+a.w && a.y < b.y+b.h && b.y < a.y+a.h
}

// placeLabel puts a label of size sz next to the point at c: the first of eight positions
// around it, at growing distances, that stays inside the plot and overlaps nothing placed,
// else the least crowded.
func (r *chartRenderer) placeLabel(c fyne.Position, sz fyne.Size, gap float32, placed []rect) rect {
	best, bestHits := rect{c.X + gap, c.Y - sz.Height - gap/2, sz.Width, sz.Height}, -1
	for _, g := range []float32{gap, 2.5 * gap, 4 * gap} {
		for _, b := range labelSpots(c, sz, g) {
			if b.x < chartLeft || b.x+b.w > r.size.Width-2 || b.y < chartTop-4 || b.y+b.h > r.size.Height-chartBottom {
				continue
			}
			hits := 0
			for _, p := range placed {
				if b.overlaps(p) {
					hits++
				}
			}
			if hits == 0 {
				return b
			}
			if bestHits < 0 || hits < bestHits {
				best, bestHits = b, hits
			}
		}
	}
	return best
}

// labelSpots are the eight places for a label of size sz at distance gap from the point c.
func labelSpots(c fyne.Position, sz fyne.Size, gap float32) []rect {
	return []rect{
		{c.X + gap, c.Y - sz.Height - gap/2, sz.Width, sz.Height}, // right, above
		{c.X + gap, c.Y + gap/2, sz.Width, sz.Height},             // right, below
		{c.X - gap - sz.Width, c.Y - sz.Height - gap/2, sz.Width, sz.Height},
		{c.X - gap - sz.Width, c.Y + gap/2, sz.Width, sz.Height},
		{c.X - sz.Width/2, c.Y - sz.Height - 2*gap, sz.Width, sz.Height}, // centred above
		{c.X - sz.Width/2, c.Y + 2*gap, sz.Width, sz.Height},             // centred below
		{c.X + gap, c.Y - sz.Height/2, sz.Width, sz.Height},              // right
		{c.X - gap - sz.Width, c.Y - sz.Height/2, sz.Width, sz.Height},   // left
	}
}

// pointLabel names a rung on the chart: its height and its value.
func pointLabel(p encode.QualityPoint) string {
	return fmt.Sprintf("%dp %dk", p.Height, (p.VideoBitrate+500)/1000)
}

// axisRange is the range of one axis with a margin, starting at zero for bit rates when the
// points are not far from it.
func axisRange(pts []plotted, v func(plotted) float64, fromZero bool) [2]float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		lo, hi = math.Min(lo, v(p)), math.Max(hi, v(p))
	}
	span := hi - lo
	if span <= 0 {
		span = math.Max(math.Abs(hi)*0.1, 1e-3)
	}
	lo, hi = lo-span*0.12, hi+span*0.12
	if fromZero && lo < span {
		lo = 0
	}
	return [2]float64{lo, hi}
}

// formatTick prints a tick value with the decimals its axis's step needs (0.25: two).
func formatTick(v float64, r [2]float64) string {
	step := tickStep(r)
	d := 0
	for ; d < 6; d++ {
		scaled := step * math.Pow(10, float64(d))
		if math.Abs(scaled-math.Round(scaled)) < 1e-6*math.Max(1, scaled) {
			break
		}
	}
	return fmt.Sprintf("%.*f", d, v)
}
