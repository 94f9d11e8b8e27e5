package simulate

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// SVG geometry (pixels).
const (
	svgWidth  = 900
	svgLeft   = 120 // label column
	svgRight  = 24
	svgChart  = svgWidth - svgLeft - svgRight
	svgTop    = 86 // title lines and axis labels above the first lane
	svgRowH   = 30 // a window row: bar and its label
	svgMarkH  = 30 // the marks row
	svgLaneH  = 22 // the lane title
	svgLegend = 40
)

// svgStyle keeps every colour readable on light and dark pages: mid-tone fills with at least
// 3:1 contrast on white and on black, and text that switches with prefers-color-scheme.
const svgStyle = `<style>
.fg{fill:#52525b}.mute{fill:#71717a}.grid{stroke:#a1a1aa;stroke-opacity:.45}
.license{fill:#3b82f6}.rental{fill:#d97706}.playback{fill:#8b5cf6}
.ok{fill:#16a34a;stroke:#16a34a}.no{stroke:#dc2626;fill:#dc2626}.dl{fill:#71717a}
.run{stroke:#16a34a}.clock{stroke:#db2777;fill:#db2777}
text{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;font-size:12px}
.small{font-size:10.5px}.title{font-size:14px;font-weight:600}.lane{font-weight:600}
@media (prefers-color-scheme:dark){.fg{fill:#e4e4e7}.mute{fill:#a1a1aa}}
</style>`

// WriteSVG renders the timeline as a standalone SVG picture for reports: a day/hour axis, one
// lane per DRM system with its license windows as bars (license, rental, playback) and each
// play attempt as a mark (green dot: plays, red cross: refused; a green line while playing, a
// red bar where a clock stopped it). The output is deterministic.
func (tl *Timeline) WriteSVG(w io.Writer) error {
	var b strings.Builder
	height := svgTop + svgLegend
	for _, l := range tl.Lanes {
		height += tl.laneHeight(l)
	}
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" `+
		`role="img" aria-label="%s">`+"\n", svgWidth, height, svgWidth, height, esc("License timeline: "+tl.Scenario.String()))
	b.WriteString(svgStyle + "\n")
	tl.svgTitle(&b)
	tl.svgAxis(&b, height-svgLegend)
	y := svgTop
	for _, l := range tl.Lanes {
		tl.svgLane(&b, l, y)
		y += tl.laneHeight(l)
	}
	tl.svgClockChanges(&b, height-svgLegend)
	svgLegendRow(&b, height-svgLegend+18)
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func (tl *Timeline) laneHeight(l Lane) int {
	h := svgLaneH + svgMarkH
	for _, k := range windowRows {
		if hasKind(l, k) {
			h += svgRowH
		}
	}
	return h
}

func hasKind(l Lane, k WindowKind) bool {
	for _, w := range l.Windows {
		if w.Kind == k {
			return true
		}
	}
	return false
}

// x maps a scenario time to a horizontal pixel position.
func (tl *Timeline) x(o Offset) float64 {
	if tl.End <= 0 {
		return svgLeft
	}
	f := math.Min(math.Max(float64(o)/float64(tl.End), 0), 1)
	return svgLeft + f*svgChart
}

func (tl *Timeline) svgTitle(b *strings.Builder) {
	title := "Simulated device " + tl.Device
	if tl.Policy != "" {
		title += " · policy “" + tl.Policy + "”"
	}
	sc := "Scenario"
	if tl.Scenario.Name != "" {
		sc += " " + tl.Scenario.Name
	}
	fmt.Fprintf(b, `<text class="fg title" x="8" y="18">%s</text>`+"\n", esc(title))
	fmt.Fprintf(b, `<text class="mute small" x="8" y="34">%s: %s</text>`+"\n", esc(sc), esc(tl.Scenario.String()))
}

// svgAxis draws day ticks and labels, hour ticks when they fit, and vertical grid lines down
// to bottom.
func (tl *Timeline) svgAxis(b *strings.Builder, bottom int) {
	step := dayStep(tl.End, svgChart, 48)
	pxPerHour := float64(svgChart) / (float64(tl.End) / float64(Hour))
	hourStep := 0
	for _, h := range []int{1, 2, 3, 6, 12} {
		if float64(h)*pxPerHour >= 34 {
			hourStep = h
			break
		}
	}
	if hourStep > 0 && step == 1 {
		for h := hourStep; Offset(h)*Hour < tl.End; h += hourStep {
			if h%24 == 0 {
				continue
			}
			x := tl.x(Offset(h) * Hour)
			fmt.Fprintf(b, `<line class="grid" x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke-dasharray="2 4"/>`+"\n",
				x, svgTop-8, x, bottom)
			fmt.Fprintf(b, `<text class="mute small" x="%.1f" y="%d" text-anchor="middle">%02d:00</text>`+"\n",
				x, svgTop-10, h%24)
		}
	}
	for d := 0; Offset(d)*Day <= tl.End; d += step {
		x := tl.x(Offset(d) * Day)
		fmt.Fprintf(b, `<line class="grid" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>`+"\n", x, svgTop-40, x, bottom)
		if x < svgLeft+svgChart-36 {
			fmt.Fprintf(b, `<text class="fg small" x="%.1f" y="%d">day %d</text>`+"\n", x+3, svgTop-28, d+1)
		}
	}
}

