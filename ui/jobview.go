package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"satchel/app/jobs"
	"satchel/internal/humanize"
)

// jobView shows a running job: one progress bar per item (rendition, upload), rate and ETA,
// a log, and a cancel button.
type jobView struct {
	a       *App
	box     *fyne.Container
	bars    map[string]*widget.ProgressBar
	labels  map[string]*widget.Label
	items   *fyne.Container
	logText *widget.Label
	status  *widget.Label
	cancel  *widget.Button
	job     *jobs.Job
	pending []*jobs.Job // started from this screen while job runs: followed next
	lines   []string
	// onDone runs on the UI goroutine when the job finishes.
	onDone func(rec jobs.Record, result any, err error)
}

func newJobView(a *App) *jobView {
	v := &jobView{a: a, bars: map[string]*widget.ProgressBar{}, labels: map[string]*widget.Label{}}
	v.items = container.NewVBox()
	v.logText = widget.NewLabel("")
	v.logText.Wrapping = fyne.TextWrapWord
	v.status = widget.NewLabel("idle")
	v.cancel = widget.NewButton("Cancel", func() {
		if v.job != nil {
			v.job.Cancel()
		}
	})
	v.cancel.Disable()
	v.box = container.NewVBox(container.NewHBox(v.status, v.cancel), v.items, widget.NewAccordion(widget.NewAccordionItem("Log", logBox(v.logText))))
	return v
}

// start follows job j (called on the UI goroutine).
func (v *jobView) start(j *jobs.Job) {
	if v.busy(j) {
		return
	}
	v.job = j
	v.items.Objects = nil
	v.bars, v.labels = map[string]*widget.ProgressBar{}, map[string]*widget.Label{}
	v.lines = nil
	v.logText.SetText("")
	v.status.SetText("running: " + j.Snapshot().Title)
	v.cancel.Enable()
	events, unsub := v.a.svc.Jobs.Subscribe(256)
	go func() {
		defer unsub()
		for {
			select {
			case ev := <-events:
				if ev.JobID != j.ID() {
					continue
				}
				fyne.Do(func() { v.event(ev) })
			case <-j.Done():
				// Drain what is queued, then finish.
				for {
					select {
					case ev := <-events:
						if ev.JobID == j.ID() {
							fyne.Do(func() { v.event(ev) })
						}
						continue
					default:
					}
					break
				}
				res, err := j.Wait()
				rec := j.Snapshot()
				fyne.Do(func() { v.finish(rec, res, err) })
				return
			}
		}
	}()
}

func (v *jobView) event(ev jobs.Event) {
	if ev.Message != "" || ev.Error != "" {
		line := ev.Message
		if ev.Error != "" {
			line = "error: " + ev.Error
		}
		if ev.Item != "" {
			line = ev.Item + ": " + line
		}
		v.lines = append(v.lines, time.Now().Format("15:04:05 ")+line)
		if len(v.lines) > 200 {
			v.lines = v.lines[len(v.lines)-200:]
		}
		v.logText.SetText(strings.Join(v.lines, "\n"))
	}
	if ev.Item == "" || ev.Total <= 0 {
		return
	}
	bar, ok := v.bars[ev.Item]
	if !ok {
		bar = widget.NewProgressBar()
		lbl := widget.NewLabel(ev.Item)
		v.bars[ev.Item], v.labels[ev.Item] = bar, lbl
		v.items.Add(container.NewBorder(nil, nil, heading(ev.Item), nil, container.NewVBox(bar, lbl)))
	}
	bar.SetValue(float64(ev.Done) / float64(ev.Total))
	txt := progressText(ev)
	if ev.ETA > 0 {
		txt += " · ETA " + ev.ETA.Round(time.Second).String()
	}
	if ev.Message != "" {
		txt += " · " + ev.Message
	}
	v.labels[ev.Item].SetText(txt)
}

// progressText is an item's amount and rate: "1.2 MiB of 2.9 MiB · 5.1 MiB/s", or for an
// encoder "48 of 96 frames · 23.5 fps · 0.98×".
func progressText(ev jobs.Event) string {
	if ev.Unit != "bytes" && ev.Unit != "" {
		txt := fmt.Sprintf("%d of %d %s", ev.Done, ev.Total, ev.Unit)
		if ev.Rate > 0 && ev.Unit == "frames" {
			txt += fmt.Sprintf(" · %.1f fps", ev.Rate)
		} else if ev.Rate > 0 {
			txt += fmt.Sprintf(" · %.1f %s/s", ev.Rate, ev.Unit)
		}
		if ev.Speed > 0 {
			txt += fmt.Sprintf(" · %.2f×", ev.Speed)
		}
		return txt
	}
	txt := fmt.Sprintf("%s of %s", humanize.Bytes(ev.Done), humanize.Bytes(ev.Total))
	if ev.Rate > 0 {
		txt += fmt.Sprintf(" · %s/s", humanize.Bytes(int64(ev.Rate)))
	}
	return txt
}

func (v *jobView) finish(rec jobs.Record, res any, err error) {
	v.cancel.Disable()
	// The job may have logged before this view subscribed to its events (it starts as soon
	// as the services accept it): the record's log is complete, so it wins when longer.
	if len(rec.Log) > len(v.lines) {
		v.lines = append([]string(nil), rec.Log...)
		v.logText.SetText(strings.Join(v.lines, "\n"))
	}
	switch {
	case rec.State == jobs.Cancelled:
		v.status.SetText("cancelled — nothing was left half-written")
	case err != nil:
		v.status.SetText("failed: " + firstLine(explain(err)))
	default:
		v.status.SetText(fmt.Sprintf("done in %s", rec.Finished.Sub(rec.Started).Round(100*time.Millisecond)))
		for _, b := range v.bars {
			b.SetValue(1)
		}
	}
	v.a.notifyEnd(rec, err)
	if v.onDone != nil {
		v.onDone(rec, res, err)
	}
	v.next()
}
