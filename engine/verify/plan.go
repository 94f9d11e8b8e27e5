package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"satchel/engine/drm"
	"satchel/engine/manifest"
)

// entry is one entry point of the package: an MPD, a multivariant (or lone media) playlist,
// a single-file MP4, or an init segment with its segments.
type entry struct {
	loc   string // path or URL
	name  string // for findings: relative to the package root
	kind  ManifestKind
	fact  int // index into Inventory.Manifests
	media []*mediaRef
	// MPD facts for the timing checks.
	maxSegment float64 // MPD@maxSegmentDuration in seconds (0: unknown)
	// trickSets are the DASH trick-mode AdaptationSets; iframes the HLS I-frame playlists.
	trickSets []*trickSet
	iframes   []*iframeRef
}

// mediaRef is one CMAF track (an init segment and its segments) or one single file, with the
// signalling its manifest gives it.
type mediaRef struct {
	entry   *entry
	subject string
	// rendition names it for the inventory: the Representation id, the media playlist, the file
	rendition string
	init      string   // location of the init segment or the single file
	segments  []string // empty for single files
	single    bool
	kind      string // "video"/"audio" as the manifest says ("" when unknown)
	// Manifest attributes: DASH Representation@bandwidth/codecs/width×height/frameRate, HLS
	// EXT-X-STREAM-INF BANDWIDTH/CODECS/RESOLUTION (for trick-play checks).
	bandwidth  int64
	codecs     string
	resolution string
	frameRate  string
	// trick marks a Representation of a DASH trick-mode AdaptationSet: not a rendition of
	// the ladder; it must hold sync samples only.
	trick *trickSet
	// set is the index of the DASH AdaptationSet; maxPlayout its (or the Representation's)
	// maxPlayoutRate as written.
	set        int
	maxPlayout string
	// DASH
	element   string // Representation element
	prot      []manifest.ProtectionInfo
	timescale uint64
	timeline  []manifest.SegmentTime
	explicit  []bool
	// HLS
	playlist  string // media playlist location
	hlsKeys   []manifest.KeyTag
	durations []float64
	target    int
	// tracks found in the init (filled when it is read)
	tracks []*trackInfo
	// state of the single file, kept open between reading and decryption
	file *openFile
	// pssh boxes of its init (moov pssh, PIFF uuid pssh); piffBad when a PIFF pssh disagrees
	psshs   []psshSource
	piffBad bool
	// sameAs is the earlier mediaRef with the same media (decrypted there, not here).
	sameAs *mediaRef
	// Subtitles: webvtt marks an HLS subtitle playlist of WebVTT segments (no init segment);
	// lang, label and forced are what the manifest says (HLS LANGUAGE, NAME, FORCED; DASH
	// AdaptationSet@lang, Label, Role forced-subtitle).
	webvtt bool
	lang   string
	label  string
	forced bool
}

