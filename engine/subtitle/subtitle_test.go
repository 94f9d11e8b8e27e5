package subtitle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

const testSubtitles = "../../testdata/subtitles/"

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestReadFiles(t *testing.T) {
	cases := []struct {
		file   string
		format Format
		want   []Cue
	}{
		{"multilang.en.srt", FormatSRT, []Cue{
			{Start: ms(500), End: ms(1900), Text: "Hello from the English track."},
			{Start: ms(2500), End: ms(4500), Text: "This cue crosses a segment boundary,\non <i>two</i> lines."},
			{Start: ms(5000), End: ms(5900), Text: "The end."},
		}},
		{"multilang.es.vtt", FormatWebVTT, []Cue{
			{ID: "uno", Start: ms(500), End: ms(1900), Settings: "line:85% align:center", Text: "Hola desde la pista en español."},
			{Start: ms(2500), End: ms(4500), Text: "Este subtítulo cruza un límite de segmento."},
			{Start: ms(5000), End: ms(5900), Text: "Fin."},
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			cues, format, err := ReadFile(testSubtitles + c.file)
			if err != nil || format != c.format {
				t.Fatalf("ReadFile: %v, %s", err, format)
			}
			if len(cues) != len(c.want) {
				t.Fatalf("%d cues: %+v", len(cues), cues)
			}
			for i := range cues {
				if cues[i] != c.want[i] {
					t.Errorf("cue %d = %+v, want %+v", i, cues[i], c.want[i])
				}
			}
		})
	}
}

func TestParseSRTVariants(t *testing.T) {
	in := "\ufeff1\r\n0:00:01.5 --> 0:00:02,25 X1:10\r\n<font color=\"red\">A & B</font> {\\an8}<I>x</I> 1 < 2\r\n\r\n\r\n" +
		"00:03,000 --> 00:04,000\r\nno counter, no hours\r\n"
	cues, err := ParseSRT([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Cue{{Start: ms(1500), End: ms(2250), Text: "A &amp; B <i>x</i> 1 &lt; 2"}, {Start: ms(3000), End: ms(4000), Text: "no counter, no hours"}}
	if len(cues) != 2 || cues[0] != want[0] || cues[1] != want[1] {
		t.Fatalf("got %+v", cues)
	}
	// UTF-16 with a byte-order mark.
	u16 := []byte{0xff, 0xfe}
	for _, r := range "1\n00:00:01,000 --> 00:00:02,000\nÉté\n" {
		u16 = append(u16, byte(r), byte(r>>8))
	}
	if cues, err := ParseSRT(u16); err != nil || len(cues) != 1 || cues[0].Text != "Été" {
		t.Fatalf("UTF-16: %+v %v", cues, err)
	}
	for name, bad := range map[string]string{
		"no timing":  "1\nhello\n",
		"backwards":  "1\n00:00:02,000 --> 00:00:01,000\nx\n",
		"latin1":     "1\n00:00:01,000 --> 00:00:02,000\n\xe9t\xe9\n",
		"bad timing": "1\n00:00:01 -> 00:00:02\nx\n",
	} {
		if _, err := ParseSRT([]byte(bad)); err == nil {
			t.Errorf("%s: no error", name)
		} else if name == "latin1" && !errors.Is(err, ErrNotUTF8) {
			t.Errorf("latin1: %v", err)
		}
	}
}

func TestParseWebVTTErrors(t *testing.T) {
	for name, bad := range map[string]string{
		"no header":   "00:01.000 --> 00:02.000\nx\n",
		"bad timing":  "WEBVTT\n\n00:01 --> 00:02\nx\n",
		"id only":     "WEBVTT\n\nid",
		"backwards":   "WEBVTT\n\n00:02.000 --> 00:01.000\nx\n",
		"bad hours":   "WEBVTT\n\n1:2:03.000 --> 00:04.000\nx\n",
		"not a style": "WEBVTT\n\nSTYLE x\n",
	} {
		if cues, err := ParseWebVTT([]byte(bad)); err == nil {
			t.Errorf("%s: no error, %+v", name, cues)
		}
	}
	cues, err := ParseWebVTT([]byte("WEBVTT - title\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\nSTYLE\n::cue { color: red }\n\nNOTE\nhi\n\n01:00:00.000 --> 01:00:01.000\nlate\n"))
	if err != nil || len(cues) != 1 || cues[0].Start != time.Hour {
		t.Fatalf("%+v %v", cues, err)
	}
}

func tx3gSample(text string, boxes ...[]byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(text)))
	b = append(b, text...)
	for _, x := range boxes {
		b = append(b, x...)
	}
	return b
}

