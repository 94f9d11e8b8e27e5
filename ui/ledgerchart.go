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
	"satchel/engine/license"
)

// ledgerDecisions are the stacked series of the ledger chart, bottom up, with their colours
// (the timeline's: issued licenses blue, plays green, refusals red).
var ledgerDecisions = []struct {
	d   license.Decision
	col color.Color
}{{license.DecisionIssued, colorLicense}, {license.DecisionPlays, colorPlays}, {license.DecisionRefused, colorRefused}}

// ledgerChart draws the license ledger over time: a bar per interval, stacked by decision.
type ledgerChart struct {
	widget.BaseWidget
	buckets []services.LedgerBucket
	step    time.Duration
	bars    int // bars drawn (tests)
}

func newLedgerChart() *ledgerChart {
	c := &ledgerChart{}
	c.ExtendBaseWidget(c)
	return c
}

func (c *ledgerChart) set(b []services.LedgerBucket, step time.Duration) {
	c.buckets, c.step = b, step
	c.Refresh()
}

// CreateRenderer implements fyne.Widget.
func (c *ledgerChart) CreateRenderer() fyne.WidgetRenderer { return &ledgerRenderer{c: c} }

type ledgerRenderer struct {
	drawn
	c *ledgerChart
}

func (r *ledgerRenderer) MinSize() fyne.Size { return fyne.NewSize(360, 120) }
func (r *ledgerRenderer) Layout(s fyne.Size) { r.size = s; r.build() }
func (r *ledgerRenderer) Refresh()           { r.build(); canvas.Refresh(r.c) }

func (r *ledgerRenderer) build() {
	c := r.c
	fg, dim := theme.Color(theme.ColorNameForeground), theme.Color(theme.ColorNamePlaceHolder)
	r.objects, c.bars = nil, 0
	text := func(s string, col color.Color, x, y float32) *canvas.Text {
		t := canvas.NewText(s, col)
		t.TextSize = theme.TextSize() * 0.8
		t.Move(fyne.NewPos(x, y))
		r.objects = append(r.objects, t)
		return t
	}
	if len(c.buckets) == 0 {
		text("The ledger over time shows here once licenses are issued or plays simulated.", dim, 8, 8)
		return
	}
	const left, bottom, top = 40, 22, 22
	w, h := max(r.size.Width, 360), max(r.size.Height, 120)
	peak := 1
	for _, b := range c.buckets {
		n := 0
		for _, d := range ledgerDecisions {
			n += b.Counts[d.d]
		}
		peak = max(peak, n)
	}
	plotH := h - bottom - top
	barW := (w - left - 8) / float32(len(c.buckets))
	for i, b := range c.buckets {
		y := h - bottom
		for _, d := range ledgerDecisions {
			n := b.Counts[d.d]
			if n == 0 {
				continue
			}
			bh := plotH * float32(n) / float32(peak)
			rect := canvas.NewRectangle(d.col)
			rect.Move(fyne.NewPos(left+float32(i)*barW+1, y-bh))
			rect.Resize(fyne.NewSize(max(barW-2, 1), bh))
			r.objects = append(r.objects, rect)
			y -= bh
			c.bars++
		}
	}
	axis := canvas.NewLine(dim)
	axis.Position1, axis.Position2 = fyne.NewPos(left, h-bottom), fyne.NewPos(w-8, h-bottom)
	r.objects = append(r.objects, axis)
	text(fmt.Sprint(peak), fg, 8, top-6)
	text("0", fg, 8, h-bottom-12)
	first, last := c.buckets[0].Start, c.buckets[len(c.buckets)-1].Start.Add(c.step)
	text(first.Local().Format("Jan 2 15:04:05"), fg, left, h-bottom+4)
	end := text(last.Local().Format("Jan 2 15:04:05"), fg, 0, h-bottom+4)
	end.Move(fyne.NewPos(w-8-end.MinSize().Width, h-bottom+4))
	x := float32(left)
	for _, d := range ledgerDecisions {
		sw := canvas.NewRectangle(d.col)
		sw.Move(fyne.NewPos(x, 4))
		sw.Resize(fyne.NewSize(10, 10))
		r.objects = append(r.objects, sw)
		t := text(string(d.d), fg, x+14, 0)
		x += 14 + t.MinSize().Width + 16
	}
	text(fmt.Sprintf("per %s", c.step), dim, x, 0)
}
