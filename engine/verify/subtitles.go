package verify

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"satchel/engine/media"
	"satchel/engine/subtitle"
)

// Subtitle timing tolerances, in seconds. Cues are written with millisecond precision and
// segments are cut at video sync samples; half a second is far below any real mistake (a cue
// in the wrong segment is off by a segment, a missing X-TIMESTAMP-MAP by the media's start).
const (
	cueTolerance = 0.5
	mapTolerance = 0.25
	maxCuesKept  = 100_000 // cues kept per track for merging; beyond that they are only counted
)

// webVTTSegments reports whether a media playlist without EXT-X-MAP lists WebVTT files.
func webVTTSegments(segs []string) bool {
	if len(segs) == 0 {
		return false
	}
	for _, s := range segs {
		p := strings.ToLower(s)
		if i := strings.IndexAny(p, "?#"); i >= 0 {
			p = p[:i]
		}
		if !strings.HasSuffix(p, ".vtt") && !strings.HasSuffix(p, ".webvtt") {
			return false
		}
	}
	return true
}

// signalText reports a text track's protection: subtitles must be clear.
func (v *verifier) signalText(t *trackInfo, w Where) {
	if t.encryptedText() {
		v.rep.failAt(w, CatSubtitles, t.subject, fmt.Sprintf("the subtitle track (%s) is encrypted: players "+
			"render subtitles only from clear text tracks, so it will not show", t.codec),
			"package subtitles in the clear (Satchel never encrypts text tracks)")
		return
	}
	v.rep.passAt(w, CatSubtitles, t.subject, "subtitle track in the clear (%s)", t.codec)
}

// textFact records a text track as a subtitle rendition of its entry.
func (v *verifier) textFact(t *trackInfo, mdhdLang string) {
	m := t.ref
	f := SubtitleFact{Entry: m.entry.name, File: t.file, Format: t.codec, Language: m.lang, Name: m.label,
		Forced: m.forced, Encrypted: t.encryptedText()}
	if f.Language == "" {
		f.Language, _ = media.ParseLanguage(mdhdLang)
	}
	t.sub = len(v.rep.Inventory.Subtitles)
	v.rep.Inventory.Subtitles = append(v.rep.Inventory.Subtitles, f)
}

// textSample parses one subtitle sample (wvtt or tx3g) that starts at start and lasts dur
// (track timescale). Other text formats are counted, not parsed.
func (v *verifier) textSample(r *trackRun, data []byte, start uint64, dur uint32, w Where) {
	r.samples++
	t := r.t
	if t.encryptedText() || r.textErr != nil || t.timescale == 0 {
		return
	}
	from := ticks(start, t.timescale)
	to := ticks(start+uint64(dur), t.timescale)
	var cues []subtitle.Cue
	switch t.codec {
	case "wvtt":
		var err error
		if cues, err = subtitle.WvttCues(data, from, to); err != nil {
			r.textErr = &finding{w, fmt.Sprintf("sample %d (at %s): %v", r.samples, from, err)}
			return
		}
	case "tx3g":
		text, err := subtitle.Tx3gText(data)
		if err != nil {
			r.textErr = &finding{w, fmt.Sprintf("sample %d (at %s): %v", r.samples, from, err)}
			return
		}
		if text != "" {
			cues = []subtitle.Cue{{Start: from, End: to, Text: text}}
		}
	default:
		return
	}
	r.textParsed = true
	for _, c := range cues {
		if len(r.cues) < maxCuesKept {
			r.cues = append(r.cues, c)
		} else {
			r.extraCues++
		}
	}
}

func ticks(t uint64, timescale uint32) time.Duration {
	return time.Duration(float64(t) / float64(timescale) * float64(time.Second))
}

// finishText reports what the samples of a text track gave.
func (v *verifier) finishText(r *trackRun) {
	t := r.t
	if t.encryptedText() {
		return // reported by signalText
	}
	cues := len(subtitle.Merge(r.cues)) + r.extraCues
	if t.sub >= 0 {
		f := &v.rep.Inventory.Subtitles[t.sub]
		f.Cues, f.Segments = cues, r.fragments
	}
	w := Where{File: t.file}
	switch {
	case r.textErr != nil:
		v.rep.failAt(r.textErr.where, CatSubtitles, t.subject, "a subtitle sample does not parse: "+r.textErr.msg,
			"re-package the subtitles from a valid SRT or WebVTT file")
	case !r.textParsed && t.codec != "wvtt" && t.codec != "tx3g":
		v.rep.Inventory.notChecked(t.file, t.codec+" subtitle samples are not parsed (only wvtt and tx3g are)")
	default:
		v.rep.passAt(w, CatSubtitles, t.subject, "%d %s samples parse: %d cues", r.samples, t.codec, cues)
	}
}

