package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"satchel/internal/hostiletest"
)

// TestHostileMedia reproduces issue 16's crafted files through the commands: a track header
// renamed to free, and a million nested moov boxes. Each command answers in under a second
// with exit 2 (an input error) and a message naming the file, never a panic.
func TestHostileMedia(t *testing.T) {
	dir := t.TempDir()
	noTkhd := hostiletest.WithoutTrackHeader(t, mediaFile(t, "ladder_240p.mp4"))
	files := map[string][]byte{"notkhd.mp4": noTkhd, "nested.mp4": hostiletest.NestedMoov(1_000_000)}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ws := t.TempDir()
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"probe notkhd", []string{"probe", "notkhd.mp4"}, "track header (tkhd)"},
		{"probe nested", []string{"probe", "nested.mp4"}, "nested more than 32 deep"},
		{"inspect nested", []string{"inspect", "nested.mp4"}, "nested more than 32 deep"},
		{"package notkhd", []string{"package", "--in", "notkhd.mp4", "--out", "out1", "--workspace", ws}, "track header (tkhd)"},
		{"package nested", []string{"package", "--in", "nested.mp4", "--out", "out2", "--workspace", ws}, "nested more than 32 deep"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string(nil), c.args...)
			for i, a := range args {
				if strings.HasSuffix(a, ".mp4") || strings.HasPrefix(a, "out") {
					args[i] = filepath.Join(dir, a)
				}
			}
			start := time.Now()
			code, _, errOut := run(t, args...)
			if took := time.Since(start); took > time.Second {
				t.Errorf("answered in %s, want under 1 s", took)
			}
			if code != ExitUsage || !strings.Contains(errOut, c.want) || strings.Contains(errOut, "goroutine") {
				t.Fatalf("code %d, stderr %q; want exit 2 with %q", code, errOut, c.want)
			}
		})
	}
}

// TestVerifyHostileMedia: verify reports the crafted files as failed checks (exit 1) naming
// what is wrong, never a panic; the million nested boxes in under a second.
func TestVerifyHostileMedia(t *testing.T) {
	dir := t.TempDir()
	noTkhd := hostiletest.WithoutTrackHeader(t, mediaFile(t, "ladder_240p.mp4"))
	for name, c := range map[string]struct {
		data   []byte
		want   string
		within time.Duration // the nesting check runs before any work; the other file is read
	}{
		"nested.mp4": {hostiletest.NestedMoov(1_000_000), "nested more than 32 deep", time.Second},
		"notkhd.mp4": {noTkhd, "tkhd", 10 * time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			code, out, errOut := run(t, "verify", p)
			if took := time.Since(start); took > c.within {
				t.Errorf("answered in %s, want under %s", took, c.within)
			}
			if code != ExitFailed || !strings.Contains(out, c.want) || strings.Contains(out+errOut, "goroutine") {
				t.Fatalf("code %d, stdout %q, stderr %q; want exit 1 naming %q", code, out, errOut, c.want)
			}
		})
	}
}

// TestOverwriteRefusals reproduces issue 16: `package --overwrite` deleted the folder holding
// the source video, and the workspace while in use. Both are refused with exit 2 and the
// folders are untouched.
func TestOverwriteRefusals(t *testing.T) {
	videos := t.TempDir()
	in := filepath.Join(videos, "movie.mp4")
	b, _ := os.ReadFile(mediaFile(t, "ladder_240p.mp4"))
	os.WriteFile(in, b, 0o644)
	ws := t.TempDir()
	if code, _, errOut := run(t, "keys", "gen", "show", "--workspace", ws); code != 0 {
		t.Fatalf("keys gen: %s", errOut)
	}
	for _, c := range []struct{ out, want string }{
		{videos, "holds the input"},
		{ws, "holds a Satchel workspace"},
	} {
		code, _, errOut := run(t, "package", "--in", in, "--out", c.out, "--overwrite", "--workspace", ws)
		if code != ExitUsage || !strings.Contains(errOut, c.want) || !strings.Contains(errOut, "choose another folder with --out") {
			t.Fatalf("--out %s: code %d, stderr %q", c.out, code, errOut)
		}
	}
	if _, err := os.Stat(in); err != nil {
		t.Fatal("the source video is gone")
	}
	for _, f := range []string{"satchel.db", "satchel.key"} {
		if _, err := os.Stat(filepath.Join(ws, f)); err != nil {
			t.Fatalf("the workspace's %s is gone", f)
		}
	}
}
