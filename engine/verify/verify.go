package verify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"satchel/engine/devices"
	"satchel/engine/drm"
	"satchel/engine/media"
	"satchel/engine/policy"
)

// Input describes what to check.
type Input struct {
	// Path is a file, a folder, an .mpd/.m3u8, or an http(s) URL of one of these. A folder is
	// the whole package: every MPD, every HLS playlist at its top, every single-file MP4 at its
	// top or in download/.
	Path string
	// Keys are the content keys known to the caller (CPIX, KID:KEY, the workspace). With no
	// LicenseURL they are served by a private in-process license server.
	Keys []drm.ContentKey
	// LicenseURL is a Satchel license server base URL to use instead.
	LicenseURL string
	Token      string
	// Policy is linted for offline use, enforced by the private license server and assumed by
	// the offline readiness matrix; PolicySource says where it came from ("policy.json", a
	// preset name) for the matrix's evidence.
	Policy       *policy.Policy
	PolicySource string
	// Devices limits the offline readiness matrix to these device profiles (nil: every one).
	Devices []devices.ProfileID
	// SignallingOnly reads the manifests, playlists and init segments only: structure,
	// signalling, the inventory and offline readiness. No license is requested, no media
	// segment is read, nothing is decrypted or decoded.
	SignallingOnly bool
	// SourceFiles are the clear sources, for a bit-exact comparison of decrypted samples.
	SourceFiles []string
	HTTPClient  *http.Client
	// Origin is sent for CORS checks on URLs (default https://player.example.com).
	Origin string
	// Full decodes every sample; by default every sync sample and the first fragment of each
	// track are decoded (every sample is still decrypted and, with SourceFiles, compared).
	Full bool
	// AllowHosts are the hosts ("host" for any port, or "host:port") other than the input
	// URL's that a remote manifest may send the checker to. Each is named in the report.
	AllowHosts []string
	// IncludeKeys keeps the content keys of license responses in the report; by default they
	// are redacted.
	IncludeKeys bool
	// Limits bound what is read; zero fields take DefaultLimits.
	Limits Limits
}

type verifier struct {
	in          Input
	rep         *Report
	fetch       *fetcher
	limits      Limits
	entries     []*entry
	referenced  map[string]bool // locations covered by an entry point
	segments    int             // segments listed so far
	systems     map[drm.System][]byte
	fpURIs      []string
	kids        map[drm.KID]bool
	inKeys      []drm.ContentKey
	keys        []drm.ContentKey
	sources     []*sourceTrack
	closers     []func()
	signalSeen  map[string]bool
	media       map[string]*mediaRef // first mediaRef per media (init + first segment)
	httpChecked map[string]bool
	noDecode    bool
}

// Verify runs every check and returns the report. An error means the input could not be
// read at all (a missing file, an unreachable URL, an unreadable source) or ctx was
// cancelled; problems with the content, and limits reached, are findings.
func Verify(ctx context.Context, in Input) (*Report, error) { return verify(ctx, in, true) }

// verify is Verify; decoding can be turned off for fuzzing (a decoder process per input).
func verify(ctx context.Context, in Input, decoding bool) (*Report, error) {
	start := time.Now()
	if in.Origin == "" {
		in.Origin = "https://player.example.com"
	}
	limits := in.Limits.withDefaults()
	rep := &Report{Target: in.Path, Started: start}
	fetch, err := newFetcher(in, limits)
	if err != nil {
		return nil, err
	}
	v := &verifier{in: in, rep: rep, fetch: fetch, limits: limits, referenced: map[string]bool{},
		systems: map[drm.System][]byte{}, kids: map[drm.KID]bool{}, inKeys: in.Keys, keys: in.Keys,
		signalSeen: map[string]bool{}, media: map[string]*mediaRef{}, httpChecked: map[string]bool{}, noDecode: !decoding}
	defer v.close()
	tctx, cancel := context.WithTimeout(ctx, limits.MaxTime)
	defer cancel()
	err = v.run(tctx)
	if err == nil {
		rep.Readiness = v.readiness()
	}
	if ctx.Err() == nil && errors.Is(tctx.Err(), context.DeadlineExceeded) {
		v.hitLimit(Where{}, "verification", fmt.Sprintf("the time limit of %s", limits.MaxTime))
		err = nil
	}
	if err != nil {
		return nil, err
	}
	rep.Hosts = fetch.hostReport()
	for _, h := range rep.Hosts {
		if !h.Origin && h.Allowed {
			rep.warn(CatPublish, "hosts", fmt.Sprintf("content was fetched from %s (allowed), another host than the manifest's: %d requests",
				h.Host, h.Fetches), "make sure that host is meant to serve this package (CDN, storage account)")
		}
	}
	for _, t := range rep.Inventory.Tracks {
		if t.SameAs == "" {
			rep.Tracks++ // distinct media tracks checked
		}
	}
	rep.Duration = time.Since(start)
	return rep, nil
}

