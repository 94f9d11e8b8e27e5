package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"satchel/app/jobs"
	"satchel/app/services"
	"satchel/internal/humanize"
)

// runOperation opens the workspace in wsDir, runs the job start begins on it (see runJob)
// and returns the job's result; the workspace is closed once the job has ended.
func runOperation(e *env, wsDir string, asJSON bool, start func(*services.Service) (*jobs.Job, error)) (any, error) {
	svc, err := openWorkspace(e, wsDir)
	if err != nil {
		return nil, err
	}
	defer svc.Close()
	v, err := runJob(e, svc, asJSON, func() (*jobs.Job, error) { return start(svc) })
	if err != nil {
		return nil, &InputError{Err: err}
	}
	return v, nil
}

// runJob starts a job with start, renders its events on e.stderr until it ends (JSON lines
// with asJSON, otherwise a bar per item on a terminal and occasional lines elsewhere) and
// returns the job's result. The job runs under e.ctx: Ctrl+C cancels it.
func runJob(e *env, svc *services.Service, asJSON bool, start func() (*jobs.Job, error)) (any, error) {
	events, unsubscribe := svc.Jobs.Subscribe(256)
	defer unsubscribe()
	j, err := start()
	if err != nil {
		return nil, err
	}
	pp := newProgressPrinter(e.stderr, asJSON)
	for {
		select {
		case ev := <-events:
			if ev.JobID == j.ID() {
				pp.Event(ev)
			}
		case <-j.Done():
			for drained := false; !drained; {
				select {
				case ev := <-events:
					if ev.JobID == j.ID() {
						pp.Event(ev)
					}
				default:
					drained = true
				}
			}
			return j.Wait()
		}
	}
}

// progressPrinter renders jobs.Events on stderr: each event as one JSON line with --json, a
// redrawn bar per item on a terminal, and occasional plain lines otherwise (logs, CI).
// Messages and state changes always print; progress ticks of an item at most once per
// interval, except its last one.
type progressPrinter struct {
	mu       sync.Mutex
	w        io.Writer
	json     bool
	tty      bool
	interval time.Duration
	last     map[string]time.Time
	order    []string
	state    map[string]jobs.Event
	started  map[string]time.Time
	drawn    int
}

func newProgressPrinter(w io.Writer, jsonLines bool) *progressPrinter {
	p := &progressPrinter{w: w, json: jsonLines, tty: !jsonLines && isTerminal(w), interval: 2 * time.Second,
		last: map[string]time.Time{}, state: map[string]jobs.Event{}, started: map[string]time.Time{}}
	if p.tty {
		p.interval = 100 * time.Millisecond
	}
	return p
}

// Event renders one event.
func (p *progressPrinter) Event(ev jobs.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	progress := ev.Item != "" && ev.Total > 0
	if progress {
		if _, seen := p.state[ev.Item]; !seen {
			p.order = append(p.order, ev.Item)
			p.started[ev.Item] = time.Now()
		}
		if ev.Rate == 0 && ev.Done > 0 {
			if el := time.Since(p.started[ev.Item]).Seconds(); el > 0.2 {
				ev.Rate = float64(ev.Done) / el
			}
		}
		p.state[ev.Item] = ev
		final := ev.Done >= ev.Total || ev.Error != ""
		if now := time.Now(); !final && now.Sub(p.last[ev.Item]) < p.interval {
			return
		} else {
			p.last[ev.Item] = now
		}
	}
	switch {
	case p.json:
		b, err := json.Marshal(ev)
		if err == nil {
			fmt.Fprintf(p.w, "%s\n", b)
		}
	case progress && ev.Error == "":
		if p.tty {
			p.redraw()
		} else {
			fmt.Fprintln(p.w, line(ev))
		}
	case ev.Error != "" && ev.Item != "":
		p.println(ev.Item + ": " + ev.Error)
	case ev.Message != "":
		p.println(ev.Message)
	}
}

// println prints a status line above the bars.
func (p *progressPrinter) println(msg string) {
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
		fmt.Fprintf(p.w, "\x1b[2K%s\n", line(p.state[item]))
	}
	p.drawn = len(p.order)
}

// line is one item's bar: "360p  ████░░░░  42.0%  1.2 MiB/2.9 MiB  5.1 MiB/s  ETA 1s"; an encoder's
// adds its speed: "720p  ████░░░░  42.0%  40/96 frames  23.5 fps  0.98x  ETA 2s".
func line(ev jobs.Event) string {
	const width = 28
	pct := 0.0
	if ev.Total > 0 {
		pct = float64(ev.Done) * 100 / float64(ev.Total)
	}
	filled := min(int(pct/100*width), width)
	bar := strings.Repeat("█", filled) + strings.Repeat("░", width-filled)
	s := fmt.Sprintf("%-16s %s %5.1f%%  %s", ev.Item, bar, pct, amount(ev.Done, ev.Total, ev.Unit))
	if ev.Rate > 0 {
		s += "  " + rateString(ev.Rate, ev.Unit)
	}
	if ev.Speed > 0 {
		s += fmt.Sprintf("  %.2fx", ev.Speed)
	}
	if ev.Done >= ev.Total {
		s += "  done"
	} else if ev.ETA > 0 {
		s += "  ETA " + ev.ETA.Round(time.Second).String()
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
	switch unit {
	case "bytes":
		return humanize.Bytes(int64(rate)) + "/s"
	case "frames":
		return fmt.Sprintf("%.1f fps", rate)
	}
	return fmt.Sprintf("%.1f %s/s", rate, unit)
}