// planDir lists every entry point of a package folder: each MPD, each HLS playlist at the top
// (multivariant playlists, and media playlists no multivariant playlist refers to), each
// single-file MP4 at the top or in download/, or an init segment with its segments.
func (v *verifier) planDir(ctx context.Context, dir string) error {
	des, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("verify %s: %w", dir, err)
	}
	var mpds, m3u8s, files []string
	for _, de := range des {
		if !de.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, de.Name())
		switch ext := strings.ToLower(filepath.Ext(de.Name())); {
		case ext == ".mpd":
			mpds = append(mpds, p)
		case ext == ".m3u8":
			m3u8s = append(m3u8s, p)
		case isMediaFile(ext):
			files = append(files, p)
		}
	}
	if dl, err := os.ReadDir(filepath.Join(dir, manifest.DirDownload)); err == nil {
		for _, de := range dl {
			if de.Type().IsRegular() && isMediaFile(strings.ToLower(filepath.Ext(de.Name()))) {
				files = append(files, filepath.Join(dir, manifest.DirDownload, de.Name()))
			}
		}
	}
	sort.Slice(mpds, func(i, j int) bool { return mpdOrder(mpds[i]) < mpdOrder(mpds[j]) })
	sort.Slice(m3u8s, func(i, j int) bool { return m3u8Order(m3u8s[i]) < m3u8Order(m3u8s[j]) })
	sort.Strings(files)
	segs, _ := filepath.Glob(filepath.Join(dir, "*.m4s"))
	if init := filepath.Join(dir, manifest.FileInit); len(mpds)+len(m3u8s) == 0 && len(segs) > 0 && fileExists(init) {
		// A rendition folder: an init segment and its segments, no manifest.
		sort.Strings(segs)
		e := v.newEntry(init, KindCMAF)
		e.media = append(e.media, &mediaRef{entry: e, subject: v.fetch.rel(init), init: init, segments: segs,
			rendition: v.fetch.rel(dir)})
		return nil
	}
	ismcs := smoothManifests(dir)
	if len(mpds)+len(m3u8s)+len(files)+len(ismcs) == 0 {
		return fmt.Errorf("verify %s: the folder has no MPD, HLS playlist, MP4 file or init.mp4 with segments", dir)
	}
	for _, p := range mpds {
		if err := v.planMPD(ctx, p); err != nil {
			v.entryError(p, err)
		}
	}
	for _, p := range m3u8s {
		if err := v.planHLS(ctx, p, true); err != nil {
			v.entryError(p, err)
		}
	}
	for _, p := range files {
		if !v.referenced[p] { // an init segment a playlist or MPD already covers
			v.planFile(p)
		}
	}
	for _, p := range ismcs { // after the MPDs and playlists: it is compared with their inits
		if err := v.planSmooth(ctx, p); err != nil {
			v.entryError(p, err)
		}
	}
	return nil
}

func isMediaFile(ext string) bool {
	switch ext {
	case ".mp4", ".m4v", ".m4a", ".ismv", ".isma", ".cmfv", ".cmfa", ".mov":
		return true
	}
	return false
}

// m3u8Order puts master.m3u8 first, then other likely multivariant playlists.
func m3u8Order(p string) string {
	b := filepath.Base(p)
	switch {
	case b == manifest.FileHLSMaster:
		return ""
	case strings.Contains(b, "master"):
		return "0" + b
	}
	return "1" + b
}

// mpdOrder puts manifest.mpd first, then the others by name.
func mpdOrder(p string) string {
	if filepath.Base(p) == manifest.FileMPD {
		return ""
	}
	return filepath.Base(p)
}

func (v *verifier) newEntry(loc string, kind ManifestKind) *entry {
	e := &entry{loc: loc, name: v.fetch.rel(loc), kind: kind, fact: len(v.rep.Inventory.Manifests)}
	v.rep.Inventory.Manifests = append(v.rep.Inventory.Manifests, ManifestFact{File: e.name, Kind: kind})
	v.entries = append(v.entries, e)
	v.referenced[loc] = true
	return e
}

// entryError turns a failure to read an entry point into a finding: inside a folder one bad
// manifest must not hide the others.
func (v *verifier) entryError(loc string, err error) {
	name := v.fetch.rel(loc)
	v.referenced[loc] = true
	if v.limitOrRefused(Where{File: name}, name, err) {
		return
	}
	v.rep.failAt(Where{File: name}, CatStructure, name, "cannot be read: "+err.Error(),
		"re-package or re-download it; a truncated download is the usual cause")
}

// limitOrRefused reports a *LimitError or *RefusedError as its finding; false for other errors.
func (v *verifier) limitOrRefused(w Where, subject string, err error) bool {
	var le *LimitError
	var re *RefusedError
	var me *manifest.LimitError
	switch {
	case errors.As(err, &le):
		v.hitLimit(w, subject, le.Error())
		return true
	case errors.As(err, &me):
		v.hitLimit(w, subject, fmt.Sprintf("the manifest lists %s: stopped reading it", me.Error()))
		return true
	case errors.As(err, &re):
		fix := "package the media inside the package folder"
		if re.Host != "" {
			fix = "if you trust " + re.Host + ", allow that host explicitly"
		}
		v.rep.failAt(w, CatPublish, subject, re.Error(), fix)
		v.rep.Inventory.notChecked(re.Ref, re.Reason)
		return true
	}
	return false
}