func stylBox(runs ...styleRun) []byte {
	body := binary.BigEndian.AppendUint16(nil, uint16(len(runs)))
	for _, r := range runs {
		body = binary.BigEndian.AppendUint16(body, uint16(r.start))
		body = binary.BigEndian.AppendUint16(body, uint16(r.end))
		body = append(body, 0, 1, r.flags, 18, 255, 255, 255, 255)
	}
	return append(append(binary.BigEndian.AppendUint32(nil, uint32(8+len(body))), "styl"...), body...)
}

func TestTx3gText(t *testing.T) {
	cases := []struct {
		name   string
		sample []byte
		want   string
	}{
		{"plain", tx3gSample("Hello\n\nworld"), "Hello\nworld"},
		{"empty", tx3gSample(""), ""},
		{"styled", tx3gSample("été <b> x", stylBox(styleRun{0, 3, 2}, styleRun{8, 9, 5})), "<i>été</i> &lt;b&gt; <b><u>x</u></b>"},
		{"bad style run", tx3gSample("ab", stylBox(styleRun{5, 1, 1})), "ab"},
		{"utf16", []byte{0, 6, 0xfe, 0xff, 0, 'h', 0, 'i'}, "hi"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Tx3gText(c.sample)
			if err != nil || got != c.want {
				t.Fatalf("Tx3gText = %q, %v; want %q", got, err, c.want)
			}
		})
	}
	for _, bad := range [][]byte{nil, {0}, {0, 9, 'a'}, {0, 1, 0xff}} {
		if _, err := Tx3gText(bad); err == nil {
			t.Errorf("Tx3gText(%x): no error", bad)
		}
	}
}

func TestWvttRoundTrip(t *testing.T) {
	cues := []Cue{
		{ID: "a", Start: ms(500), End: ms(1900), Settings: "line:85%", Text: "one"},
		{Start: ms(1500), End: ms(4500), Text: "two &amp; more"},
	}
	// Segment [2 s, 4 s): cue two only, the whole segment.
	ss, err := WvttSamples(cues, 2*time.Second, 4*time.Second, 1000)
	if err != nil || len(ss) != 1 || ss[0].Dur != 2000 {
		t.Fatalf("%+v %v", ss, err)
	}
	// Segment [0, 2 s): gap, one, one+two, two.
	ss, err = WvttSamples(cues, 0, 2*time.Second, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var durs []uint32
	var got []Cue
	start := time.Duration(0)
	for _, s := range ss {
		durs = append(durs, s.Dur)
		end := start + ms(int(s.Dur))
		c, err := WvttCues(s.Data, start, end)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c...)
		start = end
	}
	if want := []uint32{500, 1000, 400, 100}; len(durs) != 4 || durs[0] != want[0] || durs[1] != want[1] || durs[2] != want[2] || durs[3] != want[3] {
		t.Fatalf("durations %v", durs)
	}
	if !bytes.Contains(ss[0].Data, []byte("vtte")) {
		t.Fatal("gap sample is not vtte")
	}
	merged := Merge(got)
	if len(merged) != 2 || merged[0] != (Cue{ID: "a", Start: ms(500), End: ms(1900), Settings: "line:85%", Text: "one"}) ||
		merged[1].Start != ms(1500) || merged[1].End != 2*time.Second {
		t.Fatalf("merged %+v", merged)
	}
}

func TestWriteSegment(t *testing.T) {
	cues, _, _ := ReadFile(testSubtitles + "multilang.es.vtt")
	var b bytes.Buffer
	if err := WriteSegment(&b, cues, 4*time.Second, 6*time.Second); err != nil {
		t.Fatal(err)
	}
	want := "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n" +
		"00:00:02.500 --> 00:00:04.500\nEste subtítulo cruza un límite de segmento.\n\n" +
		"00:00:05.000 --> 00:00:05.900\nFin.\n"
	if b.String() != want {
		t.Fatalf("got\n%s", b.String())
	}
	back, err := ParseWebVTT(b.Bytes())
	if err != nil || len(back) != 2 {
		t.Fatalf("segment does not parse back: %v", err)
	}
	if strings.Count(b.String(), "-->") != 2 {
		t.Fatal("cue count")
	}
}

