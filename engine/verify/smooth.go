package verify

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"satchel/engine/cenc"
	"satchel/engine/drm"
	"satchel/engine/manifest"
	"satchel/internal/mp4safe"
)

// Smooth Streaming client manifests ([MS-SSTR]): parsed, their fragments located, their codec
// and key signalling compared with the init segments an MPD or HLS playlist gives the same
// fragments. The media itself is decrypted and decoded through those manifests.

// KindSmooth is a Smooth Streaming client manifest (.ismc).
const KindSmooth ManifestKind = "smooth"

// SourceSmoothHeader is a Smooth manifest's Protection/ProtectionHeader.
const SourceSmoothHeader SignalSource = "smooth-protection-header"

// smoothManifests lists the .ismc files at the top of a package folder and one folder down
// (Satchel writes manifest.FileSmooth beside the cenc fragments).
func smoothManifests(dir string) []string {
	var out []string
	for _, pattern := range []string{"*.ismc", filepath.Join("*", "*.ismc")} {
		m, _ := filepath.Glob(filepath.Join(dir, pattern))
		out = append(out, m...)
	}
	return out
}

// planSmooth checks a Smooth client manifest after the MPDs and playlists are planned.
func (v *verifier) planSmooth(ctx context.Context, loc string) error {
	b, err := v.fetch.get(ctx, loc, v.limits.MaxManifestBytes)
	if err != nil {
		return err
	}
	info, err := manifest.ReadSmooth(bytes.NewReader(b), v.limits.MaxSegments)
	if err != nil {
		return fmt.Errorf("verify %s: %w", displayName(loc), err)
	}
	e := v.newEntry(loc, KindSmooth)
	where := Where{File: e.name, At: "SmoothStreamingMedia"}
	if info.MajorVersion != "2" || (info.MinorVersion != "0" && info.MinorVersion != "2") {
		v.rep.failAt(where, CatStructure, e.name, fmt.Sprintf("MajorVersion %q, MinorVersion %q: [MS-SSTR] requires 2 and 0 or 2",
			info.MajorVersion, info.MinorVersion), "write MajorVersion=\"2\" MinorVersion=\"2\"")
	}
	fact := &v.rep.Inventory.Manifests[e.fact]
	if info.Live {
		fact.Dynamic = true
		v.rep.warnAt(where, CatStructure, e.name, "a live Smooth presentation cannot be downloaded for offline playback",
			"publish an on-demand (IsLive absent or FALSE) manifest")
	}
	v.rep.passAt(where, CatStructure, e.name, "Smooth manifest parses: %d streams, %.3fs", len(info.Streams),
		float64(info.Duration)/float64(info.TimeScale))
	kids := v.smoothProtection(e, info)
	for i := range info.Streams {
		if err := ctx.Err(); err != nil {
			return err
		}
		v.smoothStream(ctx, e, loc, &info.Streams[i], kids)
	}
	return nil
}

