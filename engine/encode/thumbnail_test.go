package encode

import (
	"bytes"
	"context"
	"image/png"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestThumbnail decodes the first frame of a sample rendition into a PNG of the asked width.
func TestThumbnail(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed (scripts/deps.sh)")
	}
	_, file, _, _ := runtime.Caller(0)
	src := filepath.Join(filepath.Dir(file), "..", "..", "testdata", "media", "ladder_240p.mp4")
	b, err := Thumbnail(context.Background(), Tools{}, src, 160)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil || img.Bounds().Dx() != 160 {
		t.Fatalf("thumbnail: %v, %v", img.Bounds(), err)
	}
	if _, err := Thumbnail(context.Background(), Tools{}, filepath.Join(t.TempDir(), "none.mp4"), 160); err == nil {
		t.Fatal("a missing file gave a thumbnail")
	}
}
