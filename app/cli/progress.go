package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"satchel/internal/humanize"
	"strings"
	"sync"
	"time"
)

// progressLine is one progress event as printed with --json (one JSON object per line).
type progressLine struct {
	Event   string  `json:"event"`
	Item    string  `json:"item"`
	Done    int64   `json:"done"`
	Total   int64   `json:"total"`
	Unit    string  `json:"unit"`
	Percent float64 `json:"percent"`
	ETA     float64 `json:"eta_seconds,omitempty"`
	Rate    float64 `json:"rate,omitempty"`
	Message string  `json:"message,omitempty"`
}

// progressPrinter renders progress for several items on stderr: JSON lines with --json, a
// redrawn bar per item on a terminal, and occasional plain lines otherwise (logs, CI).
type progressPrinter struct {
	mu       sync.Mutex
	w        io.Writer
	json     bool
	tty      bool
	last     map[string]time.Time
	order    []string
	state    map[string]progressLine
	drawn    int
	interval time.Duration
	started  map[string]time.Time
}

func newProgressPrinter(w io.Writer, jsonLines bool) *progressPrinter {
	p := &progressPrinter{w: w, json: jsonLines, tty: !jsonLines && isTerminal(w),
		last: map[string]time.Time{}, state: map[string]progressLine{}, interval: 2 * time.Second,
		started: map[string]time.Time{}}
	if p.tty {
		p.interval = 100 * time.Millisecond
	}
	return p
}

// Update reports progress of item; final events are always printed.
func (p *progressPrinter) Update(item string, done, total int64, unit string, eta time.Duration, rate float64, final bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pl := progressLine{Event: "progress", Item: item, Done: done, Total: total, Unit: unit, ETA: eta.Seconds(), Rate: rate}
	if total > 0 {
		pl.Percent = float64(done) * 100 / float64(total)
	}
	if final {
		pl.Event = "done"
	}
	if _, seen := p.state[item]; !seen {
		p.order = append(p.order, item)
		p.started[item] = time.Now()
	}
	if rate == 0 && done > 0 {
		if el := time.Since(p.started[item]).Seconds(); el > 0.2 {
			pl.Rate = float64(done) / el
		}
	}
	p.state[item] = pl
	now := time.Now()
	if !final && now.Sub(p.last[item]) < p.interval {
		return
	}
	p.last[item] = now
	switch {
	case p.json:
		b, _ := json.Marshal(pl)
		fmt.Fprintf(p.w, "%s\n", b)
	case p.tty:
		p.redraw()
	default:
		fmt.Fprintf(p.w, "%s\n", p.line(pl))
	}
}

// Message prints a free-form status line (a JSON "message" event with --json).
func (p *progressPrinter) Message(format string, a ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	msg := fmt.Sprintf(format, a...)
	if p.json {
		b, _ := json.Marshal(progressLine{Event: "message", Message: msg})
		fmt.Fprintf(p.w, "%s\n", b)
		return
	}
	if p.tty && p.drawn > 0 {
		fmt.Fprintf(p.w, "\x1b[%dA\x1b[J", p.drawn)
		p.drawn = 0
	}
	fmt.Fprintln(p.w, msg)
	if p.tty {
		p.redraw()
	}
}

func (p *progressPrinter) redraw() {
	if p.drawn > 0 {
		fmt.Fprintf(p.w, "\x1b[%dA", p.drawn)
	}
	for _, item := range p.order {
		fmt.Fprintf(p.w, "\x1b[2K%s\n", p.line(p.state[item]))
	}
	p.drawn = len(p.order)
}

func (p *progressPrinter) line(pl progressLine) string {
	const width = 28
	filled := int(pl.Percent / 100 * width)
	if filled > width {
		filled = width
	}
	bar := strings.Repeat("█", filled) + strings.Repeat("░", width-filled)
	s := fmt.Sprintf("%-14s %s %5.1f%%  %s", pl.Item, bar, pl.Percent, amount(pl.Done, pl.Total, pl.Unit))
	if pl.Rate > 0 {
		s += "  " + rateString(pl.Rate, pl.Unit)
	}
	if pl.Event == "done" {
		s += "  done"
	} else if pl.ETA > 0 {
		s += fmt.Sprintf("  ETA %s", (time.Duration(pl.ETA) * time.Second).Round(time.Second))
	}
	return s
}

func amount(done, total int64, unit string) string {
	if unit == "bytes" {
		return humanize.Bytes(done) + "/" + humanize.Bytes(total)
	}
	return fmt.Sprintf("%d/%d %s", done, total, unit)
}

func rateString(rate float64, unit string) string {
	if unit == "bytes" {
		return humanize.Bytes(int64(rate)) + "/s"
	}
	return fmt.Sprintf("%.1f %s/s", rate, unit)
}

// humanBytes formats n with binary units (1.5 MiB).
