package verify

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/manifest"
	"satchel/engine/media"
	"satchel/internal/mp4safe"
)

// iframeRef is an HLS I-frame playlist a multivariant playlist lists (EXT-X-I-FRAME-STREAM-INF).
type iframeRef struct {
	tag  manifest.IFrameStream
	at   string // the tag in the multivariant playlist
	loc  string
	name string
	pl   *manifest.IFramePlaylist
	init string // its EXT-X-MAP, resolved
}

// planIFrames reads the I-frame playlists of a multivariant playlist (parsed with hls-m3u8).
func (v *verifier) planIFrames(ctx context.Context, e *entry, loc string, streams []manifest.IFrameStream) error {
	fact := &v.rep.Inventory.Manifests[e.fact]
	for i, s := range streams {
		if err := ctx.Err(); err != nil {
			return err
		}
		w := Where{File: e.name, At: fmt.Sprintf("EXT-X-I-FRAME-STREAM-INF[%d]", i)}
		if s.URI == "" {
			v.rep.failAt(w, CatStructure, e.name, "EXT-X-I-FRAME-STREAM-INF has no URI (it is required)",
				"write the URI of the I-frame playlist, or leave the tag out")
			continue
		}
		il, err := v.fetch.resolve(loc, s.URI)
		if err != nil {
			v.limitOrRefused(w, e.name, err)
			continue
		}
		v.referenced[il] = true
		fact.IFramePlaylists++
		ref := &iframeRef{tag: s, at: w.At, loc: il, name: v.fetch.rel(il)}
		b, err := v.fetch.get(ctx, il, v.limits.MaxManifestBytes)
		if err == nil {
			ref.pl, err = manifest.ReadIFramePlaylist(bytes.NewReader(b))
		}
		if err != nil {
			if !v.limitOrRefused(Where{File: ref.name}, e.name+" "+ref.name, err) {
				v.rep.failAt(Where{File: ref.name}, CatStructure, e.name+" "+ref.name, "the I-frame playlist cannot be read: "+
					err.Error(), "re-package or re-publish the I-frame playlist")
			}
			continue
		}
		if ref.pl.MapURI != "" {
			if ref.init, err = v.fetch.resolve(il, ref.pl.MapURI); err != nil {
				v.limitOrRefused(Where{File: ref.name, At: "EXT-X-MAP"}, e.name+" "+ref.name, err)
				continue
			}
		}
		e.iframes = append(e.iframes, ref)
	}
	return nil
}

// checkIFrames checks each I-frame playlist of a multivariant playlist against the variant
// whose init segment it shares: the playlist's structure, its BANDWIDTH, RESOLUTION and CODECS,
// its keys, and (unless only the signalling is checked) every byte range.
func (v *verifier) checkIFrames(ctx context.Context, e *entry) error {
	for _, ref := range e.iframes {
		subject := e.name + " " + ref.name
		var m *mediaRef
		for _, c := range e.media {
			if c.init == ref.init && !c.webvtt && ref.init != "" {
				m = c
				break
			}
		}
		if !v.iframeStructure(ref, subject, m) {
			continue
		}
		attrs := v.iframeAttributes(e, ref, subject, m)
		keys := v.iframeKeys(ref, subject, m)
		if v.in.SignallingOnly {
			continue
		}
		n, err := v.iframeRanges(ctx, ref, subject, m)
		if err != nil {
			return err
		}
		if n > 0 && attrs && keys {
			variant := "no variant (its EXT-X-MAP is no variant's)"
			if m != nil {
				variant = v.fetch.rel(m.playlist)
			}
			v.rep.passAt(Where{File: ref.name}, CatStructure, subject, "HLS I-frame playlist: %d I-frames, each byte range inside "+
				"its segment, starting at a moof whose first sample is a sync sample and holding it whole; BANDWIDTH, "+
				"RESOLUTION, CODECS and keys agree with %s", n, variant)
		}
	}
	return nil
}

