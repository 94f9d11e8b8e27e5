package inspect

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"satchel/internal/hostiletest"
)

func TestHostileFiles(t *testing.T) {
	start := time.Now()
	_, err := Reader(context.Background(), bytes.NewReader(hostiletest.NestedMoov(1_000_000)), "nested.mp4")
	if err == nil || !strings.Contains(err.Error(), "nested more than 32 deep") {
		t.Fatalf("a million nested moov: %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("answered in %s, want under 1 s", took)
	}
	noTkhd := hostiletest.WithoutTrackHeader(t, media+"ladder_240p.mp4")
	nodes, err := Reader(context.Background(), bytes.NewReader(noTkhd), "notkhd.mp4")
	if err != nil || len(Find(nodes, "tkhd")) != 1 || len(Find(nodes, "free")) == 0 {
		t.Fatalf("tkhd renamed to free: the tree should show the rest (%v)", err)
	}
}

// TestInspectCancel: inspect honours Ctrl-C on a file of a million tiny boxes, and its cost
// stays linear (it once printed every container with its whole subtree).
func TestInspectCancel(t *testing.T) {
	src, err := os.ReadFile(media + "ladder_240p.mp4")
	if err != nil {
		t.Fatal(err)
	}
	many := hostiletest.ManyBoxes(src, 1_000_000)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err = Reader(ctx, bytes.NewReader(many), "many.mp4")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("stopped %s after the cancel, want promptly", took)
	}
}