// shareSubtitleFacts copies what a text track's first reading found to the entries that
// share its media (the text renditions both MPDs of a package refer to).
func (v *verifier) shareSubtitleFacts() {
	for _, e := range v.entries {
		for _, m := range e.media {
			for _, t := range m.tracks {
				if t.orig == nil || t.sub < 0 || t.orig.sub < 0 {
					continue
				}
				o := v.rep.Inventory.Subtitles[t.orig.sub]
				f := &v.rep.Inventory.Subtitles[t.sub]
				f.Cues, f.Segments = o.Cues, o.Segments
			}
		}
	}
}

// timestampMap is a WebVTT X-TIMESTAMP-MAP header: cue time Local is media time MPEGTS/90000.
type timestampMap struct {
	mpegts uint64
	local  time.Duration
}

// offset is the media time of cue time 0, in seconds.
func (m timestampMap) offset() float64 { return float64(m.mpegts)/90000 - m.local.Seconds() }

var (
	tsMapLine  = regexp.MustCompile(`^X-TIMESTAMP-MAP=(.*)$`)
	tsMapLocal = regexp.MustCompile(`^(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})$`)
)

// parseTimestampMap reads the X-TIMESTAMP-MAP of a WebVTT segment's header; false when the
// header has none.
func parseTimestampMap(b []byte) (timestampMap, bool, error) {
	var tm timestampMap
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) == "" {
			return tm, false, nil // the header ends at the first blank line
		}
		mm := tsMapLine.FindStringSubmatch(strings.TrimSpace(l))
		if mm == nil {
			continue
		}
		var haveTS, haveLocal bool
		for _, part := range strings.Split(mm[1], ",") {
			k, val, _ := strings.Cut(strings.TrimSpace(part), ":")
			switch strings.ToUpper(k) {
			case "MPEGTS":
				n, err := strconv.ParseUint(val, 10, 64)
				if err != nil {
					return tm, true, fmt.Errorf("MPEGTS %q is not a 90 kHz timestamp", val)
				}
				tm.mpegts, haveTS = n, true
			case "LOCAL":
				p := tsMapLocal.FindStringSubmatch(val)
				if p == nil {
					return tm, true, fmt.Errorf("LOCAL %q is not a WebVTT time (hh:mm:ss.ttt)", val)
				}
				h, _ := strconv.Atoi(p[1])
				mi, _ := strconv.Atoi(p[2])
				s, _ := strconv.Atoi(p[3])
				ms, _ := strconv.Atoi(p[4])
				tm.local = time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(s)*time.Second +
					time.Duration(ms)*time.Millisecond
				haveLocal = true
			}
		}
		if !haveTS || !haveLocal {
			return tm, true, errors.New("X-TIMESTAMP-MAP needs both MPEGTS and LOCAL")
		}
		return tm, true, nil
	}
	return tm, false, nil
}

// webvttRun is the state of one WebVTT playlist check.
type webvttRun struct {
	m          *mediaRef
	name       string
	mediaStart float64
	cues       map[string]bool // distinct cues (a cue spanning segments is in each)
	failed     bool            // a timing or mapping failure was reported (one per playlist)
}

// checkWebVTT checks an HLS subtitle playlist of WebVTT segments: no encryption, every segment
// parses, X-TIMESTAMP-MAP maps cue time to the media's start where that is needed, and every
// cue lies inside (overlaps) its segment. Segment durations against EXT-X-TARGETDURATION are
// checked with the manifest timing.
func (v *verifier) checkWebVTT(ctx context.Context, e *entry, m *mediaRef) error {
	w := &webvttRun{m: m, name: v.fetch.rel(m.playlist), mediaStart: v.videoStart(e), cues: map[string]bool{}}
	fact := SubtitleFact{Entry: e.name, File: w.name, Format: "webvtt", Language: m.lang, Name: m.label, Forced: m.forced}
	defer func() { v.rep.Inventory.Subtitles = append(v.rep.Inventory.Subtitles, fact) }()
	for i, k := range m.hlsKeys {
		if !strings.EqualFold(k.Method, "NONE") {
			fact.Encrypted = true
			v.rep.failAt(Where{File: w.name, At: fmt.Sprintf("EXT-X-KEY[%d]", i)}, CatSubtitles, m.subject,
				"the subtitle playlist is encrypted (METHOD="+k.Method+"): players expect clear WebVTT and will not show it",
				"package subtitles in the clear")
			return nil
		}
	}
	if len(m.segments) == 0 {
		v.rep.failAt(Where{File: w.name}, CatSubtitles, m.subject, "the subtitle playlist lists no segments",
			"re-package the subtitles")
		return nil
	}
	var at float64
	for i, loc := range m.segments {
		if err := ctx.Err(); err != nil {
			return err
		}
		if i == 0 {
			v.checkHTTP(ctx, loc, "text/vtt")
		}
		dur := 0.0
		if i < len(m.durations) {
			dur = m.durations[i]
		}
		ok, err := v.webVTTSegment(ctx, w, i, loc, at, at+dur)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		fact.Segments++
		at += dur
	}
	fact.Cues = len(w.cues)
	if !w.failed {
		v.rep.passAt(Where{File: w.name}, CatSubtitles, m.subject,
			"%d WebVTT segments parse: %d cues, each inside its segment, timed against the media start (%.3f s)",
			len(m.segments), fact.Cues, w.mediaStart)
	}
	return nil
}

