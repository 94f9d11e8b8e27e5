package packaging

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"satchel/engine/manifest"
	"satchel/internal/owner"
)

// copyFile copies a test input so a test can put it where it likes.
func copyFile(t *testing.T, src, dst string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestOverwriteNeverDestroys reproduces issue 16: --overwrite once deleted whatever was at
// --out, the source video and the workspace included.
func TestOverwriteNeverDestroys(t *testing.T) {
	dir := t.TempDir()
	src := testMedia + "ladder_240p.mp4"
	cases := []struct {
		name  string
		setup func(t *testing.T) (out string, inputs []string)
		want  OutputConflict
	}{
		{"folder holding the source video", func(t *testing.T) (string, []string) {
			out := filepath.Join(dir, "videos")
			in := copyFile(t, src, filepath.Join(out, "movie.mp4"))
			return out, []string{in}
		}, ConflictHoldsInput},
		{"a Satchel package holding the source video", func(t *testing.T) (string, []string) {
			out := filepath.Join(dir, "pkg-with-input")
			if _, err := Package(context.Background(), Config{Inputs: []string{src}, OutDir: out}, nil); err != nil {
				t.Fatal(err)
			}
			return out, []string{copyFile(t, src, filepath.Join(out, "download", "movie.mp4"))}
		}, ConflictHoldsInput},
		{"a link to the folder holding the source", func(t *testing.T) (string, []string) {
			real := filepath.Join(dir, "real")
			in := copyFile(t, src, filepath.Join(real, "movie.mp4"))
			link := filepath.Join(dir, "link")
			if err := os.Symlink(real, link); err != nil {
				t.Skip("no symlinks")
			}
			return link, []string{in}
		}, ConflictHoldsInput},
		{"the workspace", func(t *testing.T) (string, []string) {
			ws := filepath.Join(dir, "ws")
			os.MkdirAll(ws, 0o700)
			os.WriteFile(filepath.Join(ws, "satchel.db"), []byte("db"), 0o600)
			os.WriteFile(filepath.Join(ws, "satchel.key"), []byte("{}"), 0o600)
			writeMarker(ws) // even a forged marker does not make a workspace replaceable
			return ws, []string{src}
		}, ConflictHoldsWorkspace},
		{"inside the workspace", func(t *testing.T) (string, []string) {
			ws := filepath.Join(dir, "ws2")
			os.MkdirAll(ws, 0o700)
			os.WriteFile(filepath.Join(ws, "satchel.db"), []byte("db"), 0o600)
			return filepath.Join(ws, "pkg"), []string{src}
		}, ConflictInWorkspace},
		{"a folder Satchel did not make", func(t *testing.T) (string, []string) {
			out := filepath.Join(dir, "photos")
			os.MkdirAll(out, 0o755)
			os.WriteFile(filepath.Join(out, "holiday.jpg"), []byte("jpg"), 0o644)
			return out, []string{src}
		}, ConflictNotPackage},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, inputs := c.setup(t)
			before := listTree(t, out)
			_, err := Package(context.Background(), Config{Inputs: inputs, OutDir: out, Overwrite: true}, nil)
			var conflict *OutputConflictError
			if !errors.As(err, &conflict) || conflict.Conflict != c.want {
				t.Fatalf("got %v, want a %s conflict", err, c.want)
			}
			if after := listTree(t, out); after != before {
				t.Fatalf("the folder changed:\nbefore %s\nafter  %s", before, after)
			}
			left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*"))
			if len(left) > 0 {
				t.Fatalf("temp folders left: %v", left)
			}
		})
	}
}

// listTree describes every file under dir (name and size).
func listTree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil {
			fmt.Fprintf(&b, "%s:%d ", p, info.Size())
		}
		return nil
	})
	return b.String()
}

