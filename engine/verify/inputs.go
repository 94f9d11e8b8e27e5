package verify

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"satchel/engine/manifest"
)

// maxFetch bounds one HTTP download (a single-file MP4 can be large; segments are small).
const maxFetch = 4 << 30

// fetcher reads files relative to a base: a local folder or an http(s) URL.
type fetcher struct {
	ctx    context.Context
	client *http.Client
	origin string
}

func isURL(s string) bool { return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") }

// resolve joins ref to the location of base (a file path or URL).
func resolve(base, ref string) string {
	if isURL(ref) || filepath.IsAbs(ref) {
		return ref
	}
	if isURL(base) {
		b, err := url.Parse(base)
		if err != nil {
			return ref
		}
		r, err := url.Parse(ref)
		if err != nil {
			return ref
		}
		out := b.ResolveReference(r)
		// A SAS-signed manifest URL: segments in the same private container need the same
		// token, which relative references do not carry.
		if out.RawQuery == "" && b.RawQuery != "" && out.Host == b.Host {
			out.RawQuery = b.RawQuery
		}
		return out.String()
	}
	return filepath.Join(filepath.Dir(base), filepath.FromSlash(ref))
}

// get returns the bytes at loc (path or URL).
func (f *fetcher) get(loc string) ([]byte, error) {
	if !isURL(loc) {
		b, err := os.ReadFile(loc)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", loc, err)
		}
		return b, nil
	}
	req, err := http.NewRequestWithContext(f.ctx, http.MethodGet, loc, nil)
	if err != nil {
		return nil, err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", loc, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch %s: HTTP %d", loc, resp.StatusCode)
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxFetch))
}

// trackRef is one CMAF track (init + segments) or a single file.
type trackRef struct {
	subject  string
	init     string   // location of the init segment or the single file
	segments []string // empty for single files
	single   bool
	// From the manifest, for consistency checks.
	manifestKIDs  []string
	manifestPSSH  [][]byte
	manifestPRO   [][]byte
	hlsKeys       []manifest.KeyTag
	clearKeyLAURL string
}

// plan lists the tracks behind an input path or URL.
func (v *verifier) plan(target string) ([]*trackRef, error) {
	if !isURL(target) {
		st, err := os.Stat(target)
		if err != nil {
			return nil, fmt.Errorf("verify %s: %w", target, err)
		}
		if st.IsDir() {
			return v.planDir(target)
		}
	}
	lower := strings.ToLower(target)
	if i := strings.IndexAny(lower, "?#"); i >= 0 {
		lower = lower[:i]
	}
	switch {
	case strings.HasSuffix(lower, ".mpd"):
		return v.planMPD(target)
	case strings.HasSuffix(lower, ".m3u8"):
		return v.planHLS(target)
	default:
		return []*trackRef{{subject: displayName(target), init: target, single: true}}, nil
	}
}

func displayName(loc string) string {
	if isURL(loc) {
		if u, err := url.Parse(loc); err == nil {
			return path.Base(u.Path)
		}
	}
	return filepath.Base(loc)
}

func (v *verifier) planDir(dir string) ([]*trackRef, error) {
	for _, m := range []string{"manifest.mpd", "master.m3u8"} {
		if p := filepath.Join(dir, m); fileExists(p) {
			return v.plan(p)
		}
	}
	if init := filepath.Join(dir, "init.mp4"); fileExists(init) {
		segs, _ := filepath.Glob(filepath.Join(dir, "*.m4s"))
		sort.Strings(segs)
		return []*trackRef{{subject: filepath.Base(dir), init: init, segments: segs}}, nil
	}
	mp4s, _ := filepath.Glob(filepath.Join(dir, "*.mp4"))
	if len(mp4s) == 0 {
		return nil, fmt.Errorf("verify %s: the folder has no manifest.mpd, master.m3u8, init.mp4 or .mp4 files", dir)
	}
	sort.Strings(mp4s)
	var out []*trackRef
	for _, p := range mp4s {
		out = append(out, &trackRef{subject: filepath.Base(p), init: p, single: true})
	}
	return out, nil
}

func (v *verifier) planMPD(loc string) ([]*trackRef, error) {
	b, err := v.fetch.get(loc)
	if err != nil {
		return nil, err
	}
	v.checkHTTP(loc, "application/dash+xml")
	info, err := manifest.ReadMPD(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", loc, err)
	}
	v.rep.pass(CatStructure, displayName(loc), "MPD parses: %d representations, %s", len(info.Representations), info.Duration)
	var out []*trackRef
	for _, r := range info.Representations {
		t := &trackRef{subject: "DASH " + r.ID, init: resolve(loc, r.InitURL), single: r.SingleFile}
		for _, s := range r.SegmentURLs {
			t.segments = append(t.segments, resolve(loc, s))
		}
		for _, p := range r.Protection {
			if p.DefaultKID != "" {
				t.manifestKIDs = append(t.manifestKIDs, p.DefaultKID)
			}
			if len(p.PSSH) > 0 {
				t.manifestPSSH = append(t.manifestPSSH, p.PSSH)
			}
			if len(p.PRO) > 0 {
				t.manifestPRO = append(t.manifestPRO, p.PRO)
			}
			if p.LAURL != "" {
				t.clearKeyLAURL = p.LAURL
			}
		}
		out = append(out, t)
	}
	return out, nil
}

