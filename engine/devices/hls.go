package devices

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"satchel/engine/drm"
	"satchel/engine/manifest"
	"satchel/engine/media"
)

// hls examines an HLS multivariant playlist (or a lone media playlist), its media playlists
// and their init segments.
func (c *collector) hls(ctx context.Context, loc string) Presentation {
	p := Presentation{Delivery: DeliveryHLS, Location: c.name(loc)}
	b, err := c.read(ctx, loc)
	if err != nil {
		p.Notes = append(p.Notes, fmt.Sprintf("%s could not be read: %v", p.Location, err))
		return p
	}
	pl, err := manifest.ReadHLS(bytes.NewReader(b))
	if err != nil {
		p.Notes = append(p.Notes, fmt.Sprintf("%s: %v", p.Location, err))
		return p
	}
	if !pl.Master {
		c.mediaPlaylist(ctx, &p, loc, pl, p.Location, "")
		return p
	}
	for _, k := range pl.SessionKeys {
		if s, ok := keySignal(k, PlaceHLSSessionKey, p.Location+", EXT-X-SESSION-KEY", ""); ok {
			addSignal(&p, s)
		}
	}
	c.variants(&p, pl)
	type ref struct{ uri, track string }
	var refs []ref
	for _, m := range pl.Media {
		if m.URI != "" && (m.Type == "AUDIO" || m.Type == "VIDEO") {
			refs = append(refs, ref{m.URI, m.Name})
		}
	}
	for _, v := range pl.Variants {
		refs = append(refs, ref{v.URI, v.URI})
	}
	seen := map[string]bool{}
	for _, r := range refs {
		if seen[r.uri] || len(seen) >= maxTracks {
			continue
		}
		seen[r.uri] = true
		ml := resolve(loc, r.uri)
		mb, err := c.read(ctx, ml)
		if err != nil {
			p.Notes = append(p.Notes, fmt.Sprintf("%s could not be read: %v", c.name(ml), err))
			continue
		}
		mp, err := manifest.ReadHLS(bytes.NewReader(mb))
		if err != nil {
			p.Notes = append(p.Notes, fmt.Sprintf("%s: %v", c.name(ml), err))
			continue
		}
		c.mediaPlaylist(ctx, &p, ml, mp, c.name(ml), r.track)
	}
	return p
}

// variants counts audio renditions, text renditions, audio-only variants and video variants
// that carry no audio.
func (c *collector) variants(p *Presentation, pl *manifest.Playlist) {
	groups := map[string]bool{}
	for _, m := range pl.Media {
		switch m.Type {
		case "AUDIO":
			p.AudioTracks++
			groups[m.GroupID] = true
		case "SUBTITLES", "CLOSED-CAPTIONS":
			p.TextTracks++
		}
	}
	muxed := false
	for _, v := range pl.Variants {
		video, audio := codecKinds(v.Codecs)
		if audio && !video && v.Resolution == "" {
			p.AudioOnlyVariants++
			continue
		}
		switch {
		case v.Audio != "" && groups[v.Audio]:
		case audio && v.Audio == "":
			muxed = true
		default:
			p.VideoWithoutAudio++
		}
	}
	if p.AudioTracks == 0 && muxed {
		p.AudioTracks = 1
	}
}

// codecKinds reports whether an RFC 6381 CODECS list names video and audio codecs.
func codecKinds(codecs string) (video, audio bool) {
	for _, c := range strings.Split(codecs, ",") {
		c = strings.ToLower(strings.TrimSpace(c))
		switch {
		case c == "":
		case hasAnyPrefix(c, "avc1", "avc3", "hvc1", "hev1", "av01", "vp09", "vp8", "dvh1", "dvhe", "vvc1", "vvi1"):
			video = true
		case hasAnyPrefix(c, "mp4a", "ac-3", "ec-3", "ac-4", "opus", "flac", "alac", "dtsc", "dtse"):
			audio = true
		}
	}
	return video, audio
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// mediaPlaylist records a media playlist's keys and its init segment.
func (c *collector) mediaPlaylist(ctx context.Context, p *Presentation, loc string, pl *manifest.Playlist,
	name, track string) {
	if !pl.Ended {
		p.Dynamic = true
	}
	for _, k := range pl.Keys {
		if sc := methodScheme(k.Method); sc != "" && !slices.Contains(p.Schemes, sc) {
			p.Schemes = append(p.Schemes, sc)
		}
		if s, ok := keySignal(k, PlaceHLSKey, name+", EXT-X-KEY", track); ok {
			addSignal(p, s)
		}
	}
	if pl.MapURI == "" {
		return
	}
	il := resolve(loc, pl.MapURI)
	ii, err := c.init(ctx, il)
	if err != nil {
		p.Notes = append(p.Notes, fmt.Sprintf("%s: %v", c.name(il), err))
		return
	}
	c.addInit(p, ii, il, track)
}

// methodScheme maps an HLS METHOD to the common encryption scheme it implies.
func methodScheme(method string) drm.Scheme {
	switch strings.ToUpper(method) {
	case "SAMPLE-AES":
		return drm.SchemeCBCS
	case "SAMPLE-AES-CTR":
		return drm.SchemeCENC
	}
	return ""
}

// keySignal describes an EXT-X-KEY or EXT-X-SESSION-KEY of a DRM system; false for other
// key formats (identity AES-128, unknown systems).
func keySignal(k manifest.KeyTag, place Place, where, track string) (Signal, bool) {
	s := Signal{Place: place, Location: where, Track: track, Method: k.Method, KeyFormat: k.KeyFormat}
	switch kf := strings.ToLower(k.KeyFormat); {
	case kf == drm.KeyFormatFairPlay:
		s.System, s.InitData = drm.FairPlay, []byte(k.URI)
		if kid, err := drm.ParseFairPlaySKD(k.URI); err == nil {
			s.KIDs = []drm.KID{kid}
		}
		return s, true
	case kf == drm.KeyFormatPlayReady:
		s.System = drm.PlayReady
		if pro, err := decodeDataURI(k.URI); err == nil {
			s.InitData, s.Size = pro, len(pro)
			if h, err := drm.ParsePlayReadyObject(pro); err == nil {
				s.KIDs, s.PlayReadyVersion, s.PlayReadyAlgID = h.KIDs, h.Version, h.AlgID
			}
		}
		return s, true
	case strings.HasPrefix(kf, "urn:uuid:"):
		sys, ok := systemForUUID(strings.TrimPrefix(kf, "urn:uuid:"))
		if !ok {
			return s, false
		}
		s.System = sys
		if raw, err := decodeDataURI(k.URI); err == nil {
			if ps, ok := psshSignal(raw, place, where, track, media.Kind("")); ok && ps.System == sys {
				ps.Method, ps.KeyFormat = k.Method, k.KeyFormat
				return ps, true
			}
		}
		return s, true
	}
	return s, false
}

// download examines a single MP4 for progressive download (only its moov is read).
func (c *collector) download(ctx context.Context, loc string) Presentation {
	p := Presentation{Delivery: DeliveryDownload, Location: c.name(loc)}
	info, err := c.init(ctx, loc)
	if err != nil {
		p.Notes = append(p.Notes, fmt.Sprintf("%s: %v", p.Location, err))
		return p
	}
	c.addInit(&p, info, loc, "")
	for _, t := range info.tracks {
		switch t.kind {
		case media.Audio:
			p.AudioTracks++
		case media.Text:
			p.TextTracks++
		}
	}
	return p
}
