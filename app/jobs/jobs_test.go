package jobs

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"satchel/internal/bug"
)

type memRecorder struct {
	mu   sync.Mutex
	recs map[string][]Record
}

func (m *memRecorder) SaveJob(r Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.recs == nil {
		m.recs = map[string][]Record{}
	}
	m.recs[r.ID] = append(m.recs[r.ID], r)
	return nil
}

func (m *memRecorder) last(id string) Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	rs := m.recs[id]
	return rs[len(rs)-1]
}

func TestJobOutcomes(t *testing.T) {
	tests := []struct {
		name  string
		fn    RunFunc
		want  State
		errIs error
		bug   bool // the job fails with a *bug.Error and Record.Bug
	}{
		{"done", func(ctx context.Context, report func(Event)) (any, error) {
			for i := 1; i <= 3; i++ {
				report(Event{Item: "v360", Done: int64(i), Total: 3, Unit: "fragments"})
			}
			return map[string]int{"files": 3}, nil
		}, Done, nil, false},
		{"failed", func(ctx context.Context, report func(Event)) (any, error) {
			return nil, errors.New("disk full")
		}, Failed, nil, false},
		{"panic becomes failure", func(ctx context.Context, report func(Event)) (any, error) {
			var m map[string]int
			m["x"] = 1
			return nil, nil
		}, Failed, nil, true},
		{"cancelled", func(ctx context.Context, report func(Event)) (any, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}, Cancelled, context.Canceled, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &memRecorder{}
			m := NewManager(rec, nil)
			events, unsub := m.Subscribe(64)
			defer unsub()
			j, err := m.Start(context.Background(), "package", tc.name, map[string]string{"in": "a.mp4"}, tc.fn)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == Cancelled {
				time.AfterFunc(20*time.Millisecond, j.Cancel)
			}
			_, err = j.Wait()
			if tc.errIs != nil && !errors.Is(err, tc.errIs) {
				t.Fatalf("err = %v, want %v", err, tc.errIs)
			}
			if got := j.Snapshot().State; got != tc.want {
				t.Fatalf("state = %s, want %s", got, tc.want)
			}
			if got := rec.last(j.ID()).State; got != tc.want {
				t.Fatalf("persisted state = %s, want %s", got, tc.want)
			}
			// A panic is a bug, told apart from a failure of the input.
			if b, ok := bug.As(err); ok != tc.bug || rec.last(j.ID()).Bug != tc.bug {
				t.Fatalf("bug = %v (%v), record.Bug = %v, want %v", ok, err, rec.last(j.ID()).Bug, tc.bug)
			} else if ok && (!strings.Contains(err.Error(), "this is a bug") || len(b.Stack) == 0) {
				t.Fatalf("bug error %q without the report request or the stack", err)
			}
			// The final event reaches subscribers.
			deadline := time.After(2 * time.Second)
			for {
				select {
				case ev := <-events:
					if ev.State.Finished() {
						if ev.State != tc.want {
							t.Fatalf("final event state %s, want %s", ev.State, tc.want)
						}
						return
					}
				case <-deadline:
					t.Fatal("no final event")
				}
			}
		})
	}
}

func TestProgressCheckpointAndLog(t *testing.T) {
	rec := &memRecorder{}
	m := NewManager(rec, nil)
	m.saveEach = 0 // checkpoint every event
	j, _ := m.Start(context.Background(), "publish", "t", nil, func(ctx context.Context, report func(Event)) (any, error) {
		report(Event{Message: "uploading 3 files"})
		report(Event{Item: "files", Done: 2, Total: 3, Unit: "files"})
		return nil, nil
	})
	if _, err := j.Wait(); err != nil {
		t.Fatal(err)
	}
	r := rec.last(j.ID())
	if r.Progress["files"].Done != 2 {
		t.Fatalf("checkpoint progress = %+v", r.Progress)
	}
	if len(r.Log) != 1 || r.Log[0][9:] != "uploading 3 files" {
		t.Fatalf("log = %q", r.Log)
	}
	if r.Started.IsZero() || r.Finished.IsZero() {
		t.Fatal("missing timestamps")
	}
}