func (v *verifier) close() {
	for _, e := range v.entries {
		for _, m := range e.media {
			if m.file != nil {
				m.file.cleanup()
			}
		}
	}
	for _, c := range v.closers {
		c()
	}
}

// run plans the entry points, reads every init, runs the license round trip, then decrypts
// and decodes every distinct media once.
func (v *verifier) run(ctx context.Context) error {
	if err := v.plan(ctx); err != nil {
		return err
	}
	if err := v.loadSources(ctx); err != nil {
		return err
	}
	for _, e := range v.entries {
		v.checkManifestTiming(e)
		for _, m := range e.media {
			if err := ctx.Err(); err != nil {
				return err
			}
			if !m.webvtt {
				v.readOrShare(ctx, m)
			}
		}
		v.checkSessionKeys(e)
		if err := v.checkIFrames(ctx, e); err != nil {
			return err
		}
	}
	v.checkTextRenditions()
	v.checkKeySets()
	v.lintPolicy()
	if v.in.SignallingOnly {
		return nil
	}
	v.licenseRoundTrip(ctx)
	for _, e := range v.entries {
		for _, m := range e.media {
			if m.sameAs != nil || m.webvtt {
				continue
			}
			if err := v.decryptMedia(ctx, m); err != nil {
				return err
			}
		}
		// WebVTT is timed against the video, so it is checked once the video is read.
		for _, m := range e.media {
			if m.webvtt {
				if err := v.checkWebVTT(ctx, e, m); err != nil {
					return err
				}
			}
		}
		v.checkTrickMedia(e)
		v.checkLadder(e)
	}
	v.shareSubtitleFacts()
	if v.fetch.root != "" && !v.fetch.remote {
		if st, err := os.Stat(v.in.Path); err == nil && st.IsDir() {
			v.listUnchecked(v.fetch.root)
		}
	}
	return nil
}

func (v *verifier) plan(ctx context.Context) error {
	target := v.in.Path
	if !isURL(target) {
		abs, err := filepath.Abs(target)
		if err != nil {
			return err
		}
		st, err := os.Stat(abs)
		if err != nil {
			return fmt.Errorf("verify %s: %w", target, err)
		}
		if st.IsDir() {
			return v.planDir(ctx, abs)
		}
		target = abs
	}
	err := v.planSingle(ctx, target)
	if err != nil && len(v.entries) == 0 {
		name := v.fetch.rel(target)
		if !v.limitOrRefused(Where{File: name}, name, err) {
			return err
		}
	}
	return nil
}

// readOrShare reads m's init, or shares the tracks of an earlier entry that referenced the
// same media (a cbcs rendition reached from both the MPD and the HLS playlist), checking only
// this entry's signalling against them.
func (v *verifier) readOrShare(ctx context.Context, m *mediaRef) {
	key := m.init
	if len(m.segments) > 0 {
		key += "|" + m.segments[0]
	}
	first, dup := v.media[key]
	if !dup {
		v.media[key] = m
		v.readMedia(ctx, m)
		for _, t := range m.tracks {
			v.checkSignalling(t)
		}
		return
	}
	m.sameAs = first
	for _, ft := range first.tracks {
		t := *ft
		t.ref, t.orig, t.subject = m, ft, m.subject
		if len(first.tracks) > 1 {
			t.subject = fmt.Sprintf("%s track %d (%s)", m.subject, t.trackID, t.kind)
		}
		fact := v.rep.Inventory.Tracks[ft.fact]
		fact.Entry, fact.SameAs, fact.Decode = m.entry.name, first.entry.name, nil
		t.fact = len(v.rep.Inventory.Tracks)
		v.rep.Inventory.Tracks = append(v.rep.Inventory.Tracks, fact)
		if t.kind == media.Text {
			v.textFact(&t, fact.Language)
		}
		m.tracks = append(m.tracks, &t)
		if t.prot != nil {
			ef := &v.rep.Inventory.Manifests[m.entry.fact]
			ef.Schemes = appendScheme(ef.Schemes, t.prot.Scheme)
		}
		v.checkSignalling(&t)
	}
	if len(first.tracks) > 0 {
		v.rep.passAt(Where{File: v.fetch.rel(m.init)}, CatDecryption, m.subject, "same media as %s: decrypted and decoded once, there",
			first.subject)
	}
}