// webVTTSegment checks segment i, which covers [from, to) of the playlist's time. false stops
// the playlist's check (the segment could not be read or parsed; reported).
func (v *verifier) webVTTSegment(ctx context.Context, w *webvttRun, i int, loc string, from, to float64) (bool, error) {
	name := v.fetch.rel(loc)
	b, err := v.fetch.get(ctx, loc, v.limits.MaxResponseBytes)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return false, err
		}
		v.segmentError(w.m, name, i, len(w.m.segments), err)
		return false, nil
	}
	v.rep.Bytes += int64(len(b))
	cues, err := subtitle.ParseWebVTT(b)
	if err != nil {
		v.rep.failAt(Where{File: name}, CatSubtitles, w.m.subject, "WebVTT segment does not parse: "+err.Error(),
			"re-package the subtitles from a valid SRT or WebVTT file")
		return false, nil
	}
	for _, c := range cues {
		if len(w.cues) < maxCuesKept {
			w.cues[fmt.Sprint(c.Start, c.End, c.Text)] = true
		}
	}
	tm, has, err := parseTimestampMap(b)
	if err != nil {
		v.rep.failAt(Where{File: name, At: "X-TIMESTAMP-MAP"}, CatSubtitles, w.m.subject,
			"malformed X-TIMESTAMP-MAP: "+err.Error(),
			"write X-TIMESTAMP-MAP=MPEGTS:<90 kHz media time>,LOCAL:<cue time>")
		return false, nil
	}
	offset := 0.0 // media time of cue time 0 (RFC 8216 3.5: 0 without the header)
	if has {
		offset = tm.offset()
	}
	if !w.failed && math.Abs(offset-w.mediaStart) > mapTolerance {
		w.failed = true
		msg := fmt.Sprintf("no X-TIMESTAMP-MAP, so cue time 0 is media time 0, but the media starts at %.3f s: "+
			"every cue shows %.3f s early", w.mediaStart, w.mediaStart)
		if has {
			msg = fmt.Sprintf("X-TIMESTAMP-MAP maps cue time 0 to media time %.3f s, but the media starts at %.3f s: "+
				"every cue is %+.3f s off", offset, w.mediaStart, offset-w.mediaStart)
		}
		v.rep.failAt(Where{File: name, At: "X-TIMESTAMP-MAP"}, CatSubtitles, w.m.subject, msg,
			"write X-TIMESTAMP-MAP=MPEGTS:<media start × 90000>,LOCAL:00:00:00.000 into every segment")
	}
	for _, c := range cues {
		cs, ce := c.Start.Seconds()+offset-w.mediaStart, c.End.Seconds()+offset-w.mediaStart
		if w.failed || (ce > from-cueTolerance && cs < to+cueTolerance) {
			continue
		}
		w.failed = true
		v.rep.failAt(Where{File: name}, CatSubtitles, w.m.subject, fmt.Sprintf("cue %s --> %s lies outside its segment "+
			"(%.3f–%.3f s of the playlist): players look for it in another segment and miss it",
			fmtCue(c.Start), fmtCue(c.End), from, to), "re-package so each segment holds the cues shown during it")
	}
	return true, nil
}

func fmtCue(d time.Duration) string {
	ms := d.Milliseconds()
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}

