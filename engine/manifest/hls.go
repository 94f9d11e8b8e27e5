package manifest

import (
	"fmt"
	"io"
	"math"
	"path"
	"strings"

	"satchel/engine/drm"
)

// WriteHLSMaster writes the multivariant playlist: EXT-X-SESSION-KEY for every key and
// system (so players can preload keys for offline playback), an audio rendition group and one
// EXT-X-STREAM-INF per video rendition.
func WriteHLSMaster(w io.Writer, p *Presentation, mediaPlaylistURI func(r Rendition) string) error {
	var b strings.Builder
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n")
	seen := map[drm.KID]bool{}
	for _, r := range p.Renditions {
		if seen[r.KID] {
			continue
		}
		seen[r.KID] = true
		keys, err := drm.HLSKeys(p.Signalling, r.KID)
		if err != nil {
			return err
		}
		for _, k := range keys {
			fmt.Fprintf(&b, "#EXT-X-SESSION-KEY:%s\n", k.Attributes())
		}
	}
	audio := p.Audio()
	var audioPeak, audioAvg int64
	audioCodec := ""
	for i, a := range audio {
		def := "NO"
		if i == 0 {
			def = "YES"
			audioPeak, audioAvg, audioCodec = a.Bandwidth, a.AvgBandwidth, a.Codecs
		}
		lang := ""
		if a.Language != "" {
			lang = fmt.Sprintf(`,LANGUAGE="%s"`, a.Language)
		}
		fmt.Fprintf(&b, `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="%s"%s,DEFAULT=%s,AUTOSELECT=YES,CHANNELS="%d",URI="%s"`+"\n",
			a.ID, lang, def, a.Channels, mediaPlaylistURI(a))
	}
	for _, v := range p.Video() {
		codecs := v.Codecs
		if audioCodec != "" {
			codecs += "," + audioCodec
		}
		fmt.Fprintf(&b, `#EXT-X-STREAM-INF:BANDWIDTH=%d,AVERAGE-BANDWIDTH=%d,CODECS="%s",RESOLUTION=%dx%d`, v.Bandwidth+audioPeak, v.AvgBandwidth+audioAvg, codecs, v.Width, v.Height)
		if fr := frameRateDecimal(v.FrameRate); fr != "" {
			fmt.Fprintf(&b, ",FRAME-RATE=%s", fr)
		}
		if len(audio) > 0 {
			b.WriteString(`,AUDIO="audio"`)
		}
		fmt.Fprintf(&b, "\n%s\n", mediaPlaylistURI(v))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteHLSMedia writes the media playlist of one rendition; URIs are relative to the
// playlist (which sits in the rendition's folder).
func WriteHLSMedia(w io.Writer, p *Presentation, r Rendition) error {
	var b strings.Builder
	target := 1.0
	for _, s := range r.Segments {
		target = math.Max(target, float64(s.Duration)/float64(r.Timescale))
	}
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n", int(math.Ceil(target-0.0005)))
	keys, err := drm.HLSKeys(p.Signalling, r.KID)
	if err != nil {
		return err
	}
	for _, k := range keys {
		fmt.Fprintf(&b, "#EXT-X-KEY:%s\n", k.Attributes())
	}
	fmt.Fprintf(&b, "#EXT-X-MAP:URI=\"%s\"\n", rel(r.Dir, r.InitPath))
	for _, s := range r.Segments {
		fmt.Fprintf(&b, "#EXTINF:%.3f,\n%s\n", float64(s.Duration)/float64(r.Timescale), rel(r.Dir, s.Path))
	}
	b.WriteString("#EXT-X-ENDLIST\n")
	_, err = io.WriteString(w, b.String())
	return err
}

func rel(dir, p string) string {
	if strings.HasPrefix(p, dir+"/") {
		return p[len(dir)+1:]
	}
	return path.Base(p)
}

func frameRateDecimal(fr string) string {
	if fr == "" {
		return ""
	}
	var n, d float64 = 0, 1
	if a, bb, ok := strings.Cut(fr, "/"); ok {
		fmt.Sscan(a, &n)
		fmt.Sscan(bb, &d)
	} else {
		fmt.Sscan(fr, &n)
	}
	if n == 0 || d == 0 {
		return ""
	}
	return fmt.Sprintf("%.3f", n/d)
}