func TestPackageMarkerAndPrivateFiles(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pkg")
	res, err := Package(context.Background(), Config{Inputs: []string{testMedia + "ladder_240p.mp4"}, OutDir: out,
		PolicyJSON: []byte(`{"name":"p"}`)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !hasMarker(out) {
		t.Fatal("the package has no marker")
	}
	if _, err := os.Stat(filepath.Join(out, owner.File)); err == nil {
		t.Fatal("the owner record of the temp folder was left in the package")
	}
	for _, f := range res.Files {
		if f == manifest.FileMarker || f == owner.File {
			t.Fatalf("bookkeeping file %s listed as a package file", f)
		}
	}
	if runtime.GOOS != "windows" {
		for _, name := range []string{manifest.FileKeys, manifest.FilePolicy} {
			st, err := os.Stat(filepath.Join(out, name))
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("%s mode %v (%v), want 0600", name, st.Mode().Perm(), err)
			}
		}
	}
}

// TestStaleTempCleanup: temp folders of dead runs are removed by the next run; a live run's
// and unrecorded ones are kept.
func TestStaleTempCleanup(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "windows" {
		t.Skip("process start times are read on Linux and Windows only")
	}
	dir := t.TempDir()
	mk := func(name string, o *owner.Owner) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Join(p, "cenc"), 0o700)
		if o != nil {
			b, _ := json.Marshal(o)
			os.WriteFile(filepath.Join(p, owner.File), b, 0o600)
		}
		return p
	}
	self, err := owner.Self()
	if err != nil {
		t.Fatal(err)
	}
	dead := self
	dead.Start = "1" // this PID, another start time: its process has ended
	stale := mk(".other.tmp-111", &dead)
	live := mk(".pkg.tmp-222", &self)
	unknown := mk(".pkg.tmp-333", nil)
	if _, err := Package(context.Background(), Config{Inputs: []string{testMedia + "ladder_240p.mp4"},
		OutDir: filepath.Join(dir, "pkg")}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stale temp folder kept: %v", err)
	}
	for _, p := range []string{live, unknown} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s removed: %v", p, err)
		}
	}
}

// TestKilledRunIsCleanedUp runs a package job in a child process, kills it with SIGKILL in the
// middle, and checks that the next run removes its temp folder.
func TestKilledRunIsCleanedUp(t *testing.T) {
	if os.Getenv("SATCHEL_TEST_HANG_PACKAGE") != "" {
		hangingPackage()
		return
	}
	if runtime.GOOS != "linux" {
		t.Skip("SIGKILL and /proc start times: Linux")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "pkg")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledRunIsCleanedUp$")
	cmd.Env = append(os.Environ(), "SATCHEL_TEST_HANG_PACKAGE="+out)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "writing" {
				started <- true
				return
			}
		}
		started <- false
	}()
	select {
	case ok := <-started:
		if !ok {
			t.Fatal("the child did not start packaging")
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the child did not start packaging in 30 s")
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	left, _ := filepath.Glob(filepath.Join(dir, ".pkg.tmp-*"))
	if len(left) != 1 || !owner.Stale(left[0]) {
		t.Fatalf("after SIGKILL: temp folders %v, want one stale", left)
	}
	if _, err := Package(context.Background(), Config{Inputs: []string{testMedia + "ladder_240p.mp4"}, OutDir: out}, nil); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".pkg.tmp-*")); len(left) != 0 {
		t.Fatalf("the next run left %v", left)
	}
}

// hangingPackage is the child of TestKilledRunIsCleanedUp: it packages into
// $SATCHEL_TEST_HANG_PACKAGE, says "writing" after the first fragment and then hangs.
func hangingPackage() {
	out := os.Getenv("SATCHEL_TEST_HANG_PACKAGE")
	Package(context.Background(), Config{Inputs: []string{testMedia + "ladder_720p.mp4"}, OutDir: out, Concurrency: 1},
		func(p Progress) {
			if p.Fragments >= 1 {
				fmt.Println("writing")
				select {}
			}
		})
	os.Exit(1)
}