func FuzzParseSRT(f *testing.F) {
	f.Add([]byte("1\n00:00:01,000 --> 00:00:02,000\n<i>x</i> & y\n"))
	f.Add([]byte("\ufeff0:01.5 --> 0:02,25\n{\\an8}a\n\n\n2\n00:00:03,000 --> 00:00:04,000\nb"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cues, err := ParseSRT(b)
		checkCues(t, cues, err)
	})
}

func FuzzParseWebVTT(f *testing.F) {
	f.Add([]byte("WEBVTT\n\nid\n00:01.000 --> 00:02.000 line:0\nx\n"))
	f.Add([]byte("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0\n\nNOTE x\n\n01:00:00.000 --> 01:00:01.000\ny"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cues, err := ParseWebVTT(b)
		checkCues(t, cues, err)
	})
}

// checkCues asserts what every parsed cue must satisfy, and that it survives a WebVTT segment
// and a wvtt sample round trip.
func checkCues(t *testing.T, cues []Cue, err error) {
	if err != nil {
		return
	}
	for _, c := range cues {
		if c.End <= c.Start || strings.Contains(c.Text, "\n\n") || strings.Contains(c.Text, "-->") {
			t.Fatalf("bad cue %+v", c)
		}
	}
	var b bytes.Buffer
	if err := WriteSegment(&b, cues, 0, End(cues)); err != nil {
		t.Fatal(err)
	}
	back, err := ParseWebVTT(b.Bytes())
	if err != nil || len(back) != len(cues) {
		t.Fatalf("written segment reads back as %d cues (%v), want %d:\n%s", len(back), err, len(cues), b.String())
	}
	if len(cues) > 0 && End(cues) < time.Hour {
		if _, err := WvttSamples(cues, 0, End(cues), 1000); err != nil {
			t.Fatal(err)
		}
	}
}

func FuzzTx3gText(f *testing.F) {
	f.Add(tx3gSample("été <b> x", stylBox(styleRun{0, 3, 2}, styleRun{8, 9, 5})))
	f.Add([]byte{0, 6, 0xfe, 0xff, 0, 'h', 0, 'i'})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Tx3gText(b)
		if err == nil && (strings.Contains(s, "\n\n") || strings.Contains(s, "-->")) {
			t.Fatalf("unsafe cue text %q", s)
		}
	})
}

func FuzzWvttCues(f *testing.F) {
	ss, _ := WvttSamples([]Cue{{ID: "a", Start: 0, End: time.Second, Settings: "line:0", Text: "x"}}, 0, 2*time.Second, 1000)
	for _, s := range ss {
		f.Add(s.Data)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = WvttCues(b, 0, time.Second)
	})
}

func TestTx3gWriteRoundTrip(t *testing.T) {
	for _, text := range []string{"plain", "This cue,\non <i>two</i> lines &amp; more", "<b>bold <i>both</i></b> <c.yellow>x</c> &lt;3 été"} {
		got, err := Tx3gText(Tx3gSample(text))
		want := text
		if strings.Contains(text, "<c.") {
			want = "<b>bold </b><b><i>both</i></b> x &lt;3 été"
		}
		if err != nil || got != want {
			t.Errorf("round trip of %q = %q, %v; want %q", text, got, err, want)
		}
	}
	for _, forced := range []bool{false, true} {
		e, err := Tx3gEntry(forced)
		if err != nil || e.Type() != "tx3g" {
			t.Fatalf("Tx3gEntry: %v %v", e, err)
		}
		var b bytes.Buffer
		if err := e.Encode(&b); err != nil {
			t.Fatal(err)
		}
		if flags := binary.BigEndian.Uint32(b.Bytes()[16:]); (flags&tx3gAllForced != 0) != forced {
			t.Errorf("forced %v: display flags %x", forced, flags)
		}
	}
	ss := Tx3gSamples([]Cue{{Start: ms(500), End: ms(1500), Text: "a"}, {Start: ms(1000), End: ms(2000), Text: "b"}}, 0, 2*time.Second, 1000)
	var texts []string
	for _, s := range ss {
		txt, _ := Tx3gText(s.Data)
		texts = append(texts, fmt.Sprintf("%d:%s", s.Dur, txt))
	}
	if strings.Join(texts, "|") != "500:|500:a|500:a\nb|500:b" {
		t.Fatalf("samples %q", texts)
	}
}