// iframeStructure checks the playlist's own tags; false when nothing more can be checked.
func (v *verifier) iframeStructure(ref *iframeRef, subject string, m *mediaRef) bool {
	w := Where{File: ref.name}
	pl := ref.pl
	if !pl.IFramesOnly {
		v.rep.failAt(w, CatStructure, subject, "the playlist of an EXT-X-I-FRAME-STREAM-INF has no EXT-X-I-FRAMES-ONLY: "+
			"players would play its byte ranges as whole segments", "add EXT-X-I-FRAMES-ONLY to the I-frame playlist")
	}
	if !pl.Ended {
		v.rep.warnAt(w, CatStructure, subject, "the I-frame playlist has no EXT-X-ENDLIST (live/event)",
			"offline downloads need VOD playlists with EXT-X-ENDLIST")
	}
	if len(pl.Entries) == 0 {
		v.rep.failAt(w, CatStructure, subject, "the I-frame playlist lists no I-frames", "re-package with trick play")
		return false
	}
	if pl.MapURI == "" {
		v.rep.failAt(w, CatStructure, subject, "the I-frame playlist has no EXT-X-MAP: fMP4 I-frames cannot be decoded "+
			"without their init segment", "add the rendition's EXT-X-MAP to the I-frame playlist")
		return false
	}
	if m == nil {
		v.rep.warnAt(Where{File: ref.name, At: "EXT-X-MAP"}, CatStructure, subject, fmt.Sprintf("EXT-X-MAP %s is the init "+
			"segment of no variant of the multivariant playlist: the I-frames belong to no rendition players offer",
			v.fetch.rel(ref.init)), "make each I-frame playlist from a variant's segments")
	}
	for i, en := range pl.Entries {
		if pl.TargetDuration > 0 && math.Round(en.Duration) > float64(pl.TargetDuration) {
			v.rep.failAt(Where{File: ref.name, At: fmt.Sprintf("EXTINF[%d]", i)}, CatTiming, subject,
				fmt.Sprintf("I-frame %d lasts %.3f s, more than EXT-X-TARGETDURATION %d s", i+1, en.Duration, pl.TargetDuration),
				"write EXT-X-TARGETDURATION as the longest I-frame duration, rounded")
			break
		}
	}
	return true
}

// iframeAttributes checks BANDWIDTH, AVERAGE-BANDWIDTH, RESOLUTION and CODECS of the tag
// against the I-frames and the variant; true when nothing was found wrong.
func (v *verifier) iframeAttributes(e *entry, ref *iframeRef, subject string, m *mediaRef) bool {
	w := Where{File: e.name, At: ref.at}
	tag, ok := ref.tag, true
	bad := func(fail bool, msg, fix string) {
		ok = false
		if fail {
			v.rep.failAt(w, CatStructure, subject, msg, fix)
		} else {
			v.rep.warnAt(w, CatStructure, subject, msg, fix)
		}
	}
	if tag.Bandwidth <= 0 {
		bad(true, "EXT-X-I-FRAME-STREAM-INF has no BANDWIDTH (it is required): players cannot choose it",
			"write BANDWIDTH as the I-frames' peak bitrate")
	} else if peak, at := iframePeak(ref.pl); peak > 1.1*float64(tag.Bandwidth) {
		bad(false, fmt.Sprintf("BANDWIDTH %d is below the I-frames' peak bitrate of %.0f b/s (I-frame %d): players that "+
			"budget by it stall in trick play", tag.Bandwidth, peak, at+1), "write BANDWIDTH as the largest I-frame's bits per second of its EXTINF")
	}
	if tag.AverageBandwidth > 0 && tag.Bandwidth > 0 && tag.AverageBandwidth > tag.Bandwidth {
		bad(false, fmt.Sprintf("AVERAGE-BANDWIDTH %d is above BANDWIDTH %d", tag.AverageBandwidth, tag.Bandwidth),
			"AVERAGE-BANDWIDTH is the mean, BANDWIDTH the peak")
	}
	if tag.Codecs == "" || tag.Resolution == "" {
		bad(false, "EXT-X-I-FRAME-STREAM-INF lacks CODECS or RESOLUTION: players cannot tell whether they can decode it "+
			"or which variant it belongs to", "write CODECS and RESOLUTION as the variant's video has them")
	}
	if m == nil {
		return ok
	}
	if m.resolution != "" && tag.Resolution != "" && !strings.EqualFold(m.resolution, tag.Resolution) {
		bad(false, fmt.Sprintf("RESOLUTION %s differs from its variant's %s", tag.Resolution, m.resolution),
			"write the variant's RESOLUTION on its I-frame stream")
	}
	if variant := splitCodecs(m.codecs); tag.Codecs != "" && len(variant) > 0 {
		for _, c := range splitCodecs(tag.Codecs) {
			if !slices.Contains(variant, c) {
				bad(false, fmt.Sprintf("CODECS %q is not among its variant's %q", tag.Codecs, m.codecs),
					"write the variant's video codec as the I-frame stream's CODECS")
				break
			}
		}
	}
	for _, t := range m.tracks {
		if c := splitCodecs(tag.Codecs); t.kind == media.Video && len(c) > 0 && !strings.HasPrefix(c[0], t.codec) {
			bad(false, fmt.Sprintf("CODECS %q, but the init segment holds %s video", tag.Codecs, t.codec),
				"write the CODECS of the rendition's video")
		}
	}
	if m.bandwidth > 0 && tag.Bandwidth >= m.bandwidth {
		bad(false, fmt.Sprintf("the I-frame stream's BANDWIDTH %d is not below its variant's %d: I-frames alone are a "+
			"fraction of the rendition", tag.Bandwidth, m.bandwidth), "write BANDWIDTH from the I-frames' own sizes")
	}
	var total, media float64
	for _, en := range ref.pl.Entries {
		total += en.Duration
	}
	longest := 0.0
	for _, d := range m.durations {
		media += d
		longest = math.Max(longest, d)
	}
	if media > 0 && math.Abs(total-media) > math.Max(longest, 0.5) {
		bad(false, fmt.Sprintf("the I-frames span %.3f s, the variant %.3f s", total, media),
			"let each I-frame's EXTINF run until the next I-frame, the last until the end of the rendition")
	}
	return ok
}

