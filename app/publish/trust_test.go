package publish

import (
	"context"
	"errors"
	"html"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"satchel/engine/drm"
	"satchel/engine/verify"
)

// copyTree copies the package at src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
}

// TestScanNeverLeaks reproduces issue 16's publish leaks on a local folder target: keys and
// policies in subfolders, a link to /etc/passwd named notes.txt, a named pipe, and a folder
// holding (or inside) the workspace.
func TestScanNeverLeaks(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("links and pipes: Unix")
	}
	pkg := testPackageLocal(t)
	titles := filepath.Join(t.TempDir(), "titles")
	copyTree(t, pkg, filepath.Join(titles, "show1"))
	copyTree(t, pkg, filepath.Join(titles, "show2"))
	os.WriteFile(filepath.Join(titles, "show1", "policy.json"), []byte(`{"name":"p"}`), 0o600)
	if err := os.Symlink("/etc/passwd", filepath.Join(titles, "show1", "notes.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(titles, "show2"), filepath.Join(titles, "show3")); err != nil {
		t.Fatal(err)
	}
	if err := mkfifo(filepath.Join(titles, "show2", "pipe.m4s")); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "www")
	target, _ := ParseTarget(dst)
	rep, err := Publish(context.Background(), Options{SrcDir: titles, Target: target})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(rep.Withheld)
	if strings.Join(rep.Withheld, " ") != "show1/keys.cpix.xml show1/policy.json show2/keys.cpix.xml" {
		t.Fatalf("withheld %v", rep.Withheld)
	}
	if strings.Join(rep.Links, " ") != "show1/notes.txt show3" || strings.Join(rep.Special, " ") != "show2/pipe.m4s" {
		t.Fatalf("links %v, special %v", rep.Links, rep.Special)
	}
	if !strings.Contains(rep.Left(), "never followed") {
		t.Fatalf("Left() = %q", rep.Left())
	}
	filepath.WalkDir(dst, func(p string, d os.DirEntry, err error) error {
		switch base := filepath.Base(p); {
		case err != nil:
			t.Fatal(err)
		case base == "keys.cpix.xml", base == "policy.json", base == "notes.txt", base == "pipe.m4s", base == "show3":
			t.Errorf("%s was published", p)
		}
		return nil
	})

	// A folder holding the workspace, or inside it, is refused before anything is copied.
	ws := filepath.Join(t.TempDir(), "ws")
	copyTree(t, pkg, filepath.Join(ws, "pkg"))
	os.WriteFile(filepath.Join(ws, "satchel.key"), []byte("{}"), 0o600)
	os.WriteFile(filepath.Join(ws, "satchel.db"), []byte("db"), 0o600)
	for _, c := range []struct {
		src    string
		inside bool
	}{{ws, false}, {filepath.Join(ws, "pkg"), true}} {
		dst := filepath.Join(t.TempDir(), "www")
		target, _ := ParseTarget(dst)
		_, err := Publish(context.Background(), Options{SrcDir: c.src, Target: target})
		var we *WorkspaceError
		if !errors.As(err, &we) || we.Inside != c.inside {
			t.Fatalf("publish %s: %v", c.src, err)
		}
		if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("publish of %s wrote %s", c.src, dst)
		}
	}
	// A destination inside the package is refused (it would publish into itself).
	inside, _ := ParseTarget(filepath.Join(titles, "show1", "www"))
	if _, err := Publish(context.Background(), Options{SrcDir: titles, Target: inside}); err == nil {
		t.Fatal("a destination inside the package was accepted")
	}
}

// urlsIn returns the absolute http(s) URLs written in a manifest or playlist.
func urlsIn(b []byte) []string {
	var out []string
	for _, m := range regexp.MustCompile(`https?://[^"\s<>]+`).FindAll(b, -1) {
		out = append(out, html.UnescapeString(string(m)))
	}
	return out
}

