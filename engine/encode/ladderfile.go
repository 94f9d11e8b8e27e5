package encode

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// maxLadderFile bounds a ladder file; a real one is a few hundred bytes.
const maxLadderFile = 64 << 10

// SyntaxError is a ladder file that cannot be read: Line is 1-based (0 for JSON, where Offset
// is the byte offset when known).
type SyntaxError struct {
	Line   int
	Offset int64
	Reason string
}

func (e *SyntaxError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("ladder file line %d: %s", e.Line, e.Reason)
	}
	return "ladder file: " + e.Reason
}

// LoadLadder reads a ladder file (see ParseLadder). A ladder without a name is named after
// the file.
func LoadLadder(path string) (Ladder, error) {
	f, err := os.Open(path)
	if err != nil {
		return Ladder{}, fmt.Errorf("read ladder %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxLadderFile+1))
	if err != nil {
		return Ladder{}, fmt.Errorf("read ladder %s: %w", path, err)
	}
	l, err := ParseLadder(data)
	if err != nil {
		return Ladder{}, fmt.Errorf("ladder %s: %w", path, err)
	}
	if l.Name == "" {
		l.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	return l, nil
}

// ParseLadder reads a ladder in either of two formats and validates it (Ladder.Validate).
//
// JSON, when the first non-blank byte is '{' or '[': a Ladder object or a bare array of Rung
// objects with the JSON field names of Rung; bit rates are numbers (b/s) or strings ("3400k").
// Unknown fields are errors, so a misspelt field is not silently ignored.
//
// Text, otherwise: one rung per line, '#' starts a comment, blank lines are ignored:
//
//	ladder Studio HD                      # optional: the ladder's name
//	1920x1080  6000k                      # WIDTHxHEIGHT and video bit rate
//	720p       3400k  codec=hevc          # HEIGHTp: width from the master's aspect ratio
//	540p       1500k  audio=96k channels=2 name=small
//	360p        650k  audio=none          # no audio in this rung
//
// Options after the bit rate are codec= (h264, hevc, av1), profile= (baseline, main, high,
// main10), audio= (AAC bit rate, or none), channels= (1, 2, 6, 8) and name=.
func ParseLadder(data []byte) (Ladder, error) {
	if len(data) > maxLadderFile {
		return Ladder{}, &SyntaxError{Reason: fmt.Sprintf("larger than %d KiB; a ladder file is a short list of rungs",
			maxLadderFile>>10)}
	}
	trimmed := bytes.TrimSpace(data)
	var l Ladder
	var err error
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		l, err = parseLadderJSON(trimmed)
	} else {
		l, err = parseLadderText(data)
	}
	if err != nil {
		return Ladder{}, err
	}
	if err := l.Validate(); err != nil {
		return Ladder{}, err
	}
	return l, nil
}

func parseLadderJSON(data []byte) (Ladder, error) {
	var l Ladder
	var target any = &l
	if data[0] == '[' {
		target = &l.Rungs
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(target); err != nil {
		se := &SyntaxError{Reason: strings.TrimPrefix(err.Error(), "json: ")}
		var jse *json.SyntaxError
		switch {
		case errors.As(err, &jse):
			se.Offset = jse.Offset
		case errors.Is(err, io.ErrUnexpectedEOF):
			se.Reason = "the JSON ends before it is complete"
		}
		return Ladder{}, se
	}
	if dec.More() {
		return Ladder{}, &SyntaxError{Reason: "unexpected data after the JSON value"}
	}
	return l, nil
}

func parseLadderText(data []byte) (Ladder, error) {
	var l Ladder
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxLadderFile)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		if strings.EqualFold(fields[0], "ladder") {
			if len(l.Rungs) > 0 || l.Name != "" {
				return Ladder{}, &SyntaxError{Line: line, Reason: "the ladder line must come before the rungs, once"}
			}
			l.Name = strings.Join(fields[1:], " ")
			continue
		}
		r, err := parseRungLine(fields)
		if err != nil {
			return Ladder{}, &SyntaxError{Line: line, Reason: err.Error()}
		}
		l.Rungs = append(l.Rungs, r)
	}
	if err := sc.Err(); err != nil {
		return Ladder{}, &SyntaxError{Line: line + 1, Reason: err.Error()}
	}
	return l, nil
}

func parseRungLine(fields []string) (Rung, error) {
	var r Rung
	if len(fields) < 2 {
		return r, fmt.Errorf("%q: give a size and a video bit rate, e.g. \"1280x720 3400k\"", strings.Join(fields, " "))
	}
	var err error
	if r.Width, r.Height, err = ParseSize(fields[0]); err != nil {
		return r, err
	}
	if r.VideoBitrate, err = ParseBitrate(fields[1]); err != nil {
		return r, err
	}
	for _, opt := range fields[2:] {
		if err := r.setOption(opt); err != nil {
			return r, err
		}
	}
	return r, nil
}

func (r *Rung) setOption(opt string) error {
	key, val, ok := strings.Cut(opt, "=")
	if !ok || val == "" {
		return fmt.Errorf("%q: options are key=value (codec, profile, audio, channels, name)", opt)
	}
	var err error
	switch strings.ToLower(key) {
	case "codec":
		r.Codec, err = ParseCodec(val)
	case "profile":
		r.Profile = Profile(strings.ToLower(val))
	case "audio":
		if strings.EqualFold(val, "none") || strings.EqualFold(val, "off") {
			r.NoAudio = true
			return nil
		}
		r.AudioBitrate, err = ParseBitrate(val)
	case "channels":
		r.AudioChannels, err = strconv.Atoi(val)
		if err != nil {
			err = fmt.Errorf("channels %q: give a number (1, 2, 6 or 8)", val)
		}
	case "name":
		r.Name = val
	default:
		return fmt.Errorf("unknown option %q: use codec, profile, audio, channels or name", key)
	}
	return err
}

// ParseSize reads a rung size as a ladder file and a ladder editor take it: "1280x720",
// "720p" or "720" (a height; w is then 0, which Rung.Width reads as "from the master's aspect
// ratio"). It checks the form only; Rung.Validate checks the values.
func ParseSize(s string) (w, h int, err error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if a, b, ok := strings.Cut(t, "x"); ok {
		w, err1 := strconv.Atoi(a)
		h, err2 := strconv.Atoi(b)
		if err1 != nil || err2 != nil || w <= 0 || h <= 0 {
			return 0, 0, fmt.Errorf("size %q: use WIDTHxHEIGHT (1280x720) or HEIGHTp (720p)", s)
		}
		return w, h, nil
	}
	h, err = strconv.Atoi(strings.TrimSuffix(t, "p"))
	if err != nil || h <= 0 {
		return 0, 0, fmt.Errorf("size %q: use WIDTHxHEIGHT (1280x720) or HEIGHTp (720p)", s)
	}
	return 0, h, nil
}

// WriteText writes the ladder in the text format ParseLadder reads, with a header comment
// explaining it; defaults are left out so the file stays short.
func (l Ladder) WriteText(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# Satchel ladder: SIZE VIDEO-BITRATE [codec= profile= audio= channels= name=]\n")
	if l.Name != "" {
		fmt.Fprintf(&b, "ladder %s\n", l.Name)
	}
	for _, r := range l.Rungs {
		size := fmt.Sprintf("%dp", r.Height)
		if r.Width != 0 {
			size = fmt.Sprintf("%dx%d", r.Width, r.Height)
		}
		line := fmt.Sprintf("%-10s %s", size, r.VideoBitrate)
		b.WriteString(line + r.textOptions() + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// textOptions are the key=value options of a rung that differ from the defaults.
func (r Rung) textOptions() string {
	var b strings.Builder
	if r.Codec != "" && r.Codec != H264 {
		fmt.Fprintf(&b, " codec=%s", r.Codec)
	}
	if r.Profile != "" {
		fmt.Fprintf(&b, " profile=%s", r.Profile)
	}
	switch {
	case r.NoAudio:
		b.WriteString(" audio=none")
	case r.AudioBitrate != 0:
		fmt.Fprintf(&b, " audio=%s", r.AudioBitrate)
	}
	if r.AudioChannels != 0 && !r.NoAudio {
		fmt.Fprintf(&b, " channels=%d", r.AudioChannels)
	}
	if r.Name != "" {
		fmt.Fprintf(&b, " name=%s", r.Name)
	}
	return b.String()
}

// UnmarshalText parses a codec name with ParseCodec (so JSON ladders accept aliases).
func (c *Codec) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*c = ""
		return nil
	}
	v, err := ParseCodec(string(text))
	if err != nil {
		return err
	}
	*c = v
	return nil
}