// iframePeak is the highest bitrate of one I-frame (its byte range over its EXTINF) and its
// index.
func iframePeak(pl *manifest.IFramePlaylist) (float64, int) {
	peak, at := 0.0, 0
	for i, en := range pl.Entries {
		if en.Duration > 0 && en.Ranged {
			if b := float64(en.Length*8) / en.Duration; b > peak {
				peak, at = b, i
			}
		}
	}
	return peak, at
}

func splitCodecs(s string) []string {
	var out []string
	for _, c := range strings.Split(s, ",") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// iframeKeys checks that the I-frame playlist names every key of its variant's media playlist:
// the I-frames are encrypted as the segments are.
func (v *verifier) iframeKeys(ref *iframeRef, subject string, m *mediaRef) bool {
	if m == nil {
		return true
	}
	ok := true
	for _, k := range m.hlsKeys {
		if strings.EqualFold(k.Method, "NONE") {
			continue
		}
		found := slices.ContainsFunc(ref.pl.Keys, func(x manifest.KeyTag) bool {
			return x.Method == k.Method && x.KeyFormat == k.KeyFormat && x.URI == k.URI
		})
		if !found {
			ok = false
			name := k.KeyFormat
			if name == "" {
				name = "identity"
			}
			v.rep.failAt(Where{File: ref.name}, CatDRM, subject, fmt.Sprintf("the I-frame playlist lacks the EXT-X-KEY "+
				"METHOD=%s KEYFORMAT=%s of its variant's media playlist: players cannot decrypt the I-frames with it",
				k.Method, name), "write the media playlist's EXT-X-KEY tags into the I-frame playlist")
		}
	}
	return ok
}

// iframeRanges reads every byte range and checks it; it returns how many passed (0 when one
// failed, which is reported).
func (v *verifier) iframeRanges(ctx context.Context, ref *iframeRef, subject string, m *mediaRef) (int, error) {
	var trex *mp4.TrexBox
	if m != nil {
		for _, t := range m.tracks {
			if t.kind == media.Video {
				trex = t.trex
			}
		}
	}
	unranged, good := 0, 0
	for i, en := range ref.pl.Entries {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		w := Where{File: ref.name, At: fmt.Sprintf("EXT-X-BYTERANGE[%d] %s", i, en.URI)}
		if !en.Ranged {
			unranged++
			continue
		}
		loc, err := v.fetch.resolve(ref.loc, en.URI)
		if err != nil {
			v.limitOrRefused(w, subject, err)
			return 0, nil
		}
		v.referenced[loc] = true
		data, size, err := v.fetch.getRange(ctx, loc, en.Offset, en.Length)
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return 0, err
			}
			if !v.limitOrRefused(w, subject, err) {
				v.rep.failAt(w, CatStructure, subject, "the I-frame's segment cannot be read: "+err.Error(),
					"re-publish the segment the I-frame playlist points at")
			}
			return 0, nil
		}
		if (size >= 0 && en.Offset+en.Length > size) || int64(len(data)) < en.Length {
			v.rep.failAt(w, CatStructure, subject, fmt.Sprintf("I-frame %d: byte range %d@%d runs past the end of %s (%d bytes)",
				i+1, en.Length, en.Offset, v.fetch.rel(loc), max(size, en.Offset+int64(len(data)))),
				"re-package: the I-frame playlist does not belong to these segments")
			return 0, nil
		}
		if msg := checkIFrameRange(data, en.Offset, trex); msg != "" {
			v.rep.failAt(w, CatStructure, subject, fmt.Sprintf("I-frame %d (%d@%d of %s): %s", i+1, en.Length, en.Offset,
				v.fetch.rel(loc), msg), "re-package: each I-frame range must start at the fragment's moof and hold its first sample, a sync sample")
			return 0, nil
		}
		good++
	}
	if unranged > 0 {
		v.rep.warnAt(Where{File: ref.name}, CatStructure, subject, fmt.Sprintf("%d I-frames have no EXT-X-BYTERANGE: players "+
			"fetch whole segments for one frame each", unranged), "give each I-frame the byte range of its moof, mdat header and sample")
	}
	return good, nil
}