func get(t *testing.T, u string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestTitleSASIsScoped reproduces issue 16's cross-title leak: two titles published to one
// container, the manifest SAS of one (a container SAS then) read the other's keys. Now every
// token a title's links carry — the links themselves, and every URL inside the signed
// manifests and playlists they open — reads exactly one blob of that title: none reads the
// other title's blobs or lists the container. The published package still verifies, and
// ffprobe (another DASH client) reads it, through the links.
func TestTitleSASIsScoped(t *testing.T) {
	needAzurite(t)
	ctx := context.Background()
	src := testPackage(t)
	for _, title := range []string{"show1", "show2"} {
		target, _ := ParseTarget("azure://shared/" + title)
		if _, err := Publish(ctx, Options{SrcDir: src, Target: target, Creds: creds()}); err != nil {
			t.Fatal(err)
		}
	}
	for name := range listBlobs(t, "shared") {
		if strings.HasSuffix(name, "keys.cpix.xml") {
			t.Fatalf("%s published", name)
		}
	}
	show1, _ := ParseTarget("azure://shared/show1")
	links, err := SASURLs(ctx, creds(), show1, []string{"manifest.mpd", "master.m3u8", "download/240p.mp4"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// Walk every URL reachable from the links.
	tokens := map[string]string{} // query → the blob URL it came with
	seen := map[string]bool{}
	queue := []string{}
	for _, l := range links {
		queue = append(queue, l.URL)
	}
	storage := strings.Split(links[0].URL, "/shared/")[0] + "/"
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		if seen[u] {
			continue
		}
		if !strings.HasPrefix(u, storage) {
			continue // a namespace or a license URL, not a blob
		}
		seen[u] = true
		base, q, ok := strings.Cut(u, "?")
		if !ok || !strings.Contains(q, "sig=") {
			t.Fatalf("unsigned URL in a title's links: %s", u)
		}
		if strings.Contains(q, "sr=c") || !strings.Contains(q, "sr=b") || !strings.Contains(q, "sp=r&") {
			t.Fatalf("token not a read-only blob SAS: %s", q)
		}
		tokens[q] = base
		code, body := get(t, u)
		if code != 200 {
			t.Fatalf("GET %s: %d", u, code)
		}
		if strings.HasSuffix(base, ".mpd") || strings.HasSuffix(base, ".m3u8") {
			queue = append(queue, urlsIn(body)...)
		}
	}
	if len(tokens) < 10 {
		t.Fatalf("only %d tokens reachable from the links", len(tokens))
	}
	container := strings.Split(links[0].URL, "/show1/")[0]
	others := []string{container + "/show2/manifest.mpd", container + "/show2/download/240p.mp4",
		container + "/show2/cenc/240p/init.mp4", container + "/show2/cbcs/240p/seg_00001.m4s", container + "/show1/download/360p.mp4"}
	for q, own := range tokens {
		for _, other := range others {
			if other == own {
				continue
			}
			if code, _ := get(t, other+"?"+q); code == 200 {
				t.Fatalf("the token of %s reads %s", own, other)
			}
		}
		if code, _ := get(t, container+"?restype=container&comp=list&"+q); code == 200 {
			t.Fatalf("the token of %s lists the container", own)
		}
	}
	t.Logf("%d tokens reachable from show1's links; none reads show2 or lists the container", len(tokens))

	// The package verifies through its links (DASH and HLS), keys from the CPIX.
	kf, _ := os.Open(filepath.Join(src, "keys.cpix.xml"))
	doc, err := drm.ReadCPIX(kf)
	kf.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		if l.Name == "download/240p.mp4" {
			continue
		}
		rep, err := verify.Verify(ctx, verify.Input{Path: l.URL, Keys: doc.Keys})
		if err != nil {
			t.Fatalf("verify %s: %v", l.Name, err)
		}
		if rep.Failed() || rep.Samples == 0 {
			var b strings.Builder
			rep.WriteText(&b)
			t.Fatalf("%s does not verify through its link:\n%s", l.Name, b.String())
		}
	}
	// Another DASH client follows the signed segment URLs.
	if ffprobe, err := exec.LookPath("ffprobe"); err == nil {
		var mpd string
		for _, l := range links {
			if l.Name == "manifest.mpd" {
				mpd = l.URL
			}
		}
		out, err := exec.Command(ffprobe, "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", mpd).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "h264") || !strings.Contains(string(out), "aac") {
			t.Fatalf("ffprobe through the link: %v\n%s", err, out)
		}
	}

	// Signed copies of expired links are removed by the next run.
	if _, err := SASURLs(ctx, creds(), show1, []string{"manifest.mpd"}, time.Second); err != nil {
		t.Fatal(err)
	}
	before := countSAS(t)
	time.Sleep(2 * time.Second)
	if _, err := SASURLs(ctx, creds(), show1, []string{"manifest.mpd"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if after := countSAS(t); after != before {
		t.Fatalf("signed copies: %d before, %d after the expired set was cleaned (one set replaced by one)", before, after)
	}
	// A SAS credential cannot sign links (it would hand out its own, writable token).
	if _, err := SASURLs(ctx, Credentials{SASURL: container + "?sv=x&sig=y"}, show1, []string{"manifest.mpd"}, time.Hour); !errors.Is(err, ErrCannotSign) {
		t.Fatalf("SAS credential: %v", err)
	}
}

func countSAS(t *testing.T) int {
	n := 0
	for name := range listBlobs(t, "shared") {
		if strings.Contains(name, "/"+sasDir+"/") {
			n++
		}
	}
	return n
}
