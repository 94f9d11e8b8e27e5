package simulate

import (
	"fmt"
	"io"
	"math"
	"strings"

	"satchel/engine/drm"
)

// Text chart geometry: a label column and a chart of fixed width.
const (
	textLabel = 12
	textChart = 60
)

// windowRows is the order of a lane's window rows.
var windowRows = []WindowKind{WindowLicense, WindowRental, WindowPlayback}

// WriteText renders the timeline for a terminal: a header, a chart with the day axis, per
// lane one row per kind of window and one row of marks, then every event's decisions in
// order with the clock that refused each refused play.
func (tl *Timeline) WriteText(w io.Writer) error {
	var b strings.Builder
	tl.textHeader(&b)
	tl.textAxis(&b)
	for _, lane := range tl.Lanes {
		tl.textLane(&b, lane)
	}
	b.WriteString("\n" + strings.Repeat(" ", textLabel) +
		"↓ download  ✓ plays  ✗ refused  - playing  ! stopped by a clock  * clock changed  [=] window  > runs on\n\n")
	tl.textDecisions(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

func (tl *Timeline) textHeader(b *strings.Builder) {
	fmt.Fprintf(b, "Simulated device %q, content %s", tl.Device, tl.Content)
	if tl.Policy != "" {
		fmt.Fprintf(b, ", policy %q", tl.Policy)
	}
	b.WriteString("\nScenario")
	if tl.Scenario.Name != "" {
		b.WriteString(" " + tl.Scenario.Name)
	}
	b.WriteString(": " + tl.Scenario.String() + "\n\n")
}

// col maps a scenario time to a chart column (0 … textChart).
func (tl *Timeline) col(o Offset) int {
	if tl.End <= 0 {
		return 0
	}
	c := int(math.Round(float64(o) / float64(tl.End) * textChart))
	return min(max(c, 0), textChart)
}

// dayStep is the number of days between axis labels so that labels of width chars fit.
func dayStep(end Offset, width int, chars int) int {
	days := int(math.Ceil(float64(end) / float64(Day)))
	perDay := float64(width) / float64(max(days, 1))
	for _, s := range []int{1, 2, 5, 7, 10, 14, 30, 60, 90, 180, 365, 730, 1825, 3650} {
		if float64(s)*perDay >= float64(chars) {
			return s
		}
	}
	return days
}

func (tl *Timeline) textAxis(b *strings.Builder) {
	labels := []rune(strings.Repeat(" ", textChart+8))
	ticks := []rune(strings.Repeat(" ", textChart+1))
	step := dayStep(tl.End, textChart, 8)
	for d := 0; Offset(d)*Day <= tl.End; d += step {
		c := tl.col(Offset(d) * Day)
		ticks[c] = '|'
		copy(labels[c:], []rune(fmt.Sprintf("day %d", d+1)))
	}
	pad := strings.Repeat(" ", textLabel)
	fmt.Fprintf(b, "%s%s\n%s%s\n", pad, strings.TrimRight(string(labels), " "), pad, strings.TrimRight(string(ticks), " "))
	var clock []rune
	for _, ev := range tl.Scenario.Events {
		if ev.Action == ActionClock {
			if clock == nil {
				clock = []rune(strings.Repeat(" ", textChart+1))
			}
			clock[tl.col(ev.At)] = '*'
		}
	}
	if clock != nil {
		fmt.Fprintf(b, "%-*s%s\n", textLabel, "  clock", strings.TrimRight(string(clock), " "))
	}
}

func (tl *Timeline) textLane(b *strings.Builder, lane Lane) {
	fmt.Fprintf(b, "%s\n", lane.System.Title())
	for _, kind := range windowRows {
		row := []rune(strings.Repeat(" ", textChart+1))
		var names []string
		for _, w := range lane.Windows {
			if w.Kind != kind {
				continue
			}
			tl.drawWindow(row, w)
			names = append(names, w.Label)
		}
		if names != nil {
			fmt.Fprintf(b, "%-*s%s  %s\n", textLabel, "  "+string(kind), string(row), strings.Join(names, "; "))
		}
	}
	row := []rune(strings.Repeat(" ", textChart+1))
	for _, a := range lane.Acquisitions {
		row[tl.col(a.At)] = '↓'
	}
	for _, m := range lane.Marks {
		tl.drawMark(row, m)
	}
	fmt.Fprintf(b, "%-*s%s\n", textLabel, "  plays", strings.TrimRight(string(row), " "))
}

func (tl *Timeline) drawWindow(row []rune, w Window) {
	from := tl.col(max(w.From, 0))
	to, open := textChart, true
	if w.To != nil && *w.To <= tl.End {
		to, open = tl.col(*w.To), false
	}
	if w.To != nil && *w.To < 0 {
		return
	}
	for c := from; c <= to; c++ {
		row[c] = '='
	}
	row[from] = '['
	if open {
		row[to] = '>'
	} else if to > from {
		row[to] = ']'
	}
}

func (tl *Timeline) drawMark(row []rune, m Mark) {
	start := tl.col(m.At)
	if m.Outcome == OutcomePlays && m.For > 0 {
		end := tl.col(m.At + m.For)
		if m.Stopped != nil {
			end = tl.col(m.Stopped.At)
		}
		for c := start + 1; c <= end; c++ {
			if row[c] == ' ' {
				row[c] = '-'
			}
		}
		if m.Stopped != nil && end > start {
			row[end] = '!'
		}
	}
	switch {
	case m.Outcome == OutcomeRefused:
		row[start] = '✗'
	case row[start] != '✗':
		row[start] = '✓'
	}
}

// Step is one scenario event's result on one lane: what the text rendering lists under the
// chart, and what a screen shows as the list of decisions.
type Step struct {
	At Offset `json:"at"`
	// Event is what happened: "download", "play", "play 2 h", "clock".
	Event string `json:"event"`
	// System is the lane; empty for a device clock change, which concerns every lane.
	System drm.System `json:"system,omitempty"`
	// Outcome is set for a play attempt.
	Outcome Outcome `json:"outcome,omitempty"`
	// Text is the result in words: "✓ plays (first play)", "✗ refused: <the clock, in the
	// system's terms>", "↓ license issued and stored", "device clock set -2 d (…)".
	Text string `json:"text"`
	// event is the index of the scenario event.
	event int
}

// Steps lists every event with each lane's result, in scenario order.
func (tl *Timeline) Steps() []Step {
	var out []Step
	next := make([]struct{ acq, mark int }, len(tl.Lanes))
	var shift Offset
	for e, ev := range tl.Scenario.Events {
		what := string(ev.Action)
		if ev.Action == ActionPlay && ev.For > 0 {
			what += " " + human(ev.For)
		}
		if ev.Action == ActionClock {
			shift += ev.Shift
			out = append(out, Step{At: ev.At, Event: what, event: e, Text: fmt.Sprintf("device clock set %s (it shows %s)",
				shiftLabel(ev.Shift), (ev.At + shift).Label())})
			continue
		}
		for i, lane := range tl.Lanes {
			st := Step{At: ev.At, Event: what, System: lane.System, event: e}
			switch ev.Action {
			case ActionDownload:
				if n := next[i].acq; n < len(lane.Acquisitions) {
					st.Text = acquisitionText(lane.Acquisitions[n])
				}
				next[i].acq++
			case ActionPlay:
				if n := next[i].mark; n < len(lane.Marks) {
					st.Text, st.Outcome = markText(lane.Marks[n]), lane.Marks[n].Outcome
				}
				next[i].mark++
			}
			out = append(out, st)
		}
	}
	return out
}

// textDecisions lists every event with each lane's result, in scenario order.
func (tl *Timeline) textDecisions(b *strings.Builder) {
	steps := tl.Steps()
	for i, st := range steps {
		lead := fmt.Sprintf("  %-15s %-11s", st.At.Label(), st.Event)
		if i > 0 && steps[i-1].event == st.event {
			lead = strings.Repeat(" ", len([]rune(lead)))
		}
		if st.System == "" {
			fmt.Fprintf(b, "%s%s\n", lead, st.Text)
		} else {
			fmt.Fprintf(b, "%s%-10s %s\n", lead, st.System.Title(), st.Text)
		}
	}
}

func acquisitionText(a Acquisition) string {
	switch {
	case !a.Issued:
		return "✗ no license: " + a.Reason
	case a.Stored:
		s := "↓ license issued and stored"
		if a.ExpiresAt != nil {
			s += ", expires " + a.ExpiresAt.UTC().Format("2006-01-02 15:04 MST")
		}
		if a.Reason != "" {
			s += " (" + a.Reason + ")"
		}
		return s
	}
	return "↓ license issued, not stored: " + a.Reason
}

func markText(m Mark) string {
	if m.Outcome == OutcomeRefused {
		s := "✗ refused: " + m.Reason
		if m.DeviceTime != "" {
			s += " [device clock shows " + m.DeviceTime + "]"
		}
		return s
	}
	s := "✓ plays"
	if m.FirstPlay {
		s += " (first play)"
	}
	if m.DeviceTime != "" {
		s += " [device clock shows " + m.DeviceTime + "]"
	}
	if m.Stopped != nil {
		s += "; stopped on " + m.Stopped.At.Label() + ": " + m.Stopped.Reason
	}
	if m.Note != "" {
		s += "; " + m.Note
	}
	return s
}
