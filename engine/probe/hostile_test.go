package probe

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"satchel/internal/hostiletest"
)

// TestHostileFiles reproduces issue 16's crafted files: each is a clear *InputError, fast.
func TestHostileFiles(t *testing.T) {
	noTkhd := hostiletest.WithoutTrackHeader(t, testMedia+"ladder_240p.mp4")
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"tkhd renamed free", noTkhd, "track header (tkhd)"},
		{"a million nested moov", hostiletest.NestedMoov(1_000_000), "nested more than 32 deep"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".mp4")
			if err := os.WriteFile(p, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err := Probe(context.Background(), p)
			took := time.Since(start)
			var in *InputError
			if !errors.As(err, &in) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an InputError containing %q", err, c.want)
			}
			if took > time.Second {
				t.Fatalf("answered in %s, want under 1 s", took)
			}
		})
	}
}

// TestProbeCancel: a file of a million tiny boxes stops promptly when the context ends.
func TestProbeCancel(t *testing.T) {
	src, err := os.ReadFile(testMedia + "ladder_240p.mp4")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "many.mp4")
	if err := os.WriteFile(p, hostiletest.ManyBoxes(src, 1_000_000), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err = Probe(ctx, p)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("stopped %s after the cancel, want promptly", took)
	}
}