// checkIFrameRange checks the bytes of one I-frame range (off is its offset in the segment
// file): it starts at a box boundary (boxes before the moof are skipped: styp, sidx, prft,
// emsg), the moof is inside it, the first sample of its first traf is a sync sample and lies
// whole inside the range, after the moof. "" when it holds.
func checkIFrameRange(data []byte, off int64, trex *mp4.TrexBox) string {
	pos := 0
	var size int
	for {
		if len(data)-pos < 8 {
			return "the range ends before a moof"
		}
		sz, hdr := uint64(binary.BigEndian.Uint32(data[pos:])), 8
		typ := string(data[pos+4 : pos+8])
		if sz == 1 && len(data)-pos >= 16 {
			sz, hdr = binary.BigEndian.Uint64(data[pos+8:]), 16
		}
		if !printableType(typ) || sz < uint64(hdr) {
			return fmt.Sprintf("the range does not start at a box boundary (bytes %x at byte %d of the range)",
				data[pos:pos+8], pos)
		}
		if typ == "moof" {
			if sz > uint64(len(data)-pos) {
				return "the range ends inside the moof"
			}
			size = int(sz)
			break
		}
		switch typ {
		case "styp", "sidx", "ssix", "prft", "emsg", "free", "skip":
			if sz > uint64(len(data)-pos) {
				return fmt.Sprintf("the range ends inside a %s box before the moof", typ)
			}
			pos += int(sz)
			continue
		}
		return fmt.Sprintf("the range starts at a %q box, not at a moof", typ)
	}
	box, err := mp4safe.DecodeBox(data[pos : pos+size])
	moof, ok := box.(*mp4.MoofBox)
	if err != nil || !ok || moof.Traf == nil || moof.Traf.Trun == nil || moof.Traf.Tfhd == nil {
		return "the moof does not parse or has no traf with tfhd and trun"
	}
	traf := moof.Traf
	if traf.Trun.SampleCount() == 0 {
		return "the fragment has no samples"
	}
	if err := mp4safe.Do(func() error { traf.Trun.AddSampleDefaultValues(traf.Tfhd, trex); return nil }); err != nil ||
		len(traf.Trun.Samples) == 0 {
		return "the trun does not describe its samples"
	}
	first := traf.Trun.Samples[0]
	if !isSync(first.Flags) {
		return fmt.Sprintf("the fragment's first sample is not a sync sample (flags %08x): it is not an I-frame", first.Flags)
	}
	moofEnd := int64(pos + size)
	start := moofEnd + 8 // no data offset: the mdat payload after the moof
	if traf.Trun.HasDataOffset() {
		base := int64(pos)
		if traf.Tfhd.HasBaseDataOffset() {
			base = int64(traf.Tfhd.BaseDataOffset) - off
		}
		start = base + int64(traf.Trun.DataOffset)
	}
	end := start + int64(first.Size)
	switch {
	case start < moofEnd:
		return "the trun data offset points inside the moof"
	case moofEnd+8 <= int64(len(data)) && string(data[moofEnd+4:moofEnd+8]) != "mdat":
		return fmt.Sprintf("a %q box follows the moof, not its mdat", data[moofEnd+4:moofEnd+8])
	case end > int64(len(data)):
		return fmt.Sprintf("the range ends %d bytes before the end of the I-frame (a %d-byte sample at byte %d of the range)",
			end-int64(len(data)), first.Size, start)
	}
	return ""
}

func printableType(t string) bool {
	for i := 0; i < len(t); i++ {
		if t[i] < 0x20 || t[i] > 0x7e {
			return false
		}
	}
	return true
}
