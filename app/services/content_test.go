package services

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"satchel/internal/hostiletest"
	"satchel/packaging"
)

// TestServeContentBoundary reproduces issue 16's `serve --content` leaks: links to the
// workspace's data key, to keys.cpix.xml and to /etc/passwd; plus key files in subfolders,
// named pipes (which hung a request) and hostile MP4s in download/ (which killed the server).
func TestServeContentBoundary(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links and named pipes: Unix")
	}
	s := open(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "pkg")
	if _, err := packaging.Package(context.Background(), packaging.Config{Inputs: []string{media + "ladder_240p.mp4"}, OutDir: out,
		SegmentDuration: 2 * time.Second}, nil); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink(s.Dir, filepath.Join(out, "wslink")))
	must(os.Symlink(filepath.Join(out, "keys.cpix.xml"), filepath.Join(out, "notes.txt")))
	must(os.Symlink("/etc/passwd", filepath.Join(out, "leak.txt")))
	must(os.MkdirAll(filepath.Join(out, "show1"), 0o755))
	must(os.WriteFile(filepath.Join(out, "show1", "keys.cpix.xml"), []byte("<keys/>"), 0o600))
	must(os.WriteFile(filepath.Join(out, "show1", "policy.json"), []byte("{}"), 0o600))
	must(mkfifo(filepath.Join(out, "pipe.mp4")))
	must(mkfifo(filepath.Join(out, "download", "pipe.mp4")))
	noTkhd := hostiletest.WithoutTrackHeader(t, media+"ladder_240p.mp4")
	must(os.WriteFile(filepath.Join(out, "download", "notkhd.mp4"), noTkhd, 0o644))
	must(os.WriteFile(filepath.Join(out, "download", "nested.mp4"), hostiletest.NestedMoov(1_000_000), 0o644))
	must(os.Symlink("/dev/zero", filepath.Join(out, "download", "zero.mp4")))

	url, err := s.StartLicenseServer(context.Background(), LicenseOptions{Addr: "127.0.0.1:0", ContentDir: out})
	must(err)
	defer s.StopLicenseServer()
	client := &http.Client{Timeout: 5 * time.Second}
	for _, c := range []struct {
		path string
		want int
	}{
		{"/content/manifest.mpd", 200},
		{"/content/download/240p.mp4", 200},
		{"/content/wslink/satchel.key", 403},
		{"/content/wslink/satchel.db", 403},
		{"/content/notes.txt", 403},
		{"/content/leak.txt", 404},
		{"/content/keys.cpix.xml", 403},
		{"/content/KEYS.CPIX.XML", 404},
		{"/content/show1/keys.cpix.xml", 403},
		{"/content/show1/policy.json", 403},
		{"/content/.satchel-package", 403},
		{"/content/../../etc/passwd", 404},
		{"/content/%2e%2e/%2e%2e/etc/passwd", 404},
		{"/content/pipe.mp4", 404},
		{"/content/download/zero.mp4", 404},
		{"/content/cenc", 404},
		{"/content/", 404},
	} {
		t.Run(c.path, func(t *testing.T) {
			resp, err := client.Get(url + c.path)
			if err != nil {
				t.Fatalf("GET %s: %v", c.path, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Fatalf("GET %s: %d, want %d", c.path, resp.StatusCode, c.want)
			}
			if c.want != 200 && (strings.Contains(string(body), "root:") || strings.Contains(string(body), "PlainValue")) {
				t.Fatalf("GET %s leaked %q", c.path, body)
			}
		})
	}
	// Range requests still work.
	req, _ := http.NewRequest("GET", url+"/content/download/240p.mp4", nil)
	req.Header.Set("Range", "bytes=0-99")
	resp, err := client.Do(req)
	must(err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 206 || len(b) != 100 {
		t.Fatalf("range: %d, %d bytes", resp.StatusCode, len(b))
	}
	// The downloads list survives the hostile files and lists only the playable ones, fast.
	start := time.Now()
	resp, err = client.Get(url + "/api/downloads")
	must(err)
	var dl []Download
	json.NewDecoder(resp.Body).Decode(&dl)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(dl) != 1 || dl[0].Name != "240p.mp4" {
		t.Fatalf("downloads: %d %+v", resp.StatusCode, dl)
	}
	took := time.Since(start)
	t.Logf("/api/downloads answered in %s (a million nested moov, a tkhd-less file, a pipe, /dev/zero)", took)
	if took > time.Second {
		t.Fatalf("downloads answered in %s, want under 1 s", took)
	}
	if resp, err := client.Get(url + "/health"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("server after the hostile files: %v", err)
	}
}
