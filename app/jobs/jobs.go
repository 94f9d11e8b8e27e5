// Package jobs runs Satchel's long work (package, publish, verify) off the caller's goroutine,
// with progress events, cancellation and a persisted history. The GUI subscribes to events and
// updates widgets with fyne.Do; the CLI prints them. Nothing here imports Fyne.
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"satchel/internal/bug"
)

// State is a job's lifecycle state.
type State string

// Job states.
const (
	Queued    State = "queued"
	Running   State = "running"
	Done      State = "done"
	Failed    State = "failed"
	Cancelled State = "cancelled"
)

// Finished reports whether s is a terminal state.
func (s State) Finished() bool { return s == Done || s == Failed || s == Cancelled }

// Kind names what a job does ("package", "publish", "verify"); the application layer
// defines the kinds it runs.
type Kind string

// Event is one progress report of a job. Item names the part of the job that moved (a
// rendition, a file); Done/Total count Unit ("bytes", "fragments", "files", "checks",
// "frames"). Rate is Units per second (an encoder's frames per second); Speed, for work on
// media, is media time processed per wall-clock time (an encoder at 2.5x), 0 when unknown.
type Event struct {
	JobID   string        `json:"job_id"`
	Kind    Kind          `json:"kind"`
	Item    string        `json:"item,omitempty"`
	Done    int64         `json:"done"`
	Total   int64         `json:"total"`
	Unit    string        `json:"unit,omitempty"`
	Rate    float64       `json:"rate,omitempty"`
	Speed   float64       `json:"speed,omitempty"`
	ETA     time.Duration `json:"eta,omitempty"`
	State   State         `json:"state"`
	Message string        `json:"message,omitempty"`
	Error   string        `json:"error,omitempty"`
}

// Record is a job as persisted in the workspace history.
type Record struct {
	ID       string           `json:"id"`
	Kind     Kind             `json:"kind"`
	Title    string           `json:"title"`
	State    State            `json:"state"`
	Config   json.RawMessage  `json:"config,omitempty"`
	Result   json.RawMessage  `json:"result,omitempty"`
	Error    string           `json:"error,omitempty"`
	Progress map[string]Event `json:"progress,omitempty"`
	Log      []string         `json:"log,omitempty"`
	Created  time.Time        `json:"created"`
	Started  time.Time        `json:"started,omitempty"`
	Finished time.Time        `json:"finished,omitempty"`
	// Bug is set when the job failed because Satchel itself panicked (Error asks to report
	// it, and the error is a *bug.Error); a failure of the input or the environment leaves it
	// false.
	Bug bool `json:"bug,omitempty"`
}

// Recorder persists job records (the workspace store implements it). Save is called on state
// changes and at most about once a second with progress checkpoints.
type Recorder interface {
	SaveJob(r Record) error
}

// RunFunc does a job's work. It must return promptly after ctx is cancelled, and report
// progress through report (safe for concurrent use).
type RunFunc func(ctx context.Context, report func(Event)) (result any, err error)

// Job is a running or finished job.
type Job struct {
	mu     sync.Mutex
	rec    Record
	cancel context.CancelFunc
	done   chan struct{}
	err    error
	result any
	// after is closed when the jobs queued before this one have finished; release is
	// closed when this one has (serialized kinds only: see Serialize).
	after, release chan struct{}
}

// ID returns the job id.
func (j *Job) ID() string { return j.rec.ID }

// Snapshot returns a copy of the job's record.
func (j *Job) Snapshot() Record {
	j.mu.Lock()
	defer j.mu.Unlock()
	r := j.rec
	r.Progress = make(map[string]Event, len(j.rec.Progress))
	for k, v := range j.rec.Progress {
		r.Progress[k] = v
	}
	r.Log = append([]string(nil), j.rec.Log...)
	return r
}

// Wait blocks until the job finishes and returns its result and error.
func (j *Job) Wait() (any, error) {
	<-j.done
	return j.result, j.err
}

// Done is closed when the job finishes.
func (j *Job) Done() <-chan struct{} { return j.done }

// Cancel asks the job to stop; Wait returns once it has.
func (j *Job) Cancel() { j.cancel() }

// Manager starts jobs and fans their events out to subscribers.
type Manager struct {
	mu       sync.Mutex
	rec      Recorder
	log      *slog.Logger
	jobs     map[string]*Job
	order    []string
	subs     map[int]chan Event
	nextSub  int
	saveEach time.Duration
	serial   map[Kind]bool // kinds that run one at a time (Serialize)
	tail     chan struct{} // released when the last serialized job started has finished
}

// NewManager returns a Manager persisting to rec (nil: in memory only).
func NewManager(rec Recorder, log *slog.Logger) *Manager {
	if log == nil {
		log = slog.Default()
	}
	return &Manager{rec: rec, log: log, jobs: map[string]*Job{}, subs: map[int]chan Event{}, saveEach: time.Second}
}

