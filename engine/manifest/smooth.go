package manifest

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/drm"
	"satchel/engine/media"
)

// Smooth Streaming ([MS-SSTR]) client manifest: the presentation's cenc renditions as
// StreamIndex elements whose fragments a client requests by bitrate and start time.

// SmoothTimeScale is the SmoothStreamingMedia TimeScale Satchel writes (100 ns units, the
// MS-SSTR default); each StreamIndex carries its track's own TimeScale.
const SmoothTimeScale = 10_000_000

// SmoothTrack is what the Smooth Streaming client manifest says of a rendition beyond its
// Rendition fields. A rendition with a SmoothTrack has its segments at
// SmoothFragmentPath(Bitrate, Stream, start) relative to the folder of FileSmooth.
type SmoothTrack struct {
	// Stream is the StreamIndex Name and the Fragments() noun: "video", or the audio
	// rendition's ID ("audio_en").
	Stream string `json:"stream"`
	// Bitrate is the QualityLevel Bitrate (the track's average bitrate, bits/s), unique within
	// its StreamIndex: it names the fragments' QualityLevels() folder.
	Bitrate int64 `json:"bitrate"`
	// FourCC is "H264" (AVC), "AACL" (AAC-LC) or "AACH" (HE-AAC).
	FourCC string `json:"fourcc"`
	// CodecPrivateData is the QualityLevel CodecPrivateData, upper-case hex: for H264 each SPS
	// and PPS behind a 00000001 start code, for AAC the AudioSpecificConfig.
	CodecPrivateData string `json:"codec_private_data"`
}

// SmoothFragmentPath is the path of a Smooth fragment relative to the client manifest's folder:
// "QualityLevels(<bitrate>)/Fragments(<stream>=<start time>)" ([MS-SSTR] 2.2.2.4 UrlPattern
// with its substitutions filled in).
func SmoothFragmentPath(bitrate int64, stream string, start uint64) string {
	return smoothPattern(strconv.FormatInt(bitrate, 10), stream, strconv.FormatUint(start, 10))
}

// smoothPattern is the fragment path with the given bitrate and start time text.
func smoothPattern(bitrate, stream, start string) string {
	return "QualityLevels(" + bitrate + ")/Fragments(" + stream + "=" + start + ")"
}

// smoothURLPattern is a StreamIndex Url: the fragment path with the substitutions.
func smoothURLPattern(stream string) string {
	return smoothPattern("{bitrate}", stream, "{start time}")
}

// SmoothCodec returns the FourCC and CodecPrivateData of a sample entry (as in an init
// segment's stsd; a protected entry's codec is the original format): H264 from an avcC's SPS
// and PPS, AACL or AACH from an esds AudioSpecificConfig. Other codecs are an error: Smooth
// Streaming clients know no other ISO codec signalling.
func SmoothCodec(entry mp4.Box) (SmoothTrack, error) {
	switch e := entry.(type) {
	case *mp4.VisualSampleEntryBox:
		if e.AvcC == nil {
			return SmoothTrack{}, fmt.Errorf("smooth: video sample entry %s has no avcC; Smooth Streaming carries H.264 video",
				e.Type())
		}
		var b []byte
		for _, nalu := range append(append([][]byte(nil), e.AvcC.SPSnalus...), e.AvcC.PPSnalus...) {
			b = append(append(b, 0, 0, 0, 1), nalu...)
		}
		if len(e.AvcC.SPSnalus) == 0 || len(e.AvcC.PPSnalus) == 0 {
			return SmoothTrack{}, fmt.Errorf("smooth: the avcC holds no SPS or no PPS (parameter sets in band cannot be signalled)")
		}
		return SmoothTrack{FourCC: "H264", CodecPrivateData: strings.ToUpper(hex.EncodeToString(b))}, nil
	case *mp4.AudioSampleEntryBox:
		if e.Esds == nil || e.Esds.DecConfigDescriptor.DecSpecificInfo == nil {
			return SmoothTrack{}, fmt.Errorf("smooth: audio sample entry %s has no AAC configuration; Smooth Streaming "+
				"carries AAC audio here", e.Type())
		}
		asc := e.Esds.DecConfigDescriptor.DecSpecificInfo.DecConfig
		if len(asc) == 0 {
			return SmoothTrack{}, fmt.Errorf("smooth: the AAC AudioSpecificConfig is empty")
		}
		fourCC := "AACL"
		if aot := asc[0] >> 3; aot == 5 || aot == 29 {
			fourCC = "AACH" // HE-AAC (SBR, PS)
		}
		return SmoothTrack{FourCC: fourCC, CodecPrivateData: strings.ToUpper(hex.EncodeToString(asc))}, nil
	}
	return SmoothTrack{}, fmt.Errorf("smooth: sample entry %s is not H.264 video or AAC audio", entry.Type())
}

