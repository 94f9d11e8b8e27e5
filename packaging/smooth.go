package packaging

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/cenc"
	"satchel/engine/drm"
	"satchel/engine/manifest"
	"satchel/engine/media"
	"satchel/internal/field"
)

// Smooth Streaming output (Config.Smooth): the cenc renditions' segments are written once, at
// the Smooth fragment names beside manifest.FileSmooth, and the MPD, the HLS playlists and the
// Smooth client manifest all point to those files. The segments carry the PIFF 1.1 sample
// encryption box beside senc and an MS-SSTR tfxd box; the cenc init segments carry the PIFF
// track encryption and pssh boxes.

// smoothStream is the Smooth StreamIndex name of a track: "video", or an audio track's ID.
func smoothStream(t *track) string {
	if t.kind == media.Video {
		return "video"
	}
	return t.id
}

// checkSmoothTracks reads the Smooth codec description of every audio and video track: Smooth
// clients build their decoder configuration from the manifest, which knows H.264 and AAC.
func checkSmoothTracks(tracks []*track) error {
	for _, t := range tracks {
		if t.kind == media.Text {
			continue
		}
		entry := t.src.file.Trak(t.info.ID).Mdia.Minf.Stbl.Stsd.Children[0]
		st, err := manifest.SmoothCodec(entry)
		if err != nil {
			return &UnsupportedTrackError{Path: t.src.path, TrackID: t.info.ID, Kind: t.kind,
				Reason: fmt.Sprintf("cannot be described in a Smooth Streaming manifest (%v); leave Smooth out", err)}
		}
		st.Stream = smoothStream(t)
		t.smooth = &st
	}
	return nil
}

// smoothKeys returns the explicit keys with one random key for every track (drm.TrackAll)
// added when none is given: a Smooth client applies the one key of its ProtectionHeader to
// every track.
func smoothKeys(keys []drm.ContentKey) ([]drm.ContentKey, error) {
	if len(keys) > 0 {
		return keys, nil
	}
	k, err := drm.RandomContentKey(drm.TrackAll)
	if err != nil {
		return nil, err
	}
	return []drm.ContentKey{k}, nil
}

// checkOneKey checks that every encrypted track uses one key.
func checkOneKey(tracks []*track) error {
	var first *track
	for _, t := range tracks {
		if t.kind == media.Text {
			continue
		}
		if first != nil && t.key.KID != first.key.KID {
			return field.Errorf("keys", nil, "Smooth Streaming applies one key to every track, but %s uses key %s "+
				"(%s) and %s key %s (%s): give one key for all tracks (ALL)", first.id, first.key.KID, first.key.TrackType,
				t.id, t.key.KID, t.key.TrackType)
		}
		if first == nil {
			first = t
		}
	}
	return nil
}

// smoothOutput reports whether an output's segments are the Smooth fragments.
func (p *packager) smoothOutput(scheme drm.Scheme) bool {
	return p.cfg.Smooth && scheme == drm.SchemeCENC
}

// addPIFFFragment adds the PIFF sample encryption box and the tfxd box (the fragment's
// absolute time and duration, [MS-SSTR] 2.2.4.4) to an encrypted Smooth fragment.
func addSmoothBoxes(frag *mp4.Fragment, start, dur uint64) error {
	if err := cenc.AddPIFFFragment(frag); err != nil {
		return err
	}
	return frag.Moof.Traf.AddChild(mp4.NewTfxdBox(start, dur))
}

// placeSmooth gives each Smooth rendition its QualityLevel bitrate (its average bitrate, made
// unique within its StreamIndex) and moves its segments to the Smooth fragment names.
func (p *packager) placeSmooth(rends []manifest.Rendition) error {
	dir := path.Dir(manifest.FileSmooth)
	used := map[string]bool{}
	for i := range rends {
		r := &rends[i]
		if r.Smooth == nil {
			continue
		}
		b := max(r.AvgBandwidth, 1)
		for used[fmt.Sprintf("%s/%d", r.Smooth.Stream, b)] {
			b++
		}
		used[fmt.Sprintf("%s/%d", r.Smooth.Stream, b)] = true
		r.Smooth.Bitrate = b
		for k := range r.Segments {
			s := &r.Segments[k]
			to := path.Join(dir, manifest.SmoothFragmentPath(b, r.Smooth.Stream, s.Start))
			if err := os.MkdirAll(filepath.Join(p.dir, filepath.FromSlash(path.Dir(to))), 0o755); err != nil {
				return fmt.Errorf("create %s: %w", path.Dir(to), err)
			}
			if err := os.Rename(filepath.Join(p.dir, filepath.FromSlash(s.Path)), filepath.Join(p.dir, filepath.FromSlash(to))); err != nil {
				return fmt.Errorf("place Smooth fragment %s: %w", to, err)
			}
			s.Path = to
		}
	}
	return nil
}

// writeSmooth writes the Smooth Streaming client manifest of the cenc presentation.
func (p *packager) writeSmooth(pres *manifest.Presentation) error {
	return writeBuffered(filepath.Join(p.dir, filepath.FromSlash(manifest.FileSmooth)), func(b *bytes.Buffer) error {
		return manifest.WriteSmooth(b, pres)
	})
}