func (v *verifier) hitLimit(w Where, subject, msg string) {
	v.rep.failAt(w, CatLimits, subject, "limit reached: "+msg+"; the rest is not checked",
		"check that this is the package you meant; raise the limit only for input you trust")
	v.rep.Inventory.notChecked(subject, "limit reached: "+msg)
}

func (v *verifier) planFile(loc string) {
	e := v.newEntry(loc, KindFile)
	e.media = append(e.media, &mediaRef{entry: e, subject: e.name, init: loc, single: true, rendition: e.name})
}

func (v *verifier) planMPD(ctx context.Context, loc string) error {
	b, err := v.fetch.get(ctx, loc, v.limits.MaxManifestBytes)
	if err != nil {
		return err
	}
	v.checkHTTP(ctx, loc, "application/dash+xml")
	info, err := manifest.ReadMPDLimit(bytes.NewReader(b), v.segmentBudget())
	if err != nil {
		return fmt.Errorf("verify %s: %w", displayName(loc), err)
	}
	e := v.newEntry(loc, KindDASH)
	e.maxSegment = info.MaxSegmentDuration.Seconds()
	fact := &v.rep.Inventory.Manifests[e.fact]
	where := Where{File: e.name, At: "MPD"}
	if info.Type == "dynamic" {
		fact.Dynamic = true
		v.rep.warnAt(where, CatStructure, e.name, "a dynamic (live) MPD: verified as far as it lists segments, but it cannot be "+
			"downloaded for offline playback", "publish a static (VOD) MPD for offline downloads")
	}
	v.rep.passAt(where, CatStructure, e.name, "MPD parses: %d representations, %s", len(info.Representations), info.Duration)
	countAdaptationSets(fact, info)
	for _, r := range info.Representations {
		m := &mediaRef{entry: e, subject: e.name + " " + r.ID, rendition: r.ID, single: r.SingleFile, kind: r.ContentType,
			element: "MPD/" + r.Element, prot: r.Protection, timescale: r.Timescale, timeline: r.Timeline, explicit: r.ExplicitStarts,
			bandwidth: r.Bandwidth, codecs: r.Codecs, frameRate: r.FrameRate, set: r.AdaptationSet, maxPlayout: r.MaxPlayoutRate}
		if r.Width > 0 && r.Height > 0 {
			m.resolution = fmt.Sprintf("%dx%d", r.Width, r.Height)
		}
		if as := adaptationSetOf(info, r); as != nil {
			m.lang, m.label = as.Lang, as.Label
			m.forced = slices.Contains(as.Roles, "forced-subtitle")
			m.trick = trickSetOf(e, info, r.AdaptationSet)
		}
		if m.init, err = v.fetch.resolve(loc, r.InitURL); err != nil {
			v.limitOrRefused(Where{File: e.name, At: m.element}, m.subject, err)
			continue
		}
		v.referenced[m.init] = true
		if !v.resolveSegments(e, m, loc, r.SegmentURLs) {
			continue
		}
		v.segments += len(m.segments)
		if m.trick != nil {
			m.trick.reps = append(m.trick.reps, m)
			fact.TrickRenditions++
			e.media = append(e.media, m)
			continue
		}
		switch r.ContentType {
		case "video":
			fact.VideoRenditions++
		case "audio":
			fact.AudioRenditions++
		case "text":
			fact.TextRenditions++
		}
		e.media = append(e.media, m)
	}
	v.checkTrickSignalling(e, info)
	return nil
}

