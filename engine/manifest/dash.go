package manifest

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"time"

	"satchel/engine/drm"
	"satchel/engine/media"
	"satchel/internal/isodur"
)

// DASH namespaces.
const (
	nsMPD    = "urn:mpeg:dash:schema:mpd:2011"
	nsCENC   = "urn:mpeg:cenc:2013"
	nsMSPR   = "urn:microsoft:playready"
	nsDashIF = "https://dashif.org/CPS"
)

// WriteMPD writes a static DASH MPD (isoff-live + CMAF profiles) for p: one Period; one video
// AdaptationSet; one audio AdaptationSet per language, role, codec, channel layout and name
// (lang as BCP 47, Role, Label, AudioChannelConfiguration from the codec configuration); one
// text AdaptationSet per subtitle track (wvtt, Role subtitle/caption/forced-subtitle,
// Accessibility for SDH); SegmentTemplate with an exact SegmentTimeline per Representation;
// ContentProtection for the scheme and every signalled system on the encrypted sets. When the
// Representations of a set share one KID the ContentProtection sits on the AdaptationSet,
// otherwise on each Representation (multi-key ladders: SD and HD under different keys). When
// the video renditions have trick-play segments, a trick-mode AdaptationSet follows
// (EssentialProperty http://dashif.org/guidelines/trickmode naming the video set,
// codingDependency="false", maxPlayoutRate).
func WriteMPD(w io.Writer, p *Presentation) error {
	var b strings.Builder
	b.WriteString(xml.Header)
	fmt.Fprintf(&b, `<MPD xmlns="%s" xmlns:cenc="%s" xmlns:mspr="%s" xmlns:dashif="%s" profiles="urn:mpeg:dash:profile:isoff-live:2011,urn:mpeg:dash:profile:cmaf:2019" type="static" mediaPresentationDuration="%s" minBufferTime="%s">`+"\n",
		nsMPD, nsCENC, nsMSPR, nsDashIF, isodur.Format(p.Duration), isodur.Format(max(p.SegmentDuration, 2*time.Second)))
	b.WriteString(`  <Period id="0" start="PT0S">` + "\n")
	sets := adaptationSets(p)
	for i, group := range sets {
		if err := writeSet(&b, p, i+1, group); err != nil {
			return err
		}
	}
	if v := p.Video(); len(v) > 0 && len(v[0].Trick) > 0 {
		if err := writeTrickSet(&b, p, len(sets)+1, 1, v); err != nil {
			return err
		}
	}
	b.WriteString("  </Period>\n</MPD>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// adaptationSets groups the renditions: all video in one set, audio and text renditions
// together only when a player may switch between them freely (same language, role, codec,
// channels, name and flags), in the order they come.
func adaptationSets(p *Presentation) [][]Rendition {
	var out [][]Rendition
	if v := p.Video(); len(v) > 0 {
		out = append(out, v)
	}
	index := map[string]int{}
	for _, r := range append(p.Audio(), p.Text()...) {
		key := fmt.Sprintf("%s|%s|%s|%s|%d|%s|%v|%v", r.Kind, r.Language, r.Role, r.Codecs, r.Channels, r.Name, r.Forced, r.SDH)
		if i, ok := index[key]; ok {
			out[i] = append(out[i], r)
			continue
		}
		index[key] = len(out)
		out = append(out, []Rendition{r})
	}
	return out
}

// writeSet writes one AdaptationSet.
func writeSet(b *strings.Builder, p *Presentation, id int, group []Rendition) error {
	r0 := group[0]
	shared := true
	for _, r := range group {
		if r.KID != r0.KID {
			shared = false
		}
	}
	lang := ""
	if r0.Language != "" {
		lang = fmt.Sprintf(` lang="%s"`, esc(r0.Language))
	}
	switch r0.Kind {
	case media.Video:
		maxW, maxH := 0, 0
		for _, r := range group {
			maxW, maxH = max(maxW, r.Width), max(maxH, r.Height)
		}
		fmt.Fprintf(b, `    <AdaptationSet id="%d" contentType="video" mimeType="video/mp4" segmentAlignment="true" startWithSAP="1" maxWidth="%d" maxHeight="%d">`+"\n", id, maxW, maxH)
	case media.Audio:
		fmt.Fprintf(b, `    <AdaptationSet id="%d" contentType="audio" mimeType="audio/mp4" segmentAlignment="true" startWithSAP="1"%s>`+"\n", id, lang)
	default:
		fmt.Fprintf(b, `    <AdaptationSet id="%d" contentType="text" mimeType="application/mp4" segmentAlignment="true"%s>`+"\n", id, lang)
	}
	if shared && r0.Encrypted() {
		if err := writeProtection(b, p, r0.KID, "      "); err != nil {
			return err
		}
	}
	writeDescriptors(b, r0)
	for _, r := range group {
		if err := writeRepresentation(b, p, r, !shared); err != nil {
			return err
		}
	}
	b.WriteString("    </AdaptationSet>\n")
	return nil
}

// writeDescriptors writes an audio or text set's Label, Accessibility and Role (in the order
// the MPD schema requires).
func writeDescriptors(b *strings.Builder, r Rendition) {
	if r.Kind == media.Video {
		return
	}
	if r.Name != "" {
		fmt.Fprintf(b, "      <Label>%s</Label>\n", esc(r.Name))
	}
	switch {
	case r.Kind == media.Text && r.SDH:
		b.WriteString(`      <Accessibility schemeIdUri="urn:tva:metadata:cs:AudioPurposeCS:2007" value="2"/>` + "\n")
	case r.Role == media.RoleDescription:
		b.WriteString(`      <Accessibility schemeIdUri="urn:tva:metadata:cs:AudioPurposeCS:2007" value="1"/>` + "\n")
	}
	role := r.Role
	if r.Kind == media.Text {
		role = media.RoleSubtitle
		switch {
		case r.Forced:
			role = media.RoleForced
		case r.SDH:
			role = media.RoleCaption
		}
	}
	if role != "" {
		fmt.Fprintf(b, `      <Role schemeIdUri="urn:mpeg:dash:role:2011" value="%s"/>`+"\n", role)
	}
}

// writeRepresentation writes one Representation (with its own ContentProtection when the set
// mixes keys).
func writeRepresentation(b *strings.Builder, p *Presentation, r Rendition, ownProtection bool) error {
	fmt.Fprintf(b, `      <Representation id="%s" bandwidth="%d" codecs="%s"`, esc(r.ID), r.Bandwidth, esc(r.Codecs))
	switch r.Kind {
	case media.Video:
		fmt.Fprintf(b, ` width="%d" height="%d" sar="1:1"`, r.Width, r.Height)
		if r.FrameRate != "" {
			fmt.Fprintf(b, ` frameRate="%s"`, r.FrameRate)
		}
	case media.Audio:
		fmt.Fprintf(b, ` audioSamplingRate="%d"`, r.SampleRate)
	}
	b.WriteString(">\n")
	if r.Kind == media.Audio && r.Channels > 0 {
		if (r.Codecs == "ac-3" || r.Codecs == "ec-3") && r.ChannelMap != 0 {
			fmt.Fprintf(b, `        <AudioChannelConfiguration schemeIdUri="tag:dolby.com,2014:dash:audio_channel_configuration:2011" value="%04X"/>`+"\n", r.ChannelMap)
		} else {
			fmt.Fprintf(b, `        <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="%d"/>`+"\n", r.Channels)
		}
	}
	if ownProtection && r.Encrypted() {
		if err := writeProtection(b, p, r.KID, "        "); err != nil {
			return err
		}
	}
	writeTemplate(b, r)
	b.WriteString("      </Representation>\n")
	return nil
}

// writeTemplate writes a rendition's SegmentTemplate: its folder's numbered segments, or for a
// rendition in the Smooth manifest the Smooth fragment names by time ($Time$ is S@t, the
// fragment's decode time, as the Smooth Url's {start time} is).
func writeTemplate(b *strings.Builder, r Rendition) {
	if r.Smooth != nil {
		media := path.Join(path.Dir(FileSmooth), smoothPattern(strconv.FormatInt(r.Smooth.Bitrate, 10), r.Smooth.Stream, "$Time$"))
		writeTemplateMedia(b, r.InitPath, media, r.Timescale, r.Segments)
		return
	}
	writeTemplateOf(b, r.Dir, r.Timescale, r.Segments)
}

// writeTemplateOf writes a SegmentTemplate over the track in folder dir (init.mp4,
// seg_NNNNN.m4s) with an exact SegmentTimeline of segs.
func writeTemplateOf(b *strings.Builder, dir string, timescale uint32, segs []Segment) {
	writeTemplateMedia(b, dir+"/"+FileInit, dir+"/seg_$Number%05d$.m4s", timescale, segs)
}

// writeTemplateMedia writes a SegmentTemplate with the given initialization and media
// templates and an exact SegmentTimeline of segs.
func writeTemplateMedia(b *strings.Builder, init, media string, timescale uint32, segs []Segment) {
	fmt.Fprintf(b, `        <SegmentTemplate timescale="%d" initialization="%s" media="%s" startNumber="1">`+"\n",
		timescale, esc(init), esc(media))
	b.WriteString("          <SegmentTimeline>\n")
	for i := 0; i < len(segs); {
		s := segs[i]
		j := i + 1
		for j < len(segs) && segs[j].Duration == s.Duration && segs[j].Start == segs[j-1].Start+segs[j-1].Duration {
			j++
		}
		if j-i > 1 {
			fmt.Fprintf(b, `            <S t="%d" d="%d" r="%d"/>`+"\n", s.Start, s.Duration, j-i-1)
		} else {
			fmt.Fprintf(b, `            <S t="%d" d="%d"/>`+"\n", s.Start, s.Duration)
		}
		i = j
	}
	b.WriteString("          </SegmentTimeline>\n        </SegmentTemplate>\n")
}

// writeTrickSet writes the trick-mode AdaptationSet of the video renditions (DASH-IF IOP
// 3.2.9): per rendition a track in TrickDir with one I-frame per segment, the same
// protection. maxPlayoutRate is the ratio of the renditions' frames to their I-frames: the
// speed at which the trick track shows as many frames per second as normal play.
func writeTrickSet(b *strings.Builder, p *Presentation, id, mainID int, video []Rendition) error {
	r0 := video[0]
	frames := 0
	for _, s := range r0.Segments {
		if fr := frameDuration(r0); fr > 0 {
			frames += int(s.Duration / fr)
		}
	}
	rate := max(1, frames/len(r0.Trick))
	maxW, maxH := 0, 0
	for _, r := range video {
		maxW, maxH = max(maxW, r.Width), max(maxH, r.Height)
	}
	fmt.Fprintf(b, `    <AdaptationSet id="%d" contentType="video" mimeType="video/mp4" segmentAlignment="true" startWithSAP="1" maxWidth="%d" maxHeight="%d" maxPlayoutRate="%d" codingDependency="false">`+"\n",
		id, maxW, maxH, rate)
	shared := true
	for _, r := range video {
		shared = shared && r.KID == r0.KID
	}
	if shared && r0.Encrypted() {
		if err := writeProtection(b, p, r0.KID, "      "); err != nil {
			return err
		}
	}
	fmt.Fprintf(b, `      <EssentialProperty schemeIdUri="http://dashif.org/guidelines/trickmode" value="%d"/>`+"\n", mainID)
	for _, r := range video {
		peak, _ := bandwidthOf(r.Trick, r.Timescale)
		fmt.Fprintf(b, `      <Representation id="%s_trick" bandwidth="%d" codecs="%s" width="%d" height="%d" sar="1:1">`+"\n",
			esc(r.ID), peak, esc(r.Codecs), r.Width, r.Height)
		if !shared && r.Encrypted() {
			if err := writeProtection(b, p, r.KID, "        "); err != nil {
				return err
			}
		}
		writeTemplateOf(b, TrickDir(r.Dir), r.Timescale, r.Trick)
		b.WriteString("      </Representation>\n")
	}
	b.WriteString("    </AdaptationSet>\n")
	return nil
}

// frameDuration returns the frame duration of a video rendition in its timescale, from its
// frame rate ("24", "30000/1001"); 0 when unknown.
func frameDuration(r Rendition) uint64 {
	var n, d uint64 = 0, 1
	if a, c, ok := strings.Cut(r.FrameRate, "/"); ok {
		fmt.Sscan(a, &n)
		fmt.Sscan(c, &d)
	} else {
		fmt.Sscan(r.FrameRate, &n)
	}
	if n == 0 {
		return 0
	}
	return uint64(r.Timescale) * d / n
}

// bandwidthOf returns the peak and average bitrate of segments (bits/s).
func bandwidthOf(segs []Segment, timescale uint32) (peak, avg int64) {
	var bytes, dur uint64
	for _, s := range segs {
		bytes += uint64(s.Size)
		dur += s.Duration
		if s.Duration > 0 {
			peak = max(peak, int64(uint64(s.Size)*8*uint64(timescale)/s.Duration))
		}
	}
	if dur > 0 {
		avg = int64(bytes * 8 * uint64(timescale) / dur)
	}
	return peak, avg
}

// writeProtection writes the ContentProtection elements for one default KID; the systems'
// init data names that key, or every key of the presentation (Signalling.AllKeys).
func writeProtection(b *strings.Builder, p *Presentation, kid drm.KID, indent string) error {
	sig := p.Signalling
	keys, err := sig.InitDataKeys(kid)
	if err != nil {
		return fmt.Errorf("mpd: a representation's %w", err)
	}
	one := sig
	one.Keys = keys
	fmt.Fprintf(b, `%s<ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="%s" cenc:default_KID="%s"/>`+"\n", indent, p.Scheme, kid)
	for _, s := range sig.Systems {
		if s == drm.FairPlay {
			continue // FairPlay is HLS-only
		}
		one.Systems = []drm.System{s}
		boxes, err := drm.PSSHBoxes(one)
		if err != nil {
			return err
		}
		pssh, err := drm.PSSHBase64(boxes[0])
		if err != nil {
			return err
		}
		switch s {
		case drm.Widevine:
			fmt.Fprintf(b, `%s<ContentProtection schemeIdUri="urn:uuid:%s" value="Widevine"><cenc:pssh>%s</cenc:pssh></ContentProtection>`+"\n", indent, drm.WidevineSystemID, pssh)
		case drm.PlayReady:
			fmt.Fprintf(b, `%s<ContentProtection schemeIdUri="urn:uuid:%s" value="MSPR 2.0"><cenc:pssh>%s</cenc:pssh><mspr:pro>%s</mspr:pro></ContentProtection>`+"\n",
				indent, drm.PlayReadySystemID, pssh, base64.StdEncoding.EncodeToString(boxes[0].Data))
		case drm.ClearKey:
			laurl := ""
			if sig.ClearKeyLAURL != "" {
				laurl = fmt.Sprintf(`<dashif:laurl>%s</dashif:laurl>`, esc(sig.ClearKeyLAURL))
			}
			fmt.Fprintf(b, `%s<ContentProtection schemeIdUri="urn:uuid:%s" value="ClearKey1.0">%s</ContentProtection>`+"\n", indent, drm.ClearKeyDASHSchemeID, laurl)
			fmt.Fprintf(b, `%s<ContentProtection schemeIdUri="urn:uuid:%s" value="cenc"><cenc:pssh>%s</cenc:pssh></ContentProtection>`+"\n", indent, drm.CommonSystemID, pssh)
		}
	}
	return nil
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return strings.ReplaceAll(b.String(), `"`, "&quot;")
}
