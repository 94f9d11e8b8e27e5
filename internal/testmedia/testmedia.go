// Package testmedia makes the test media that is too large to commit: a short 1080p master
// with stereo audio, the input of the encode tests of app/services, app/cli and ui. It is
// made with ffmpeg's lavfi sources the first time a test asks for it and kept in the system's
// temporary folder, so the packages' tests (which run in parallel processes) share it and
// later runs skip making it. It is for tests only; nothing at run time imports it.
package testmedia

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// masterName changes whenever the recipe below changes, so a stale file is never used.
const masterName = "master_1080p24_4s_v1.mp4"

var (
	once sync.Once
	path string
	err  error
)

// Master returns a 4 s 1920x1080 24 fps H.264 master (8 Mb/s, testsrc2: every frame moves)
// with 48 kHz stereo AAC. ffmpeg must be installed (make test installs it).
func Master(t testing.TB) string {
	t.Helper()
	once.Do(func() { path, err = makeMaster() })
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func makeMaster() (string, error) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		return "", fmt.Errorf("ffmpeg is required to make the test master (make test installs it): %w", err)
	}
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("satchel-testmedia-%d", os.Getuid()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(dir, masterName)
	if st, err := os.Stat(out); err == nil && st.Size() > 0 {
		return out, nil
	}
	tmp, err := os.CreateTemp(dir, ".master-*.mp4")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	args := []string{"-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=24:duration=4",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=4", "-ac", "2",
		"-c:v", "libx264", "-preset", "ultrafast", "-b:v", "8M", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "192k",
		tmp.Name()}
	if b, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("make the test master: ffmpeg %s: %v: %s", strings.Join(args, " "), err, b)
	}
	// Another test process may have made it meanwhile: either file is a valid master.
	if err := os.Rename(tmp.Name(), out); err != nil {
		return "", err
	}
	return out, nil
}