func (v *verifier) planHLS(loc string) ([]*trackRef, error) {
	b, err := v.fetch.get(loc)
	if err != nil {
		return nil, err
	}
	v.checkHTTP(loc, "application/vnd.apple.mpegurl")
	pl, err := manifest.ReadHLS(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", loc, err)
	}
	if !pl.Master {
		return []*trackRef{v.hlsMedia(loc, displayName(loc), pl)}, nil
	}
	v.rep.pass(CatStructure, displayName(loc), "multivariant playlist parses: %d variants, %d renditions, %d session keys", len(pl.Variants), len(pl.Media), len(pl.SessionKeys))
	if len(pl.SessionKeys) == 0 {
		v.rep.warn(CatDRM, displayName(loc), "no EXT-X-SESSION-KEY in the multivariant playlist", "add EXT-X-SESSION-KEY tags so iOS can preload keys for offline downloads")
	}
	var uris []string
	seen := map[string]bool{}
	for _, m := range pl.Media {
		if m.URI != "" && !seen[m.URI] {
			seen[m.URI] = true
			uris = append(uris, m.URI)
		}
	}
	for _, va := range pl.Variants {
		if !seen[va.URI] {
			seen[va.URI] = true
			uris = append(uris, va.URI)
		}
	}
	var out []*trackRef
	for _, u := range uris {
		ml := resolve(loc, u)
		mb, err := v.fetch.get(ml)
		if err != nil {
			return nil, err
		}
		mp, err := manifest.ReadHLS(bytes.NewReader(mb))
		if err != nil {
			return nil, fmt.Errorf("verify %s: %w", ml, err)
		}
		out = append(out, v.hlsMedia(ml, "HLS "+u, mp))
	}
	return out, nil
}

func (v *verifier) hlsMedia(loc, subject string, pl *manifest.Playlist) *trackRef {
	if !pl.Ended {
		v.rep.warn(CatStructure, subject, "the media playlist has no EXT-X-ENDLIST (live/event)", "offline downloads need VOD playlists with EXT-X-ENDLIST")
	}
	t := &trackRef{subject: subject, hlsKeys: pl.Keys}
	for _, s := range pl.Segments {
		t.segments = append(t.segments, resolve(loc, s))
	}
	if pl.MapURI != "" {
		t.init = resolve(loc, pl.MapURI)
	} else if len(t.segments) == 1 {
		t.init, t.segments, t.single = t.segments[0], nil, true
	}
	return t
}

// checkHTTP checks what a browser player and a download manager need from a published URL:
// the content type, CORS for a player on another origin, and byte-range support.
func (v *verifier) checkHTTP(loc, wantType string) {
	if !isURL(loc) {
		return
	}
	subject := displayName(loc)
	req, _ := http.NewRequestWithContext(v.fetch.ctx, http.MethodGet, loc, nil)
	req.Header.Set("Origin", v.fetch.origin)
	req.Header.Set("Range", "bytes=0-99")
	resp, err := v.fetch.client.Do(req)
	if err != nil {
		v.rep.fail(CatPublish, subject, "cannot be fetched: "+err.Error(), "check the URL, the network and the storage permissions")
		return
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	ct := resp.Header.Get("Content-Type")
	if ct == "" || !strings.HasPrefix(strings.ToLower(ct), wantType) {
		v.rep.warn(CatPublish, subject, fmt.Sprintf("served as %q, expected %s", ct, wantType), "set the blob's Content-Type (satchel publish does)")
	} else {
		v.rep.pass(CatPublish, subject, "served as %s", ct)
	}
	if ao := resp.Header.Get("Access-Control-Allow-Origin"); ao == "*" || ao == v.fetch.origin {
		v.rep.pass(CatPublish, subject, "CORS allows origin %s", v.fetch.origin)
	} else {
		v.rep.warn(CatPublish, subject, fmt.Sprintf("no CORS header for origin %s: browser players on another origin will fail", v.fetch.origin), "add a CORS rule for the player origin (satchel publish --cors-origin)")
	}
	if resp.StatusCode == http.StatusPartialContent && strings.HasPrefix(resp.Header.Get("Content-Range"), "bytes 0-99/") {
		v.rep.pass(CatPublish, subject, "range requests supported (206)")
	} else {
		v.rep.warn(CatPublish, subject, fmt.Sprintf("a Range request answered %d, not 206", resp.StatusCode), "serve the files from storage that supports byte ranges; download managers resume with them")
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