// smoothProtection records the ProtectionHeaders and returns the KIDs of the PlayReady one.
func (v *verifier) smoothProtection(e *entry, info *manifest.SmoothInfo) []drm.KID {
	fact := &v.rep.Inventory.Manifests[e.fact]
	var kids []drm.KID
	for i, p := range info.Protection {
		w := Where{File: e.name, At: fmt.Sprintf("Protection/ProtectionHeader[%d]", i+1)}
		id := strings.ToLower(strings.Trim(p.SystemID, "{}"))
		sig := Signal{Source: SourceSmoothHeader, Entry: e.name, File: e.name, At: w.At, SystemID: id,
			InitData: p.Data, Size: len(p.Data)}
		if id != drm.PlayReadySystemID {
			v.rep.Inventory.Signals = append(v.rep.Inventory.Signals, sig)
			continue
		}
		sig.System = drm.PlayReady
		h, err := drm.ParsePlayReadyObject(p.Data)
		if err != nil {
			v.rep.failAt(w, CatDRM, e.name, "the PlayReady ProtectionHeader does not parse: "+err.Error(),
				"write the base64 PlayReady Object (the same bytes as mspr:pro)")
			continue
		}
		sig.KIDs, sig.PlayReadyVersion, sig.AlgID, sig.LAURL = h.KIDs, h.Version, h.AlgID, h.LAURL
		sig.HasChecksum = len(h.Checksums) > 0
		v.rep.Inventory.Signals = append(v.rep.Inventory.Signals, sig)
		fact.Systems = appendSystem(fact.Systems, drm.PlayReady)
		kids = append(kids, h.KIDs...)
		v.rep.passAt(w, CatDRM, e.name, "PlayReady header %s names %d key(s)", h.Version, len(h.KIDs))
		if len(h.KIDs) != 1 {
			v.rep.warnAt(w, CatDRM, e.name, fmt.Sprintf("the PlayReady header names %d keys; Smooth clients apply one "+
				"key (the header's KID) to every track", len(h.KIDs)), "protect every track with one key")
		}
	}
	if len(kids) > 0 {
		fact.Schemes = appendScheme(fact.Schemes, drm.SchemeCENC)
	}
	return kids
}

// smoothStream checks one StreamIndex: every fragment of every QualityLevel exists, the
// first fragment's times, and the codec and key against the init segment of the same media.
func (v *verifier) smoothStream(ctx context.Context, e *entry, loc string, s *manifest.SmoothStream, kids []drm.KID) {
	fact := &v.rep.Inventory.Manifests[e.fact]
	subject := e.name + " " + s.Type + " " + s.Name
	w := Where{File: e.name, At: "StreamIndex[@Name='" + s.Name + "']"}
	switch s.Type {
	case "video":
		fact.VideoRenditions += len(s.Qualities)
	case "audio":
		fact.AudioRenditions += len(s.Qualities)
		fact.AudioTracks++
	case "text":
		fact.TextRenditions += len(s.Qualities)
	}
	if s.Chunks >= 0 && s.Chunks != len(s.Fragments) {
		v.rep.warnAt(w, CatStructure, subject, fmt.Sprintf("Chunks says %d fragments, the c elements list %d", s.Chunks,
			len(s.Fragments)), "make Chunks the number of fragments")
	}
	for _, q := range s.Qualities {
		if len(s.Fragments) == 0 {
			break
		}
		var missing []string
		var first string
		for i, f := range s.Fragments {
			frag, err := v.fetch.resolve(loc, s.FragmentURL(q, f.Start))
			if err != nil {
				v.limitOrRefused(w, subject, err)
				return
			}
			v.referenced[frag] = true
			if i == 0 {
				first = frag
			}
			if !isURL(frag) && !fileExists(frag) {
				missing = append(missing, v.fetch.rel(frag))
			}
		}
		qs := fmt.Sprintf("%s QualityLevels(%d)", subject, q.Bitrate)
		if len(missing) > 0 {
			v.rep.failAt(w, CatStructure, qs, fmt.Sprintf("%d of %d fragments are missing, the first %s", len(missing),
				len(s.Fragments), missing[0]), "re-package; publish every fragment beside the manifest")
			continue
		}
		if !isURL(first) {
			v.rep.passAt(w, CatStructure, qs, "all %d fragments are present", len(s.Fragments))
		}
		v.smoothFirstFragment(ctx, w, qs, first, s.Fragments[0].Start, len(kids) > 0)
		v.smoothAgainstInit(ctx, w, qs, first, q, kids)
	}
}