// WriteSmooth writes the Smooth Streaming client manifest ([MS-SSTR] 2.2.2, MajorVersion 2,
// MinorVersion 2) of a cenc presentation: a Protection element with the PlayReady Object of
// the presentation's key as ProtectionHeader; one video StreamIndex with a QualityLevel per
// video rendition; one audio StreamIndex per audio rendition (its language and name); a c
// element per fragment (t on the first, d on each). Every video and audio rendition needs its
// Smooth field; subtitles are left out (Smooth text streams are TTML, Satchel's are WebVTT).
// Smooth clients build their track encryption from the ProtectionHeader, so every encrypted
// rendition must use one key.
func WriteSmooth(w io.Writer, p *Presentation) error {
	if p.Scheme != drm.SchemeCENC {
		return fmt.Errorf("smooth: the presentation is %s; Smooth Streaming (PlayReady) is AES-CTR, cenc", p.Scheme)
	}
	pro, err := smoothPRO(p)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(xml.Header)
	fmt.Fprintf(&b, `<SmoothStreamingMedia MajorVersion="2" MinorVersion="2" TimeScale="%d" Duration="%d">`+"\n",
		SmoothTimeScale, uint64(p.Duration.Seconds()*SmoothTimeScale+0.5))
	if pro != nil {
		fmt.Fprintf(&b, "  <Protection>\n    <ProtectionHeader SystemID=\"%s\">%s</ProtectionHeader>\n  </Protection>\n",
			strings.ToUpper(drm.PlayReadySystemID), base64.StdEncoding.EncodeToString(pro))
	}
	if v := p.Video(); len(v) > 0 {
		if err := writeSmoothStream(&b, v); err != nil {
			return err
		}
	}
	for _, a := range p.Audio() {
		if err := writeSmoothStream(&b, []Rendition{a}); err != nil {
			return err
		}
	}
	b.WriteString("</SmoothStreamingMedia>\n")
	_, err = io.WriteString(w, b.String())
	return err
}

// smoothPRO returns the PlayReady Object of the presentation's one content key (nil when no
// rendition is encrypted).
func smoothPRO(p *Presentation) ([]byte, error) {
	var kid drm.KID
	for _, r := range p.Renditions {
		if r.Kind == media.Text || !r.Encrypted() {
			continue
		}
		if !kid.IsZero() && r.KID != kid {
			return nil, &SmoothKeyError{KIDs: []drm.KID{kid, r.KID}}
		}
		kid = r.KID
	}
	if kid.IsZero() {
		return nil, nil
	}
	key, ok := drm.KeyByKID(p.Signalling.Keys, kid)
	if !ok {
		return nil, fmt.Errorf("smooth: KID %s is not among the presentation's keys", kid)
	}
	return drm.PlayReadyObject([]drm.ContentKey{key}, drm.SchemeCENC, p.Signalling.PlayReadyLAURL)
}

// SmoothKeyError says the renditions of a Smooth presentation use more than one key: a Smooth
// client takes the one KID of the ProtectionHeader for every track.
type SmoothKeyError struct{ KIDs []drm.KID }