// videoStart is the presentation start (seconds) of an entry's video, from the tracks
// decrypted so far (0 when none is known).
func (v *verifier) videoStart(e *entry) float64 {
	start := math.Inf(1)
	for _, m := range e.media {
		for _, t := range m.tracks {
			o := t.origin()
			if t.kind == media.Video && o.samples > 0 {
				start = math.Min(start, v.rep.Inventory.Tracks[o.fact].Start)
			}
		}
	}
	if math.IsInf(start, 1) {
		return 0
	}
	return start
}

// textRendition is one subtitle rendition of an entry as its manifest names it.
type textRendition struct {
	m            *mediaRef
	lang, name   string
	forced, seen bool
}

// textRenditions lists the subtitle renditions of a DASH or HLS entry, by normalized language
// (and "forced" for forced subtitles).
func textRenditions(e *entry) map[string]*textRendition {
	out := map[string]*textRendition{}
	for _, m := range e.media {
		if m.kind != "text" && m.kind != "subtitles" {
			continue
		}
		lang := normLang(m.lang)
		key := lang
		if m.forced {
			key += " (forced)"
		}
		if _, dup := out[key]; !dup {
			out[key] = &textRendition{m: m, lang: lang, name: m.label, forced: m.forced}
		}
	}
	return out
}

func normLang(s string) string {
	if l, err := media.ParseLanguage(s); err == nil {
		return l
	}
	return strings.ToLower(strings.TrimSpace(s))
}

// checkTextRenditions checks that subtitles are described alike: a DASH text track's mdhd
// language matches its AdaptationSet's lang, and every multivariant playlist offers the same
// subtitle languages, names and forced flags as every MPD.
func (v *verifier) checkTextRenditions() {
	var hls, dash []*entry
	for _, e := range v.entries {
		switch e.kind {
		case KindDASH:
			v.checkTrackLanguages(e)
			dash = append(dash, e)
		case KindHLSMaster:
			hls = append(hls, e)
		}
	}
	for _, h := range hls {
		ht := textRenditions(h)
		for _, d := range dash {
			if dt := textRenditions(d); len(ht) > 0 || len(dt) > 0 {
				v.compareTextRenditions(h, d, ht, dt)
			}
		}
	}
}

func (v *verifier) checkTrackLanguages(e *entry) {
	for _, m := range e.media {
		if m.kind != "text" || m.lang == "" {
			continue
		}
		for _, t := range m.tracks {
			tl := normLang(v.rep.Inventory.Tracks[t.fact].Language)
			if t.kind != media.Text || tl == "" || tl == normLang(m.lang) {
				continue
			}
			v.rep.failAt(Where{File: e.name, At: m.element}, CatSubtitles, m.subject,
				fmt.Sprintf("the MPD says lang=%q but the %s track's mdhd says %q", m.lang, t.codec,
					v.rep.Inventory.Tracks[t.fact].Language),
				"re-package so the manifest and the track name the same language")
		}
	}
}

// compareTextRenditions compares the subtitle renditions of a multivariant playlist and an MPD.
func (v *verifier) compareTextRenditions(h, d *entry, ht, dt map[string]*textRendition) {
	subject := h.name + " / " + d.name
	agree := true
	for _, key := range sortedKeys(ht) {
		hr := ht[key]
		dr, ok := dt[key]
		if !ok {
			agree = false
			v.rep.warnAt(Where{File: h.name}, CatSubtitles, subject, fmt.Sprintf("subtitles %q (%s) are in %s but not in %s",
				hr.name, key, h.name, d.name), "offer the same subtitles in every manifest so every player shows them")
			continue
		}
		dr.seen = true
		if hr.name != "" && dr.name != "" && hr.name != dr.name {
			agree = false
			v.rep.warnAt(Where{File: d.name, At: dr.m.element + "/Label"}, CatSubtitles, subject,
				fmt.Sprintf("the %s subtitles are named %q in %s but %q in %s", key, hr.name, h.name, dr.name, d.name),
				"use one name per subtitle track in every manifest")
		}
	}
	for _, key := range sortedKeys(dt) {
		if dr := dt[key]; !dr.seen {
			agree = false
			v.rep.warnAt(Where{File: d.name, At: dr.m.element}, CatSubtitles, subject,
				fmt.Sprintf("subtitles %q (%s) are in %s but not in %s", dr.name, key, d.name, h.name),
				"offer the same subtitles in every manifest so every player shows them")
		}
	}
	if agree && len(ht) > 0 {
		langs := sortedKeys(ht)
		v.rep.passAt(Where{File: h.name}, CatSubtitles, subject, "the same subtitles in both (languages, names, forced): %s",
			strings.Join(langs, ", "))
	}
}

func sortedKeys(m map[string]*textRendition) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
