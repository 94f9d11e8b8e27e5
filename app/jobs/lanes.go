package jobs

import (
	"context"
	"time"
)

// Serialize makes the jobs of kinds run one at a time, in the order they were started: a job
// started while another of these kinds is queued or running stays Queued until the ones
// before it have finished. A queued job that is cancelled never runs (its state becomes
// Cancelled at once). Jobs of other kinds run at once, as before.
func (m *Manager) Serialize(kinds ...Kind) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.serial == nil {
		m.serial = map[Kind]bool{}
	}
	for _, k := range kinds {
		m.serial[k] = true
	}
}

// assignTurn puts j at the end of the queue when its kind is serialized (m.mu held).
func (m *Manager) assignTurn(j *Job) {
	if !m.serial[j.rec.Kind] {
		return
	}
	j.after = m.tail
	j.release = make(chan struct{})
	m.tail = j.release
}

// awaitTurn waits until the jobs queued before j have finished. When ctx ends first, j is
// finished as Cancelled without running and awaitTurn returns false.
func (m *Manager) awaitTurn(ctx context.Context, j *Job) bool {
	if j.after == nil {
		return true
	}
	select {
	case <-j.after:
		return true
	default:
	}
	m.publish(Event{JobID: j.rec.ID, Kind: j.rec.Kind, State: Queued, Message: "queued: waiting for the jobs before it"})
	select {
	case <-j.after:
		return true
	case <-ctx.Done():
	}
	j.mu.Lock()
	j.err = ctx.Err()
	j.rec.State = Cancelled
	j.rec.Error = "cancelled while queued"
	j.rec.Finished = time.Now().UTC()
	final := Event{JobID: j.rec.ID, Kind: j.rec.Kind, State: Cancelled, Error: j.rec.Error}
	j.mu.Unlock()
	m.save(j)
	m.publish(final)
	go func() { // the next job still waits for the ones before this one
		<-j.after
		close(j.release)
	}()
	return false
}

// endTurn lets the next queued job run.
func (m *Manager) endTurn(j *Job) {
	if j.release != nil {
		close(j.release)
	}
}

// Active returns this process's jobs that are queued or running, oldest first.
func (m *Manager) Active() []*Job {
	var out []*Job
	for _, j := range m.Jobs() {
		if !j.Snapshot().State.Finished() {
			out = append(out, j)
		}
	}
	return out
}