func (e *SmoothKeyError) Error() string {
	return fmt.Sprintf("smooth: the renditions use keys %s and %s, but a Smooth Streaming client applies the one key of "+
		"its ProtectionHeader to every track", e.KIDs[0], e.KIDs[1])
}

// writeSmoothStream writes one StreamIndex: the renditions are its QualityLevels (same kind,
// same segment times).
func writeSmoothStream(b *strings.Builder, rends []Rendition) error {
	r0 := rends[0]
	for _, r := range rends {
		if r.Smooth == nil {
			return fmt.Errorf("smooth: rendition %s has no Smooth track description", r.ID)
		}
		if err := sameFragments(r0, r); err != nil {
			return err
		}
	}
	st := r0.Smooth
	fmt.Fprintf(b, `  <StreamIndex Type="%s" Name="%s" TimeScale="%d" Chunks="%d" QualityLevels="%d" Url="%s"`,
		r0.Kind, esc(st.Stream), r0.Timescale, len(r0.Segments), len(rends), esc(smoothURLPattern(st.Stream)))
	if r0.Kind == media.Video {
		maxW, maxH := 0, 0
		for _, r := range rends {
			maxW, maxH = max(maxW, r.Width), max(maxH, r.Height)
		}
		fmt.Fprintf(b, ` MaxWidth="%d" MaxHeight="%d" DisplayWidth="%d" DisplayHeight="%d"`, maxW, maxH, maxW, maxH)
	} else {
		fmt.Fprintf(b, ` Language="%s"`, media.LanguageISO639(r0.Language))
	}
	b.WriteString(">\n")
	for i, r := range rends {
		q := r.Smooth
		fmt.Fprintf(b, `    <QualityLevel Index="%d" Bitrate="%d" FourCC="%s" CodecPrivateData="%s"`, i, q.Bitrate, q.FourCC,
			q.CodecPrivateData)
		if r.Kind == media.Video {
			// NALUnitLengthField is left at its default, 4: mp4ff writes 4-byte NAL lengths.
			fmt.Fprintf(b, ` MaxWidth="%d" MaxHeight="%d"`, r.Width, r.Height)
		} else {
			// AudioTag 255 is AAC; PacketSize is the block alignment (4 for 16-bit stereo).
			fmt.Fprintf(b, ` SamplingRate="%d" Channels="%d" BitsPerSample="16" PacketSize="%d" AudioTag="255"`,
				r.SampleRate, r.Channels, 2*max(r.Channels, 1))
		}
		b.WriteString("/>\n")
	}
	var next uint64
	for i, s := range r0.Segments {
		if i == 0 || s.Start != next {
			fmt.Fprintf(b, `    <c t="%d" d="%d"/>`+"\n", s.Start, s.Duration)
		} else {
			fmt.Fprintf(b, `    <c d="%d"/>`+"\n", s.Duration)
		}
		next = s.Start + s.Duration
	}
	b.WriteString("  </StreamIndex>\n")
	return nil
}

// sameFragments checks that two renditions of one StreamIndex can share its TimeScale and c
// elements: the same timescale and the same fragment times.
func sameFragments(a, b Rendition) error {
	if a.Timescale != b.Timescale {
		return fmt.Errorf("smooth: renditions %s and %s have timescales %d and %d, but one Smooth StreamIndex has one "+
			"TimeScale", a.ID, b.ID, a.Timescale, b.Timescale)
	}
	if len(a.Segments) != len(b.Segments) {
		return fmt.Errorf("smooth: renditions %s and %s have %d and %d fragments", a.ID, b.ID, len(a.Segments), len(b.Segments))
	}
	for i := range a.Segments {
		if a.Segments[i].Start != b.Segments[i].Start || a.Segments[i].Duration != b.Segments[i].Duration {
			return fmt.Errorf("smooth: fragment %d of renditions %s and %s starts or lasts differently (%d+%d, %d+%d)",
				i+1, a.ID, b.ID, a.Segments[i].Start, a.Segments[i].Duration, b.Segments[i].Start, b.Segments[i].Duration)
		}
	}
	return nil
}