// adaptationSetOf returns the AdaptationSet a Representation belongs to.
func adaptationSetOf(info *manifest.MPDInfo, r manifest.RepresentationInfo) *manifest.AdaptationSetInfo {
	if r.AdaptationSet < 0 || r.AdaptationSet >= len(info.AdaptationSets) {
		return nil
	}
	return &info.AdaptationSets[r.AdaptationSet]
}

// countAdaptationSets counts the audio AdaptationSets of an MPD (one per language or role: the
// tracks a player offers, whatever their bitrates).
func countAdaptationSets(fact *ManifestFact, info *manifest.MPDInfo) {
	for _, as := range info.AdaptationSets {
		ct, mt := strings.ToLower(as.ContentType), strings.ToLower(as.MimeType)
		if ct == "audio" || strings.HasPrefix(mt, "audio/") {
			fact.AudioTracks++
		}
	}
}

func (v *verifier) resolveSegments(e *entry, m *mediaRef, base string, refs []string) bool {
	for _, s := range refs {
		loc, err := v.fetch.resolve(base, s)
		if err != nil {
			v.limitOrRefused(Where{File: e.name, At: m.element}, m.subject, err)
			return false
		}
		m.segments = append(m.segments, loc)
		v.referenced[loc] = true
	}
	return true
}

// segmentBudget is how many more segments the manifests may list.
func (v *verifier) segmentBudget() int {
	if n := v.limits.MaxSegments - v.segments; n > 0 {
		return n
	}
	return 0
}

// planHLS reads a playlist. At the top of a folder (top=true) a media playlist that a
// multivariant playlist refers to is skipped: it is checked through that one.
func (v *verifier) planHLS(ctx context.Context, loc string, top bool) error {
	if top && v.referenced[loc] {
		return nil
	}
	b, err := v.fetch.get(ctx, loc, v.limits.MaxManifestBytes)
	if err != nil {
		return err
	}
	v.checkHTTP(ctx, loc, "application/vnd.apple.mpegurl")
	pl, err := manifest.ReadHLS(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("verify %s: %w", displayName(loc), err)
	}
	if !pl.Master {
		e := v.newEntry(loc, KindHLSMedia)
		m := v.hlsMedia(e, loc, e.name, pl, "")
		if m != nil {
			e.media = append(e.media, m)
		}
		return nil
	}
	e := v.newEntry(loc, KindHLSMaster)
	fact := &v.rep.Inventory.Manifests[e.fact]
	fact.SessionKeys = len(pl.SessionKeys)
	v.rep.passAt(Where{File: e.name}, CatStructure, e.name, "multivariant playlist parses: %d variants, %d renditions, %d session keys",
		len(pl.Variants), len(pl.Media), len(pl.SessionKeys))
	v.sessionKeys(e, pl.SessionKeys)
	if err := v.hlsVariants(ctx, e, loc, pl); err != nil {
		return err
	}
	return v.planIFrames(ctx, e, loc, pl.IFrameStreams)
}

