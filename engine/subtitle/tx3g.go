package subtitle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"html"
	"sort"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/internal/mp4safe"
)

// Tx3gText decodes one 3GPP timed-text sample (3GPP TS 26.245 5.17): a 16-bit length, the
// text (UTF-8, or UTF-16 with a byte-order mark), then modifier boxes. Bold, italic and
// underline style runs ('styl') become <b>, <i> and <u>; other modifiers (karaoke, highlight,
// scroll, links) are presentation effects WebVTT has no equivalent for and are not carried.
// An empty sample (a gap between cues) gives "".
func Tx3gText(sample []byte) (string, error) {
	if len(sample) < 2 {
		return "", errors.New("tx3g sample shorter than its 2-byte text length")
	}
	n := int(binary.BigEndian.Uint16(sample))
	if 2+n > len(sample) {
		return "", fmt.Errorf("tx3g sample declares %d text bytes but holds %d", n, len(sample)-2)
	}
	raw := sample[2 : 2+n]
	var runes []rune
	switch {
	case len(raw) >= 2 && raw[0] == 0xfe && raw[1] == 0xff:
		u := make([]uint16, 0, len(raw)/2)
		for i := 2; i+1 < len(raw); i += 2 {
			u = append(u, binary.BigEndian.Uint16(raw[i:]))
		}
		runes = utf16.Decode(u)
	case utf8.Valid(raw):
		runes = []rune(string(raw))
	default:
		return "", errors.New("tx3g sample text is neither UTF-8 nor UTF-16")
	}
	styles := tx3gStyles(sample[2+n:])
	return cleanText(styled(runes, styles)), nil
}

type styleRun struct {
	start, end int
	flags      byte // 1 bold, 2 italic, 4 underline
}

// tx3gStyles reads the 'styl' modifier box among the boxes after the text.
func tx3gStyles(b []byte) []styleRun {
	var runs []styleRun
	for len(b) >= 8 {
		size := int(binary.BigEndian.Uint32(b))
		if size < 8 || size > len(b) {
			break
		}
		if string(b[4:8]) == "styl" && size >= 10 {
			body := b[8:size]
			count := int(binary.BigEndian.Uint16(body))
			for i := 0; i < count && 2+12*(i+1) <= len(body); i++ {
				r := body[2+12*i:]
				start, end := int(binary.BigEndian.Uint16(r)), int(binary.BigEndian.Uint16(r[2:]))
				runs = append(runs, styleRun{start: start, end: end, flags: r[6] & 7})
			}
		}
		b = b[size:]
	}
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].start < runs[j].start })
	return runs
}

// styled writes the text escaped for WebVTT with style runs as tags (character offsets).
func styled(text []rune, runs []styleRun) string {
	var b strings.Builder
	pos := 0
	for _, r := range runs {
		start, end := max(r.start, pos), min(r.end, len(text))
		if r.flags == 0 || start >= end {
			continue
		}
		b.WriteString(escape(string(text[pos:start])))
		open, closing := "", ""
		for _, t := range []struct {
			bit byte
			tag string
		}{{1, "b"}, {2, "i"}, {4, "u"}} {
			if r.flags&t.bit != 0 {
				open += "<" + t.tag + ">"
				closing = "</" + t.tag + ">" + closing
			}
		}
		b.WriteString(open + escape(string(text[start:end])) + closing)
		pos = end
	}
	b.WriteString(escape(string(text[pos:])))
	return b.String()
}

// cleanText makes cue text safe inside a WebVTT block: no blank lines, no "-->".
func cleanText(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, strings.ReplaceAll(l, "-->", "--&gt;"))
		}
	}
	return strings.Join(lines, "\n")
}

