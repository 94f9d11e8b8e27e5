package verify

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recorder is a test HTTP server that serves fixed bodies by path and records what was asked.
type recorder struct {
	mu    sync.Mutex
	paths []string
	srv   *httptest.Server
	files map[string]string
	dir   string // served as a file tree when set
}

func newRecorder(t *testing.T, files map[string]string, dir string) *recorder {
	r := &recorder{files: files, dir: dir}
	fs := http.FileServer(http.Dir(dir))
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.paths = append(r.paths, req.URL.Path)
		r.mu.Unlock()
		if body, ok := r.files[req.URL.Path]; ok {
			_, _ = w.Write([]byte(body))
			return
		}
		if r.dir != "" {
			fs.ServeHTTP(w, req)
			return
		}
		http.NotFound(w, req)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) asked() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.paths...)
}

func mpdWith(init, media string) string {
	return `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT4S">
<Period><AdaptationSet contentType="video" mimeType="video/mp4"><Representation id="v" bandwidth="1">
<SegmentTemplate timescale="1000" initialization="` + init + `" media="` + media + `" startNumber="1">
<SegmentTimeline><S t="0" d="2000" r="1"/></SegmentTimeline></SegmentTemplate></Representation></AdaptationSet></Period></MPD>`
}

func TestRemoteManifestNeverReadsLocalFiles(t *testing.T) {
	for _, init := range []string{"/etc/passwd", "file:///etc/passwd", "../../../../../../etc/passwd"} {
		t.Run(init, func(t *testing.T) {
			rec := newRecorder(t, map[string]string{"/p/manifest.mpd": mpdWith(init, "seg$Number$.m4s")}, "")
			rep, err := Verify(context.Background(), Input{Path: rec.srv.URL + "/p/manifest.mpd"})
			if err != nil {
				t.Fatal(err)
			}
			var js strings.Builder
			_ = rep.WriteJSON(&js)
			if strings.Contains(js.String(), "root:") {
				t.Fatalf("the report holds local file content:\n%s", js.String())
			}
			if !rep.Failed() {
				t.Fatalf("an MPD whose init is %s passed", init)
			}
			if init == "/etc/passwd" && !contains(rec.asked(), "/etc/passwd") {
				t.Fatalf("a host-relative init was not asked of the manifest's host: %v", rec.asked())
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// servedPackage serves the shared test package over HTTP.
func servedPackage(t *testing.T) (*recorder, string) {
	dir, _ := packaged(t)
	rec := newRecorder(t, nil, dir)
	return rec, dir
}

func TestRemoteHostRelativeURLs(t *testing.T) {
	rec, dir := servedPackage(t)
	_, res := packaged(t)
	mpd, err := os.ReadFile(filepath.Join(dir, "manifest.mpd"))
	if err != nil {
		t.Fatal(err)
	}
	// Host-relative references: resolved against the manifest's host, never opened as paths.
	abs := strings.ReplaceAll(string(mpd), `initialization="cenc/`, `initialization="/cenc/`)
	abs = strings.ReplaceAll(abs, `media="cenc/`, `media="/cenc/`)
	rec.files = map[string]string{"/other/place/manifest.mpd": abs}
	rep, err := Verify(context.Background(), Input{Path: rec.srv.URL + "/other/place/manifest.mpd", Keys: res.Keys})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed() {
		t.Fatalf("host-relative references failed:\n%s", findings(rep, Fail))
	}
}

func TestRemoteOtherHostNeedsAllowing(t *testing.T) {
	rec, dir := servedPackage(t)
	other := newRecorder(t, nil, dir) // the same package on another port: another host
	_, res := packaged(t)
	mpd, _ := os.ReadFile(filepath.Join(dir, "manifest.mpd"))
	abs := strings.ReplaceAll(string(mpd), `initialization="cenc/`, `initialization="`+other.srv.URL+`/cenc/`)
	abs = strings.ReplaceAll(abs, `media="cenc/`, `media="`+other.srv.URL+`/cenc/`)
	rec.files = map[string]string{"/m.mpd": abs}
	host := strings.TrimPrefix(other.srv.URL, "http://")

	rep, err := Verify(context.Background(), Input{Path: rec.srv.URL + "/m.mpd", Keys: res.Keys})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(other.asked()); n != 0 {
		t.Fatalf("a host that was not allowed got %d requests", n)
	}
	if !rep.Failed() || !strings.Contains(findings(rep, Fail), host) {
		t.Fatalf("the refused host is not named:\n%s", findings(rep, Fail))
	}

	rep, err = Verify(context.Background(), Input{Path: rec.srv.URL + "/m.mpd", Keys: res.Keys, AllowHosts: []string{host}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed() || len(other.asked()) == 0 {
		t.Fatalf("allowed host: %d requests, failures:\n%s", len(other.asked()), findings(rep, Fail))
	}
	named := false
	for _, h := range rep.Hosts {
		named = named || h.Host == host && h.Allowed && h.Fetches > 0
	}
	if !named || !strings.Contains(findings(rep, Warn), host) {
		t.Fatalf("the allowed host is not named: %+v\n%s", rep.Hosts, findings(rep, Warn))
	}
}

func TestRemoteSegmentLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static"><Period><AdaptationSet contentType="video">`)
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&b, `<Representation id="r%d" bandwidth="1"><SegmentTemplate timescale="1" initialization="i%d.mp4" media="s%d_$Number$.m4s">`+
			`<SegmentTimeline><S d="1" r="99998"/></SegmentTimeline></SegmentTemplate></Representation>`, i, i, i)
	}
	b.WriteString(`</AdaptationSet></Period></MPD>`)
	if b.Len() > 30000 {
		t.Fatalf("the MPD is %d bytes, the issue's was 23.7 KB", b.Len())
	}
	rec := newRecorder(t, map[string]string{"/big.mpd": b.String()}, "")
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rep, err := Verify(context.Background(), Input{Path: rec.srv.URL + "/big.mpd"})
	if err != nil {
		t.Fatal(err)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if !strings.Contains(findings(rep, Fail), "limit reached") || !strings.Contains(findings(rep, Fail), "segments") {
		t.Fatalf("no segment-limit finding:\n%s", findings(rep, Fail))
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 400<<20 {
		t.Fatalf("reading the MPD allocated %d MiB", alloc>>20)
	}
	if n := len(rec.asked()); n > 3 {
		t.Fatalf("%d requests after the limit", n)
	}
}

func TestRemoteResponseLimitStreams(t *testing.T) {
	var written atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".mpd") {
			_, _ = w.Write([]byte(mpdWith("init.mp4", "seg$Number$.m4s")))
			return
		}
		// An endless init segment (1.5 GiB in the issue), no Content-Length.
		buf := make([]byte, 64<<10)
		for i := 0; i < 24576; i++ {
			n, err := w.Write(buf)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	rep, err := Verify(context.Background(), Input{Path: srv.URL + "/m.mpd", Limits: Limits{MaxResponseBytes: 1 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(findings(rep, Fail), "response size limit") {
		t.Fatalf("no response-size finding:\n%s", findings(rep, Fail))
	}
	srv.CloseClientConnections()
	if w := written.Load(); w > 64<<20 {
		t.Fatalf("the server sent %d MiB: the response was not cut off", w>>20)
	}
}

func TestRemoteFetchAndTimeLimits(t *testing.T) {
	rec, _ := servedPackage(t)
	_, res := packaged(t)
	rep, err := Verify(context.Background(), Input{Path: rec.srv.URL + "/manifest.mpd", Keys: res.Keys, Limits: Limits{MaxFetches: 4}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(findings(rep, Fail), "fetches limit") || len(rec.asked()) > 4 {
		t.Fatalf("fetch limit: %d requests\n%s", len(rec.asked()), findings(rep, Fail))
	}
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".mpd") {
			_, _ = w.Write([]byte(mpdWith("init.mp4", "seg$Number$.m4s")))
			return
		}
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer slow.Close()
	start := time.Now()
	rep, err = Verify(context.Background(), Input{Path: slow.URL + "/m.mpd", Limits: Limits{MaxTime: 500 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 5*time.Second || !strings.Contains(findings(rep, Fail), "time limit") {
		t.Fatalf("time limit after %s:\n%s", time.Since(start), findings(rep, Fail))
	}
}

func TestRemotePlaylistLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("#EXTM3U\n")
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&b, "#EXT-X-STREAM-INF:BANDWIDTH=%d\nv%d.m3u8\n", 1000+i, i)
	}
	rec := newRecorder(t, map[string]string{"/master.m3u8": b.String()}, "")
	rep, err := Verify(context.Background(), Input{Path: rec.srv.URL + "/master.m3u8", Limits: Limits{MaxPlaylists: 20}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(findings(rep, Fail), "media playlists") || len(rec.asked()) > 25 {
		t.Fatalf("%d requests\n%s", len(rec.asked()), findings(rep, Fail))
	}
	rep, err = Verify(context.Background(), Input{Path: rec.srv.URL + "/master.m3u8", Limits: Limits{MaxManifestBytes: 4096}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(findings(rep, Fail), "response size limit of 4096") {
		t.Fatalf("manifest size limit:\n%s", findings(rep, Fail))
	}
}

func TestReportRedactsKeys(t *testing.T) {
	dir, res := packaged(t)
	for _, include := range []bool{false, true} {
		rep, err := Verify(context.Background(), Input{Path: filepath.Join(dir, "cenc", "240p"), Keys: res.Keys, IncludeKeys: include})
		if err != nil {
			t.Fatal(err)
		}
		var js, html strings.Builder
		_ = rep.WriteJSON(&js)
		_ = rep.WriteHTML(&html)
		for _, k := range res.Keys {
			if k.TrackType != "SD" {
				continue // only the 240p rendition's key is licensed
			}
			secret := base64.RawURLEncoding.EncodeToString(k.Key[:])
			if got := strings.Contains(js.String(), secret) || strings.Contains(html.String(), secret); got != include {
				t.Fatalf("IncludeKeys=%v: key in report = %v", include, got)
			}
		}
		if !include && !strings.Contains(js.String(), "[redacted]") {
			t.Fatal("no redacted ClearKey response in the report")
		}
	}
}