// smoothFirstFragment checks the first fragment of a QualityLevel: its tfdt says the manifest's
// start time, and a protected fragment carries the PIFF sample encryption box that PIFF 1.1
// Smooth clients read.
func (v *verifier) smoothFirstFragment(ctx context.Context, w Where, subject, loc string, start uint64, protected bool) {
	b, err := v.fetch.get(ctx, loc, v.limits.MaxResponseBytes)
	if err != nil {
		v.limitOrRefused(w, subject, err)
		return
	}
	mf, err := mp4safe.DecodeBytes(ctx, b)
	if err != nil || len(mf.Segments) == 0 || len(mf.Segments[0].Fragments) == 0 {
		v.rep.failAt(Where{File: v.fetch.rel(loc)}, CatStructure, subject, fmt.Sprintf("the first fragment does not parse (%v)", err),
			"re-package the fragment")
		return
	}
	traf := mf.Segments[0].Fragments[0].Moof.Traf
	if traf == nil || traf.Tfdt != nil && traf.Tfdt.BaseMediaDecodeTime() != start {
		v.rep.failAt(Where{File: v.fetch.rel(loc), At: "tfdt"}, CatTiming, subject,
			"the first fragment's decode time is not the manifest's start time", "re-package so c@t matches tfdt")
		return
	}
	if protected && traf.Senc != nil && traf.UUIDSenc == nil {
		v.rep.warnAt(Where{File: v.fetch.rel(loc), At: "traf"}, CatEncryption, subject, "the fragments carry senc but no PIFF "+
			"sample encryption box (uuid a2394f52…): PIFF 1.1 Smooth clients (older PlayReady) find no IVs",
			"add the PIFF 1.1 boxes (satchel package --smooth does)")
	}
}

// smoothAgainstInit compares a QualityLevel's CodecPrivateData and the ProtectionHeader's KID
// with the init segment an MPD or HLS playlist pairs with the same first fragment.
func (v *verifier) smoothAgainstInit(ctx context.Context, w Where, subject, first string, q manifest.SmoothQuality,
	kids []drm.KID) {
	init := v.initOfSegment(first)
	if init == "" {
		v.rep.Inventory.notChecked(subject, "no MPD or HLS playlist gives these fragments an init segment: "+
			"CodecPrivateData and the key ID were not compared with one")
		return
	}
	b, err := v.fetch.get(ctx, init, v.limits.MaxResponseBytes)
	if err != nil {
		v.limitOrRefused(w, subject, err)
		return
	}
	mf, err := mp4safe.DecodeBytes(ctx, b)
	if err != nil || mf.Init == nil || len(mf.Init.Moov.Traks) == 0 {
		return // the init's own checks report it
	}
	entry := mf.Init.Moov.Traks[0].Mdia.Minf.Stbl.Stsd.Children[0]
	if st, err := manifest.SmoothCodec(entry); err != nil || !strings.EqualFold(st.CodecPrivateData, hex.EncodeToString(q.CodecPrivateData)) {
		v.rep.failAt(w, CatStructure, subject, fmt.Sprintf("CodecPrivateData %X differs from %s's decoder configuration (%s)",
			q.CodecPrivateData, v.fetch.rel(init), st.CodecPrivateData), "re-package: a Smooth client decodes with the manifest's")
	} else {
		v.rep.passAt(w, CatStructure, subject, "CodecPrivateData matches %s", v.fetch.rel(init))
	}
	sinf := cenc.SampleEntrySinf(entry)
	if sinf == nil || sinf.Schi == nil || sinf.Schi.Tenc == nil {
		if len(kids) > 0 {
			v.rep.failAt(w, CatDRM, subject, "the manifest has a ProtectionHeader but the track is not encrypted",
				"re-package")
		}
		return
	}
	kid := drm.KID(sinf.Schi.Tenc.DefaultKID)
	if !slices.Contains(kids, kid) {
		v.rep.failAt(w, CatDRM, subject, fmt.Sprintf("the track's key %s is not the ProtectionHeader's", kid),
			"protect every track with the key the PlayReady header names")
		return
	}
	v.rep.passAt(w, CatDRM, subject, "the ProtectionHeader names the track's key %s", kid)
}

// initOfSegment returns the init segment of the planned media that lists segment loc.
func (v *verifier) initOfSegment(loc string) string {
	for _, e := range v.entries {
		for _, m := range e.media {
			if m.single || m.init == "" {
				continue
			}
			if slices.Contains(m.segments, loc) {
				return m.init
			}
		}
	}
	return ""
}