// Subscribe returns a channel of all jobs' events and a function to unsubscribe. Slow
// subscribers lose intermediate progress events, never state changes of their own buffer size.
func (m *Manager) Subscribe(buffer int) (<-chan Event, func()) {
	if buffer < 16 {
		buffer = 16
	}
	ch := make(chan Event, buffer)
	m.mu.Lock()
	id := m.nextSub
	m.nextSub++
	m.subs[id] = ch
	m.mu.Unlock()
	return ch, func() {
		m.mu.Lock()
		if c, ok := m.subs[id]; ok {
			delete(m.subs, id)
			close(c)
		}
		m.mu.Unlock()
	}
}

func (m *Manager) publish(ev Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ch := range m.subs {
		if ev.State.Finished() || ev.Message != "" {
			// State changes and log lines must arrive: block briefly rather than drop.
			select {
			case ch <- ev:
			case <-time.After(time.Second):
			}
			continue
		}
		select {
		case ch <- ev:
		default: // drop a progress tick for a slow subscriber
		}
	}
}

// Get returns the job with id from this process's jobs.
func (m *Manager) Get(id string) (*Job, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[id]
	return j, ok
}

// Jobs returns this process's jobs, oldest first.
func (m *Manager) Jobs() []*Job {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Job, 0, len(m.order))
	for _, id := range m.order {
		out = append(out, m.jobs[id])
	}
	return out
}

// Start runs fn in a new goroutine as a job of kind with a human title; config is stored with
// the job record (it must marshal to JSON and hold no secrets).
func (m *Manager) Start(parent context.Context, kind Kind, title string, config any, fn RunFunc) (*Job, error) {
	cfg, err := json.Marshal(config)
	if err != nil {
		return nil, fmt.Errorf("start %s job: encode config: %w", kind, err)
	}
	ctx, cancel := context.WithCancel(parent)
	j := &Job{
		rec: Record{ID: newID(), Kind: kind, Title: title, State: Queued, Config: cfg,
			Created: time.Now().UTC(), Progress: map[string]Event{}},
		cancel: cancel,
		done:   make(chan struct{}),
	}
	m.mu.Lock()
	m.jobs[j.rec.ID] = j
	m.order = append(m.order, j.rec.ID)
	m.assignTurn(j)
	m.mu.Unlock()
	m.save(j)
	go m.run(ctx, j, fn)
	return j, nil
}

func (m *Manager) run(ctx context.Context, j *Job, fn RunFunc) {
	defer close(j.done)
	defer j.cancel()
	if !m.awaitTurn(ctx, j) {
		return
	}
	defer m.endTurn(j)
	j.mu.Lock()
	j.rec.State = Running
	j.rec.Started = time.Now().UTC()
	id, kind := j.rec.ID, j.rec.Kind
	j.mu.Unlock()
	m.save(j)
	m.publish(Event{JobID: id, Kind: kind, State: Running})

	var lastSave time.Time
	var saveMu sync.Mutex
	report := func(ev Event) {
		ev.JobID, ev.Kind, ev.State = id, kind, Running
		j.mu.Lock()
		if ev.Message != "" {
			j.rec.Log = append(j.rec.Log, time.Now().Format("15:04:05 ")+ev.Message)
		}
		if ev.Item != "" {
			j.rec.Progress[ev.Item] = ev
		}
		j.mu.Unlock()
		m.publish(ev)
		saveMu.Lock()
		due := time.Since(lastSave) >= m.saveEach
		if due {
			lastSave = time.Now()
		}
		saveMu.Unlock()
		if due {
			m.save(j) // progress checkpoint
		}
	}

	result, err := safeRun(ctx, fn, report)
	j.mu.Lock()
	j.result, j.err = result, err
	j.rec.Finished = time.Now().UTC()
	switch {
	case err == nil:
		j.rec.State = Done
		if result != nil {
			if b, mErr := json.Marshal(result); mErr == nil {
				j.rec.Result = b
			}
		}
	case errors.Is(err, context.Canceled):
		j.rec.State = Cancelled
		j.rec.Error = "cancelled by the user"
	default:
		j.rec.State = Failed
		j.rec.Error = err.Error()
		if b, ok := bug.As(err); ok {
			j.rec.Bug = true
			m.log.Error("job failed with a bug", "job", id, "panic", fmt.Sprint(b.Value), "stack", string(b.Stack))
		}
	}
	final := Event{JobID: id, Kind: kind, State: j.rec.State, Error: j.rec.Error}
	j.mu.Unlock()
	m.save(j)
	m.publish(final)
}

// safeRun turns a panic in a job into a failed job (with a *bug.Error: a bug, never an input
// problem) instead of a crashed app.
func safeRun(ctx context.Context, fn RunFunc, report func(Event)) (result any, err error) {
	defer bug.Recover(&err)
	return fn(ctx, report)
}

func (m *Manager) save(j *Job) {
	if m.rec == nil {
		return
	}
	if err := m.rec.SaveJob(j.Snapshot()); err != nil {
		m.log.Warn("save job record", "job", j.rec.ID, "err", err)
	}
}

// newID returns a time-ordered unique job id: 20261124-230102-ab12cd.
func newID() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102-150405.000") + "-" + hex.EncodeToString(b[:])
}