// Tx3gEntry returns the sample entry of a 3GPP timed-text track (3GPP TS 26.245 5.16), as
// ffmpeg's mov_text writes it: bottom-centred white text in one sans-serif font. forced sets
// QuickTime's "all samples forced" display flag.
func Tx3gEntry(forced bool) (mp4.Box, error) {
	var flags uint32
	if forced {
		flags = tx3gAllForced
	}
	font := "Sans-Serif"
	b := make([]byte, 0, 64)
	b = append(b, 0, 0, 0, 0, 't', 'x', '3', 'g', 0, 0, 0, 0, 0, 0, 0, 1) // size patched below; data_reference_index 1
	b = binary.BigEndian.AppendUint32(b, flags)
	b = append(b, 1, 0xff)                 // horizontal centre, vertical bottom
	b = append(b, 0, 0, 0, 0)              // background: transparent
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)  // default text box: the whole track
	b = append(b, 0, 0, 0, 0, 0, 1, 0, 18) // style: chars 0-0, font 1, plain, 18 px
	b = append(b, 0xff, 0xff, 0xff, 0xff)  // white, opaque
	b = binary.BigEndian.AppendUint32(b, uint32(8+2+3+len(font)))
	b = append(b, "ftab"...)
	b = append(b, 0, 1, 0, 1, byte(len(font)))
	b = append(b, font...)
	binary.BigEndian.PutUint32(b, uint32(len(b)))
	var box mp4.Box
	err := mp4safe.Do(func() error {
		var derr error
		box, derr = mp4.DecodeBox(0, bytes.NewReader(b))
		return derr
	})
	return box, err
}

// tx3gAllForced is QuickTime's display flag for tracks whose every sample is forced.
const tx3gAllForced = 0x80000000

// Tx3gSamples cuts [from, to) into tx3g samples, like WvttSamples: cues shown together are
// joined by line breaks, gaps are empty samples.
func Tx3gSamples(cues []Cue, from, to time.Duration, timescale uint32) []Sample {
	var out []Sample
	for _, iv := range intervals(cues, from, to, timescale) {
		var texts []string
		for _, c := range iv.cues {
			texts = append(texts, c.Text)
		}
		out = append(out, Sample{Dur: iv.dur, Data: Tx3gSample(strings.Join(texts, "\n"))})
	}
	return out
}

// Tx3gSample encodes WebVTT cue text as a tx3g sample: plain UTF-8 text (tags dropped, character
// references decoded) and a 'styl' box for <b>, <i> and <u> runs.
func Tx3gSample(cueText string) []byte {
	runes, flags := plainText(cueText)
	text := string(runes)
	for len(text) > 0xffff { // the length field is 16 bits
		runes = runes[:len(runes)*3/4]
		text = string(runes)
	}
	b := binary.BigEndian.AppendUint16(nil, uint16(len(text)))
	b = append(b, text...)
	var runs []styleRun
	for i := 0; i < len(runes) && i < 0xffff; {
		j := i + 1
		for j < len(runes) && flags[j] == flags[i] {
			j++
		}
		if flags[i] != 0 {
			runs = append(runs, styleRun{start: i, end: min(j, 0xffff), flags: flags[i]})
		}
		i = j
	}
	if len(runs) == 0 || len(runs) > 0xffff/12 {
		return b
	}
	b = binary.BigEndian.AppendUint32(b, uint32(8+2+12*len(runs)))
	b = append(b, "styl"...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(runs)))
	for _, r := range runs {
		b = binary.BigEndian.AppendUint16(b, uint16(r.start))
		b = binary.BigEndian.AppendUint16(b, uint16(r.end))
		b = append(b, 0, 1, r.flags, 18, 0xff, 0xff, 0xff, 0xff)
	}
	return b
}

// plainText strips WebVTT markup, returning the characters and each one's style flags.
func plainText(cueText string) ([]rune, []byte) {
	var runes []rune
	var flags []byte
	var cur byte
	for s := cueText; s != ""; {
		lt := strings.IndexByte(s, '<')
		if lt < 0 {
			lt = len(s)
		}
		for _, r := range html.UnescapeString(s[:lt]) {
			runes, flags = append(runes, r), append(flags, cur)
		}
		s = s[lt:]
		if s == "" {
			break
		}
		gt := strings.IndexByte(s, '>')
		if gt < 0 {
			break
		}
		tag := strings.ToLower(strings.Fields(strings.Trim(s[1:gt], "/") + " x")[0])
		bit := map[string]byte{"b": 1, "i": 2, "u": 4}[strings.SplitN(tag, ".", 2)[0]]
		if strings.HasPrefix(s, "</") {
			cur &^= bit
		} else {
			cur |= bit
		}
		s = s[gt+1:]
	}
	return runes, flags
}