func (v *verifier) hlsVariants(ctx context.Context, e *entry, loc string, pl *manifest.Playlist) error {
	fact := &v.rep.Inventory.Manifests[e.fact]
	type ref struct {
		uri, kind string
		tag       *manifest.MediaTag
	}
	var uris []ref
	seen := map[string]bool{}
	for i, m := range pl.Media {
		if m.URI != "" && !seen[m.URI] {
			seen[m.URI] = true
			uris = append(uris, ref{m.URI, strings.ToLower(m.Type), &pl.Media[i]})
			switch strings.ToUpper(m.Type) {
			case "AUDIO":
				fact.AudioRenditions++
			case "SUBTITLES":
				fact.TextRenditions++
			}
		}
	}
	countVariants(fact, pl)
	v.checkGroups(e, pl)
	variants := map[string]manifest.Variant{}
	for _, va := range pl.Variants {
		if !seen[va.URI] {
			seen[va.URI] = true
			variants[va.URI] = va
			uris = append(uris, ref{va.URI, "video", nil})
			fact.VideoRenditions++
		}
	}
	for i, u := range uris {
		if i >= v.limits.MaxPlaylists {
			v.hitLimit(Where{File: e.name}, e.name, fmt.Sprintf("the playlist lists %d media playlists, more than the limit of %d",
				len(uris), v.limits.MaxPlaylists))
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		ml, err := v.fetch.resolve(loc, u.uri)
		if err != nil {
			v.limitOrRefused(Where{File: e.name}, e.name, err)
			continue
		}
		v.referenced[ml] = true
		mb, err := v.fetch.get(ctx, ml, v.limits.MaxManifestBytes)
		if err == nil {
			var mp *manifest.Playlist
			if mp, err = manifest.ReadHLS(bytes.NewReader(mb)); err == nil {
				if m := v.hlsMedia(e, ml, e.name+" "+v.fetch.rel(ml), mp, u.kind); m != nil {
					if u.tag != nil {
						m.lang, m.label, m.forced = u.tag.Language, u.tag.Name, u.tag.Forced
					}
					if va, ok := variants[u.uri]; ok {
						m.bandwidth, m.codecs, m.resolution = va.Bandwidth, va.Codecs, va.Resolution
					}
					e.media = append(e.media, m)
				}
				continue
			}
		}
		if !v.limitOrRefused(Where{File: v.fetch.rel(ml)}, e.name, err) {
			v.rep.failAt(Where{File: v.fetch.rel(ml)}, CatStructure, e.name, "media playlist cannot be read: "+err.Error(),
				"re-package or re-publish the playlist")
		}
	}
	return nil
}

// hlsMedia plans one media playlist; kind is the rendition type the multivariant playlist
// gives it ("audio", "video", "subtitles"; "" for a lone playlist).
func (v *verifier) hlsMedia(e *entry, loc, subject string, pl *manifest.Playlist, kind string) *mediaRef {
	name := v.fetch.rel(loc)
	if !pl.Ended {
		v.rep.Inventory.Manifests[e.fact].Dynamic = true
		v.rep.warnAt(Where{File: name}, CatStructure, subject, "the media playlist has no EXT-X-ENDLIST (live/event)",
			"offline downloads need VOD playlists with EXT-X-ENDLIST")
	}
	if len(pl.Segments) > v.segmentBudget() {
		v.hitLimit(Where{File: name}, subject, fmt.Sprintf("the playlists list more than %d segments", v.limits.MaxSegments))
		return nil
	}
	m := &mediaRef{entry: e, subject: subject, playlist: loc, hlsKeys: pl.Keys, durations: pl.Durations,
		target: pl.TargetDuration, kind: kind, rendition: name}
	if !v.resolveSegments(e, m, loc, pl.Segments) {
		return nil
	}
	v.segments += len(m.segments)
	if pl.MapURI == "" && (kind == "subtitles" || (kind == "" && webVTTSegments(pl.Segments))) {
		m.webvtt, m.kind = true, "subtitles"
		return m
	}
	if pl.MapURI != "" {
		init, err := v.fetch.resolve(loc, pl.MapURI)
		if err != nil {
			v.limitOrRefused(Where{File: name, At: "EXT-X-MAP"}, subject, err)
			return nil
		}
		m.init = init
		v.referenced[init] = true
	} else if len(m.segments) == 1 {
		m.init, m.segments, m.single = m.segments[0], nil, true
	} else {
		v.rep.failAt(Where{File: name}, CatStructure, subject, "no EXT-X-MAP: MPEG-TS or packed-audio segments are not checked",
			"package HLS as fragmented MP4 (CMAF) with EXT-X-MAP")
		v.rep.Inventory.notChecked(name, "segments without EXT-X-MAP (MPEG-TS) are not checked")
		return nil
	}
	return m
}

// planSingle plans an input that is not a folder: an MPD, a playlist, or one MP4 file.
func (v *verifier) planSingle(ctx context.Context, target string) error {
	lower := strings.ToLower(target)
	if i := strings.IndexAny(lower, "?#"); i >= 0 {
		lower = lower[:i]
	}
	switch {
	case strings.HasSuffix(lower, ".mpd"):
		return v.planMPD(ctx, target)
	case strings.HasSuffix(lower, ".m3u8"):
		return v.planHLS(ctx, target, false)
	case strings.HasSuffix(lower, ".ismc") || strings.HasSuffix(lower, "/manifest"):
		return v.planSmooth(ctx, target)
	}
	v.planFile(target)
	return nil
}

// listUnchecked walks the package folder and lists every file that no entry point covered.
func (v *verifier) listUnchecked(root string) {
	const maxFiles = 100_000
	n := 0
	checkedBy := map[string]string{} // init segment → the entry point that checked it
	for _, e := range v.entries {
		for _, m := range e.media {
			if _, ok := checkedBy[m.init]; !ok && m.init != "" {
				checkedBy[m.init] = e.name
			}
		}
	}
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if n++; n > maxFiles {
			v.rep.Inventory.notChecked(v.fetch.rel(root), fmt.Sprintf("more than %d files: the rest was not listed", maxFiles))
			return filepath.SkipAll
		}
		if v.referenced[p] {
			return nil
		}
		name := v.fetch.rel(p)
		base := filepath.Base(p)
		switch {
		case manifest.IsPrivate(base):
			v.rep.Inventory.notChecked(name, "private file (content keys or policy): never published, not media")
		case strings.HasSuffix(base, ".m3u8"):
			v.rep.Inventory.notChecked(name, v.orphanPlaylist(p, checkedBy))
		case strings.HasPrefix(base, "."):
			v.rep.Inventory.notChecked(name, "hidden file")
		default:
			v.rep.Inventory.notChecked(name, "not referenced by any manifest checked")
		}
		return nil
	})
}