func (tl *Timeline) svgLane(b *strings.Builder, l Lane, y int) {
	fmt.Fprintf(b, `<text class="fg lane" x="8" y="%d">%s</text>`+"\n", y+16, esc(l.System.Title()))
	fmt.Fprintf(b, `<line class="grid" x1="8" y1="%d" x2="%d" y2="%d"/>`+"\n", y+2, svgWidth-svgRight, y+2)
	y += svgLaneH
	for _, k := range windowRows {
		if !hasKind(l, k) {
			continue
		}
		fmt.Fprintf(b, `<text class="mute" x="20" y="%d">%s</text>`+"\n", y+12, k)
		for _, w := range l.Windows {
			if w.Kind == k {
				tl.svgWindow(b, w, y)
			}
		}
		y += svgRowH
	}
	fmt.Fprintf(b, `<text class="mute" x="20" y="%d">plays</text>`+"\n", y+18)
	for _, a := range l.Acquisitions {
		x := tl.x(a.At)
		fmt.Fprintf(b, `<path class="dl" d="M%.1f %dl-6 -9h12z"><title>%s</title></path>`+"\n", x, y+20,
			esc(a.At.Label()+": "+acquisitionText(a)))
	}
	for _, m := range l.Marks {
		tl.svgMark(b, m, y+14)
	}
}

func (tl *Timeline) svgWindow(b *strings.Builder, w Window, y int) {
	x1 := tl.x(w.From)
	x2, open := tl.x(tl.End), true
	if w.To != nil && *w.To <= tl.End {
		x2, open = tl.x(*w.To), false
	}
	width := math.Max(x2-x1, 1.5)
	opacity := "0.9"
	if w.Used {
		opacity = "0.45"
	}
	fmt.Fprintf(b, `<rect class="%s" x="%.1f" y="%d" width="%.1f" height="9" rx="2" fill-opacity="%s">`+
		`<title>%s</title></rect>`+"\n",
		w.Kind, x1, y+4, width, opacity, esc(w.Label))
	if open {
		fmt.Fprintf(b, `<path class="%s" d="M%.1f %dl8 8.5l-8 8.5z"/>`+"\n", w.Kind, x1+width, y)
	}
	lx, anchor := x1, "start"
	if x1 > svgLeft+svgChart*0.6 {
		lx, anchor = x1+width, "end"
	}
	fmt.Fprintf(b, `<text class="fg small" x="%.1f" y="%d" text-anchor="%s">%s</text>`+"\n",
		lx, y+25, anchor, esc(w.Label))
}

func (tl *Timeline) svgMark(b *strings.Builder, m Mark, cy int) {
	x := tl.x(m.At)
	tip := esc(m.Label() + ": " + markText(m))
	if m.Outcome == OutcomeRefused {
		fmt.Fprintf(b, `<g class="no" stroke-width="2.5"><title>%s</title><path d="M%.1f %dl10 10M%.1f %dl-10 10"/></g>`+"\n",
			tip, x-5, cy-5, x+5, cy-5)
		return
	}
	if m.For > 0 {
		end := m.At + m.For
		if m.Stopped != nil {
			end = m.Stopped.At
		}
		fmt.Fprintf(b, `<line class="run" x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke-width="3"/>`+"\n", x, cy, tl.x(end), cy)
		if m.Stopped != nil {
			fmt.Fprintf(b, `<rect class="no" x="%.1f" y="%d" width="3" height="16"><title>%s</title></rect>`+"\n",
				tl.x(end)-1.5, cy-8, esc(m.Stopped.At.Label()+": stopped: "+m.Stopped.Reason))
		}
	}
	fmt.Fprintf(b, `<circle class="ok" cx="%.1f" cy="%d" r="5.5"><title>%s</title></circle>`+"\n", x, cy, tip)
}

func (tl *Timeline) svgClockChanges(b *strings.Builder, bottom int) {
	var shift Offset
	for _, ev := range tl.Scenario.Events {
		if ev.Action != ActionClock {
			continue
		}
		shift += ev.Shift
		x := tl.x(ev.At)
		fmt.Fprintf(b, `<line class="clock" x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke-dasharray="5 3" `+
			`stroke-width="1.5"/>`+"\n", x, svgTop-6, x, bottom)
		fmt.Fprintf(b, `<text class="clock small" x="%.1f" y="%d">device clock %s</text>`+"\n",
			x+4, svgTop+8, esc(shiftLabel(ev.Shift)))
	}
}

func svgLegendRow(b *strings.Builder, y int) {
	x := 8.0
	item := func(shape, label string) {
		b.WriteString(fmt.Sprintf(shape, x, y) + "\n")
		fmt.Fprintf(b, `<text class="fg small" x="%.1f" y="%d">%s</text>`+"\n", x+16, y+4, label)
		x += 16 + 6*float64(len(label)) + 18
	}
	item(`<rect class="license" x="%.1f" y="%d" width="12" height="8" transform="translate(0 -4)"/>`, "license")
	item(`<rect class="rental" x="%.1f" y="%d" width="12" height="8" transform="translate(0 -4)"/>`, "rental (to start)")
	item(`<rect class="playback" x="%.1f" y="%d" width="12" height="8" transform="translate(0 -4)"/>`,
		"playback (after first play)")
	item(`<circle class="ok" cx="%.1f" cy="%d" r="5" transform="translate(6 0)"/>`, "plays")
	item(`<path class="no" d="M%.1f %dm1 -5l10 10m0 -10l-10 10" stroke-width="2.5"/>`, "refused")
	item(`<path class="dl" d="M%.1f %dm6 5l-6 -9h12z"/>`, "download")
}

func esc(s string) string { return html.EscapeString(s) }
