package manifest

import (
	"fmt"
	"io"
	"math"
	"path"
	"strings"

	"satchel/engine/drm"
	"satchel/engine/media"
)

// WriteHLSMaster writes the multivariant playlist: EXT-X-SESSION-KEY for every key and
// system (so players can preload keys for offline playback); one EXT-X-MEDIA per audio
// rendition, grouped by codec (a variant's CODECS must cover its whole group), with LANGUAGE
// (BCP 47), NAME, DEFAULT, AUTOSELECT and CHANNELS; one EXT-X-MEDIA TYPE=SUBTITLES per text
// rendition (FORCED, CHARACTERISTICS for SDH); and one EXT-X-STREAM-INF per video rendition
// and audio group; and one EXT-X-I-FRAME-STREAM-INF per video rendition that locates its
// I-frames (trick play).
func WriteHLSMaster(w io.Writer, p *Presentation, mediaPlaylistURI func(r Rendition) string) error {
	var b strings.Builder
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n")
	seen := map[drm.KID]bool{}
	lines := map[string]bool{}
	for _, r := range p.Renditions {
		if seen[r.KID] || !r.Encrypted() {
			continue
		}
		seen[r.KID] = true
		keys, err := drm.HLSKeys(p.Signalling, r.KID)
		if err != nil {
			return err
		}
		for _, k := range keys {
			// With Signalling.AllKeys the init data of every key is the same: write it once.
			if line := "#EXT-X-SESSION-KEY:" + k.Attributes() + "\n"; !lines[line] {
				lines[line] = true
				b.WriteString(line)
			}
		}
	}
	groups := audioGroups(p.Audio())
	for _, g := range groups {
		writeAudioGroup(&b, g, mediaPlaylistURI)
	}
	text := p.Text()
	var textPeak int64
	names := map[string]int{}
	for _, t := range text {
		textPeak = max(textPeak, t.Bandwidth)
		fmt.Fprintf(&b, `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="%s",NAME="%s"%s,DEFAULT=NO,AUTOSELECT=YES`,
			subtitleGroup, uniqueName(names, t), language(t))
		if t.Forced {
			b.WriteString(",FORCED=YES")
		}
		if t.SDH {
			b.WriteString(`,CHARACTERISTICS="public.accessibility.transcribes-spoken-dialog,public.accessibility.describes-music-and-sound"`)
		}
		fmt.Fprintf(&b, ",URI=\"%s\"\n", mediaPlaylistURI(t))
	}
	if len(groups) == 0 {
		groups = []audioGroup{{}}
	}
	for _, g := range groups {
		for _, v := range p.Video() {
			writeVariant(&b, v, g, textPeak, len(text) > 0, mediaPlaylistURI)
		}
	}
	writeIFrameStreams(&b, p.Video(), mediaPlaylistURI)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeIFrameStreams writes one EXT-X-I-FRAME-STREAM-INF per video rendition that locates its
// I-frames; its I-frame playlist (FileHLSIFrames) sits beside its media playlist.
func writeIFrameStreams(b *strings.Builder, video []Rendition, uri func(Rendition) string) {
	for _, v := range video {
		if !v.IFrames() {
			continue
		}
		peak, avg := iframeBandwidth(v)
		fmt.Fprintf(b, `#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=%d,AVERAGE-BANDWIDTH=%d,CODECS="%s",RESOLUTION=%dx%d,URI="%s"`+"\n",
			peak, avg, v.Codecs, v.Width, v.Height, path.Join(path.Dir(uri(v)), FileHLSIFrames))
	}
}

// iframeDurations returns how long each I-frame of r lasts, in its timescale: until the next
// I-frame's presentation time, the last until the end of the rendition (RFC 8216 4.3.3.6).
func iframeDurations(r Rendition) []uint64 {
	segs := r.Segments
	out := make([]uint64, len(segs))
	delay := int64(segs[0].IFrame.Time) - int64(segs[0].Start) // composition delay of the first frame
	for i, s := range segs {
		end := int64(s.Start+s.Duration) + delay
		if i+1 < len(segs) {
			end = int64(segs[i+1].IFrame.Time)
		}
		if d := end - int64(s.IFrame.Time); d > 0 {
			out[i] = uint64(d)
		}
	}
	return out
}

// iframeBandwidth returns the peak and average bitrate of r's I-frame stream (bits/s).
func iframeBandwidth(r Rendition) (peak, avg int64) {
	var bytes, total uint64
	for i, d := range iframeDurations(r) {
		size := uint64(r.Segments[i].IFrame.Size)
		bytes, total = bytes+size, total+d
		if d > 0 {
			peak = max(peak, int64(size*8*uint64(r.Timescale)/d))
		}
	}
	if total > 0 {
		avg = int64(bytes * 8 * uint64(r.Timescale) / total)
	}
	return peak, avg
}

// WriteHLSIFrames writes the I-frame playlist of a video rendition (RFC 8216 4.3.3.6
// EXT-X-I-FRAMES-ONLY): per segment, the byte range of its first sync sample together with the
// segment's moof and mdat header (EXT-X-BYTERANGE into the segment file, as the HLS Authoring
// Specification requires for fMP4), lasting until the next I-frame; the rendition's init
// segment (EXT-X-MAP) and key tags as in its media playlist.
func WriteHLSIFrames(w io.Writer, p *Presentation, r Rendition) error {
	if !r.IFrames() {
		return fmt.Errorf("hls: rendition %s does not locate its I-frames", r.ID)
	}
	durs := iframeDurations(r)
	target := 1.0
	for _, d := range durs {
		target = math.Max(target, float64(d)/float64(r.Timescale))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:1\n"+
		"#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-I-FRAMES-ONLY\n", int(math.Ceil(target-0.0005)))
	if r.Encrypted() {
		keys, err := drm.HLSKeys(p.Signalling, r.KID)
		if err != nil {
			return err
		}
		for _, k := range keys {
			fmt.Fprintf(&b, "#EXT-X-KEY:%s\n", k.Attributes())
		}
	}
	fmt.Fprintf(&b, "#EXT-X-MAP:URI=\"%s\"\n", rel(r.Dir, r.InitPath))
	for i, s := range r.Segments {
		fmt.Fprintf(&b, "#EXTINF:%.3f,\n#EXT-X-BYTERANGE:%d@%d\n%s\n", float64(durs[i])/float64(r.Timescale),
			s.IFrame.Size, s.IFrame.Offset, rel(r.Dir, s.Path))
	}
	b.WriteString("#EXT-X-ENDLIST\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// subtitleGroup is the GROUP-ID of the subtitle renditions.
const subtitleGroup = "subs"

// audioGroup is one HLS audio rendition group: renditions of one codec.
type audioGroup struct {
	id        string
	codecs    string
	peak, avg int64 // the group's largest bandwidths, added to each variant's
	members   []Rendition
}

// audioGroups groups audio renditions by codec; a single group is called "audio".
func audioGroups(audio []Rendition) []audioGroup {
	var groups []audioGroup
	index := map[string]int{}
	for _, a := range audio {
		i, ok := index[a.Codecs]
		if !ok {
			i = len(groups)
			index[a.Codecs] = i
			groups = append(groups, audioGroup{id: "audio-" + a.Codecs, codecs: a.Codecs})
		}
		g := &groups[i]
		g.members = append(g.members, a)
		g.peak, g.avg = max(g.peak, a.Bandwidth), max(g.avg, a.AvgBandwidth)
	}
	if len(groups) == 1 {
		groups[0].id = "audio"
	}
	return groups
}

// writeAudioGroup writes the group's EXT-X-MEDIA tags: exactly one DEFAULT=YES (the default
// rendition, else the first); commentary is never selected automatically.
func writeAudioGroup(b *strings.Builder, g audioGroup, uri func(Rendition) string) {
	def := 0
	for i, a := range g.members {
		if a.Default {
			def = i
			break
		}
	}
	names := map[string]int{}
	for i, a := range g.members {
		yes := map[bool]string{true: "YES", false: "NO"}
		auto := a.Role != media.RoleCommentary || i == def
		fmt.Fprintf(b, `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="%s",NAME="%s"%s,DEFAULT=%s,AUTOSELECT=%s`,
			g.id, uniqueName(names, a), language(a), yes[i == def], yes[auto])
		if a.Channels > 0 {
			fmt.Fprintf(b, `,CHANNELS="%d"`, a.Channels)
		}
		if a.Role == media.RoleDescription {
			b.WriteString(`,CHARACTERISTICS="public.accessibility.describes-video"`)
		}
		fmt.Fprintf(b, ",URI=\"%s\"\n", uri(a))
	}
}

// writeVariant writes one EXT-X-STREAM-INF: the video with an audio group (if any).
func writeVariant(b *strings.Builder, v Rendition, g audioGroup, textPeak int64, subs bool, uri func(Rendition) string) {
	codecs := v.Codecs
	if g.codecs != "" {
		codecs += "," + g.codecs
	}
	fmt.Fprintf(b, `#EXT-X-STREAM-INF:BANDWIDTH=%d,AVERAGE-BANDWIDTH=%d,CODECS="%s",RESOLUTION=%dx%d`,
		v.Bandwidth+g.peak+textPeak, v.AvgBandwidth+g.avg, codecs, v.Width, v.Height)
	if fr := frameRateDecimal(v.FrameRate); fr != "" {
		fmt.Fprintf(b, ",FRAME-RATE=%s", fr)
	}
	if g.id != "" {
		fmt.Fprintf(b, `,AUDIO="%s"`, g.id)
	}
	if subs {
		fmt.Fprintf(b, `,SUBTITLES="%s"`, subtitleGroup)
	}
	fmt.Fprintf(b, "\n%s\n", uri(v))
}

// uniqueName returns the rendition's NAME, made unique within its group (RFC 8216 4.4.6.1).
func uniqueName(seen map[string]int, r Rendition) string {
	name := r.Name
	if name == "" {
		name = r.ID
	}
	name = strings.ReplaceAll(name, `"`, "'")
	seen[name]++
	if n := seen[name]; n > 1 {
		name = fmt.Sprintf("%s (%d)", name, n)
	}
	return name
}

func language(r Rendition) string {
	if r.Language == "" {
		return ""
	}
	return fmt.Sprintf(`,LANGUAGE="%s"`, r.Language)
}

// WriteHLSMedia writes the media playlist of one rendition; URIs are relative to the
// playlist (which sits in the rendition's folder). Text renditions list their WebVTT segment
// files, without EXT-X-MAP or keys.
func WriteHLSMedia(w io.Writer, p *Presentation, r Rendition) error {
	var b strings.Builder
	segs := r.Segments
	if r.Kind == media.Text {
		segs = r.WebVTT
	}
	target := 1.0
	for _, s := range segs {
		target = math.Max(target, float64(s.Duration)/float64(r.Timescale))
	}
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n", int(math.Ceil(target-0.0005)))
	if r.Encrypted() {
		keys, err := drm.HLSKeys(p.Signalling, r.KID)
		if err != nil {
			return err
		}
		for _, k := range keys {
			fmt.Fprintf(&b, "#EXT-X-KEY:%s\n", k.Attributes())
		}
	}
	if r.Kind != media.Text {
		fmt.Fprintf(&b, "#EXT-X-MAP:URI=\"%s\"\n", rel(r.Dir, r.InitPath))
	}
	for _, s := range segs {
		fmt.Fprintf(&b, "#EXTINF:%.3f,\n%s\n", float64(s.Duration)/float64(r.Timescale), rel(r.Dir, s.Path))
	}
	b.WriteString("#EXT-X-ENDLIST\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// rel returns p (relative to the presentation root) relative to folder dir, going up with
// ".." when p is not inside dir (Smooth fragment names sit beside the rendition folders).
func rel(dir, p string) string {
	if strings.HasPrefix(p, dir+"/") {
		return p[len(dir)+1:]
	}
	d, f := strings.Split(dir, "/"), strings.Split(p, "/")
	i := 0
	for i < len(d) && i < len(f)-1 && d[i] == f[i] {
		i++
	}
	return strings.Repeat("../", len(d)-i) + strings.Join(f[i:], "/")
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
