package jobs

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestSerializedJobsQueue starts three jobs of a serialized kind: they run one at a time in
// the order they were started, the second waits Queued, and the third, cancelled while
// queued, never runs; a job of another kind runs at once.
func TestSerializedJobsQueue(t *testing.T) {
	m := NewManager(nil, nil)
	m.Serialize("heavy")
	var mu sync.Mutex
	var order []string
	running := 0
	gate := make(chan struct{})
	work := func(name string) RunFunc {
		return func(ctx context.Context, _ func(Event)) (any, error) {
			mu.Lock()
			running++
			if running > 1 {
				t.Errorf("%s runs beside another serialized job", name)
			}
			order = append(order, name)
			mu.Unlock()
			if name == "first" {
				<-gate
			}
			mu.Lock()
			running--
			mu.Unlock()
			return name, nil
		}
	}
	first, _ := m.Start(context.Background(), "heavy", "first", nil, work("first"))
	second, _ := m.Start(context.Background(), "heavy", "second", nil, work("second"))
	third, _ := m.Start(context.Background(), "heavy", "third", nil, work("third"))
	light, _ := m.Start(context.Background(), "light", "light", nil, func(context.Context, func(Event)) (any, error) {
		return nil, nil
	})
	select {
	case <-light.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a job of another kind waited for the queue")
	}
	time.Sleep(50 * time.Millisecond)
	if st := second.Snapshot().State; st != Queued {
		t.Fatalf("second job %s while the first runs, want queued", st)
	}
	if n := len(m.Active()); n != 3 {
		t.Fatalf("%d active jobs, want 3", n)
	}
	third.Cancel()
	if _, err := third.Wait(); !errors.Is(err, context.Canceled) || third.Snapshot().State != Cancelled {
		t.Fatalf("cancelled queued job: %v, %s", err, third.Snapshot().State)
	}
	close(gate)
	for _, j := range []*Job{first, second} {
		if _, err := j.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	if len(order) != 2 || order[0] != "first" || order[1] != "second" {
		t.Fatalf("ran %v, want [first second]", order)
	}
}