// orphanPlaylist says what an HLS playlist no multivariant playlist refers to is (a media or
// an I-frame playlist, its encryption method, its segments) and whether its media was checked
// through another entry point (a cenc rendition through the MPD).
func (v *verifier) orphanPlaylist(p string, checkedBy map[string]string) string {
	const none = "no multivariant playlist refers to it (a player reaches it only by its own URL); not checked as HLS"
	b, err := v.fetch.get(context.Background(), p, v.limits.MaxManifestBytes)
	if err != nil {
		return "HLS playlist: " + none
	}
	pl, err := manifest.ReadHLS(bytes.NewReader(b))
	if err != nil {
		return "not a readable HLS playlist (" + err.Error() + ")"
	}
	kind, unit := "HLS media playlist", "segments"
	if bytes.Contains(b, []byte("#EXT-X-I-FRAMES-ONLY")) {
		kind, unit = "HLS I-frame playlist", "I-frames"
	}
	var methods []string
	for _, k := range pl.Keys {
		if k.Method != "" && !slices.Contains(methods, k.Method) {
			methods = append(methods, k.Method)
		}
	}
	desc := fmt.Sprintf("%s of %d %s", kind, len(pl.Segments), unit)
	if len(methods) > 0 {
		desc += " (METHOD=" + strings.Join(methods, ", ") + ")"
	}
	desc += ": " + none
	if pl.MapURI != "" {
		if init, err := v.fetch.resolve(p, pl.MapURI); err == nil {
			if by, ok := checkedBy[init]; ok {
				desc += fmt.Sprintf("; its media (%s) was checked through %s", v.fetch.rel(init), by)
			}
		}
	}
	return desc
}

func (v *verifier) sessionKeys(e *entry, keys []manifest.KeyTag) {
	where := Where{File: e.name}
	if len(keys) == 0 {
		v.rep.warnAt(where, CatDRM, e.name, "no EXT-X-SESSION-KEY in the multivariant playlist",
			"add EXT-X-SESSION-KEY tags so iOS can preload keys for offline downloads")
	}
	for i, k := range keys {
		at := fmt.Sprintf("EXT-X-SESSION-KEY[%d]", i)
		v.hlsSignal(e, nil, Where{File: e.name, At: at}, SourceHLSSessionKey, k)
	}
}

// checkSessionKeys checks a multivariant playlist's EXT-X-SESSION-KEY tags against its
// renditions: each must name a key a rendition uses, and each rendition's key should have one
// (iOS requests persistable keys for offline downloads from them).
func (v *verifier) checkSessionKeys(e *entry) {
	if e.kind != KindHLSMaster {
		return
	}
	used := map[drm.KID]bool{}
	for _, m := range e.media {
		for _, t := range m.tracks {
			if t.prot != nil {
				used[t.prot.KID] = true
			}
		}
	}
	session := map[drm.System]map[drm.KID]bool{} // per system: the KIDs its session keys name
	for _, s := range v.rep.Inventory.Signals {
		if s.Source != SourceHLSSessionKey || s.File != e.name {
			continue
		}
		if session[s.System] == nil {
			session[s.System] = map[drm.KID]bool{}
		}
		for _, k := range s.KIDs {
			session[s.System][k] = true
			if len(used) > 0 && !used[k] {
				v.rep.failAt(Where{File: s.File, At: s.At}, CatDRM, e.name, fmt.Sprintf("EXT-X-SESSION-KEY names KID %s, which no rendition uses", k),
					"re-package so the session keys list the renditions' keys")
			}
		}
	}
	for _, sys := range drm.AllSystems {
		kids, ok := session[sys]
		if !ok {
			continue
		}
		for _, k := range sortedKIDs(used) {
			if !kids[k] {
				v.rep.warnAt(Where{File: e.name}, CatDRM, e.name, fmt.Sprintf("no %s EXT-X-SESSION-KEY for KID %s, which a rendition uses",
					sys.Title(), k), "add a session key per content key so iOS can persist every key before an offline download")
			}
		}
	}
}

func sortedKIDs(m map[drm.KID]bool) []drm.KID {
	out := make([]drm.KID, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// hlsSignal records an HLS key tag in the inventory (for the rendition of track t; nil for a
// session key) and returns its KIDs when it names any.
func (v *verifier) hlsSignal(e *entry, t *trackInfo, w Where, src SignalSource, k manifest.KeyTag) []drm.KID {
	sig := Signal{Source: src, Entry: e.name, File: w.File, At: w.At, Method: k.Method, KeyFormat: k.KeyFormat, URI: k.URI}
	if t != nil {
		sig.Rendition, sig.Kind = t.ref.rendition, t.kind
	}
	switch k.KeyFormat {
	case drm.KeyFormatFairPlay:
		sig.System, sig.InitData, sig.Size = drm.FairPlay, []byte(k.URI), len(k.URI)
		if kid, err := drm.ParseFairPlaySKD(k.URI); err == nil {
			sig.KIDs = []drm.KID{kid}
		}
	case drm.KeyFormatWidevine, drm.KeyFormatClearKey, drm.KeyFormatPlayReady:
		raw := dataURIBytes(k.URI)
		if info := decodeDataURIPSSH(k.URI); info != nil {
			sig.System, sig.SystemID, sig.PSSHVersion = info.System, info.SystemID, info.Version
			b, _ := drm.DecodePSSHBytes(raw)
			fillSignal(&sig, info, psshSource{box: b, raw: raw})
		} else if h, err := drm.ParsePlayReadyObject(raw); err == nil && k.KeyFormat == drm.KeyFormatPlayReady {
			// Satchel and Apple's examples carry the PlayReady Object itself, not a pssh box.
			sig.System, sig.KIDs, sig.InitData, sig.Size = drm.PlayReady, h.KIDs, raw, len(raw)
			sig.PlayReadyVersion, sig.AlgID, sig.LAURL, sig.HasChecksum = h.Version, h.AlgID, h.LAURL, len(h.Checksums) > 0
		}
	}
	v.rep.Inventory.Signals = append(v.rep.Inventory.Signals, sig)
	fact := &v.rep.Inventory.Manifests[e.fact]
	fact.Systems = appendSystem(fact.Systems, sig.System)
	return sig.KIDs
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
