package encode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Master is a probed source file: any container and codec ffmpeg reads (MOV/ProRes, MXF, MKV,
// MP4, …).
type Master struct {
	Path      string        `json:"path"`
	Size      int64         `json:"size"`
	ModTime   time.Time     `json:"mod_time"`
	Container string        `json:"container"` // ffprobe's format name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
	Duration  time.Duration `json:"duration_ns"`
	Bitrate   int64         `json:"bitrate"` // whole file, b/s
	Video     VideoInfo     `json:"video"`
	Audio     *AudioInfo    `json:"audio,omitempty"` // nil: the master has no audio
}

// VideoInfo describes the master's video stream (the first one that is not cover art).
type VideoInfo struct {
	Index   int    `json:"index"` // stream index in the file
	Codec   string `json:"codec"`
	Profile string `json:"profile,omitempty"`
	PixFmt  string `json:"pix_fmt,omitempty"`
	// Width and Height are the display size: stored size corrected for non-square pixels and
	// rotation, which is what ffmpeg's decoder hands the filters (it applies rotation).
	Width  int `json:"width"`
	Height int `json:"height"`
	// StoredWidth and StoredHeight are the coded picture size.
	StoredWidth  int `json:"stored_width"`
	StoredHeight int `json:"stored_height"`
	Rotation     int `json:"rotation,omitempty"` // degrees
	// FrameRate is the constant rate Satchel encodes at (see chooseFrameRate).
	FrameRate  Rational `json:"frame_rate"`
	Interlaced bool     `json:"interlaced,omitempty"`
	// Bitrate is the video bit rate in b/s; BitrateEstimated says it was derived from the
	// file's overall rate minus the audio (MKV and some MOVs do not state it).
	Bitrate          int64 `json:"bitrate"`
	BitrateEstimated bool  `json:"bitrate_estimated,omitempty"`
}

// AudioInfo describes the master's first audio stream.
type AudioInfo struct {
	Index      int    `json:"index"`
	Codec      string `json:"codec"`
	Channels   int    `json:"channels"`
	SampleRate int    `json:"sample_rate"`
	Bitrate    int64  `json:"bitrate,omitempty"`
}

// Frames is the number of frames the master yields at its encoding frame rate.
func (m *Master) Frames() int64 {
	return int64(math.Round(m.Duration.Seconds() * m.Video.FrameRate.Float()))
}

// widthFor is the even width that keeps the display aspect ratio at height h.
func (m *Master) widthFor(h int) int {
	if m.Video.Height == 0 {
		return even(h * 16 / 9)
	}
	return max(2, even(h*m.Video.Width/m.Video.Height))
}

// heightFor is the even height that keeps the display aspect ratio at width w.
func (m *Master) heightFor(w int) int {
	if m.Video.Width == 0 {
		return even(w * 9 / 16)
	}
	return max(2, even(w*m.Video.Height/m.Video.Width))
}

// sizeForShortSide is the rung size whose shorter side is s (the height for landscape video).
func (m *Master) sizeForShortSide(s int) (w, h int) {
	if m.Video.Width < m.Video.Height {
		return s, m.heightFor(s)
	}
	return m.widthFor(s), s
}

// Rational is a frame rate as ffmpeg writes it ("24000/1001").
type Rational struct{ Num, Den int }

// Float is the rate as a number (0 when undefined).
func (r Rational) Float() float64 {
	if r.Den == 0 {
		return 0
	}
	return float64(r.Num) / float64(r.Den)
}

func (r Rational) String() string { return fmt.Sprintf("%d/%d", r.Num, r.Den) }

// MarshalText writes "num/den".
func (r Rational) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads "num/den" or a whole number.
func (r *Rational) UnmarshalText(b []byte) error {
	v, ok := parseRational(string(b))
	if !ok {
		return fmt.Errorf("frame rate %q: want num/den", b)
	}
	*r = v
	return nil
}

func parseRational(s string) (Rational, bool) {
	a, b, found := strings.Cut(strings.TrimSpace(s), "/")
	if !found {
		b = "1"
	}
	n, err1 := strconv.Atoi(a)
	d, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || n <= 0 || d <= 0 || n > 1<<30 || d > 1<<30 {
		return Rational{}, false
	}
	return Rational{n, d}, true
}

// Master problems, wrapped in a *MasterError.
var (
	ErrMasterMissing = errors.New("does not exist")
	ErrNotMedia      = errors.New("is not a video file ffmpeg can read")
	ErrNoVideo       = errors.New("has no video stream")
	ErrStillImage    = errors.New("is a still image, not a video")
)

// MasterError is a master file Satchel cannot encode from. Err is one of ErrMasterMissing,
// ErrNotMedia, ErrNoVideo or ErrStillImage; Detail is what ffprobe said, when it said
// something.
type MasterError struct {
	Path   string
	Err    error
	Detail string
}

func (e *MasterError) Error() string {
	s := fmt.Sprintf("master %s %v", filepath.Base(e.Path), e.Err)
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

func (e *MasterError) Unwrap() error { return e.Err }

// ProbeMaster reads a master's streams with ffprobe (tools resolves where ffprobe is). The
// error is a *MasterError for a file that is missing, not media, or has no moving video.
func ProbeMaster(ctx context.Context, tools Tools, path string) (*Master, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, &MasterError{Path: path, Err: ErrMasterMissing}
	case err != nil:
		return nil, fmt.Errorf("probe master %s: %w", path, err)
	case st.IsDir():
		return nil, &MasterError{Path: path, Err: ErrNotMedia, Detail: "it is a folder"}
	}
	t, err := tools.resolve()
	if err != nil {
		return nil, err
	}
	args := []string{"-v", "error", "-print_format", "json", "-show_format", "-show_streams", fileArg(path)}
	out, stderr, err := runCapture(ctx, t.FFprobe, args)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, &MasterError{Path: path, Err: ErrNotMedia, Detail: firstLine(stderr)}
	}
	m, err := parseProbe(out, path)
	if err != nil {
		return nil, err
	}
	m.Size, m.ModTime = st.Size(), st.ModTime()
	return m, nil
}

// ffprobe's -print_format json output, the fields Satchel reads.
type probeJSON struct {
	Streams []probeStream `json:"streams"`
	Format  struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
		BitRate    string `json:"bit_rate"`
	} `json:"format"`
}

type probeStream struct {
	Index        int               `json:"index"`
	CodecName    string            `json:"codec_name"`
	CodecType    string            `json:"codec_type"`
	Profile      string            `json:"profile"`
	Width        int               `json:"width"`
	Height       int               `json:"height"`
	SAR          string            `json:"sample_aspect_ratio"`
	PixFmt       string            `json:"pix_fmt"`
	FieldOrder   string            `json:"field_order"`
	RFrameRate   string            `json:"r_frame_rate"`
	AvgFrameRate string            `json:"avg_frame_rate"`
	Duration     string            `json:"duration"`
	BitRate      string            `json:"bit_rate"`
	NbFrames     string            `json:"nb_frames"`
	Channels     int               `json:"channels"`
	SampleRate   string            `json:"sample_rate"`
	Disposition  map[string]int    `json:"disposition"`
	Tags         map[string]string `json:"tags"`
	SideData     []struct {
		Type     string  `json:"side_data_type"`
		Rotation float64 `json:"rotation"`
	} `json:"side_data_list"`
}

// maxProbeDimension bounds the picture size Satchel believes (16K is 15360 wide).
const maxProbeDimension = 1 << 15

// parseProbe turns ffprobe's JSON into a Master. path is only used in errors.
func parseProbe(data []byte, path string) (*Master, error) {
	var p probeJSON
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, &MasterError{Path: path, Err: ErrNotMedia, Detail: "unreadable ffprobe output: " + err.Error()}
	}
	m := &Master{Path: path, Container: p.Format.FormatName}
	m.Duration = parseSeconds(p.Format.Duration)
	m.Bitrate, _ = strconv.ParseInt(p.Format.BitRate, 10, 64)
	var video *probeStream
	for i := range p.Streams {
		s := &p.Streams[i]
		switch {
		case s.CodecType == "video" && video == nil && s.Disposition["attached_pic"] == 0 &&
			s.Width > 0 && s.Height > 0 && s.Width <= maxProbeDimension && s.Height <= maxProbeDimension:
			video = s
		case s.CodecType == "audio" && m.Audio == nil && s.Channels > 0 && s.Channels <= 64:
			rate, _ := strconv.Atoi(s.SampleRate)
			br, _ := strconv.ParseInt(s.BitRate, 10, 64)
			m.Audio = &AudioInfo{Index: s.Index, Codec: s.CodecName, Channels: s.Channels, SampleRate: rate, Bitrate: br}
		}
	}
	if video == nil {
		return nil, &MasterError{Path: path, Err: ErrNoVideo, Detail: streamSummary(p.Streams)}
	}
	if isStill(p.Format.FormatName, video, m.Duration) {
		return nil, &MasterError{Path: path, Err: ErrStillImage, Detail: video.CodecName}
	}
	if d := parseSeconds(video.Duration); m.Duration == 0 || (d > 0 && d < m.Duration) {
		m.Duration = d // the video's own length: trailing audio is not encoded into the rungs
	}
	m.Video = videoInfo(video)
	if m.Video.FrameRate.Den == 0 {
		return nil, &MasterError{Path: path, Err: ErrNotMedia, Detail: "the video stream has no frame rate"}
	}
	if m.Video.Bitrate == 0 && m.Bitrate > 0 {
		m.Video.Bitrate, m.Video.BitrateEstimated = m.Bitrate, true
		if m.Audio != nil {
			m.Video.Bitrate -= m.Audio.Bitrate
		}
	}
	return m, nil
}

func videoInfo(s *probeStream) VideoInfo {
	v := VideoInfo{Index: s.Index, Codec: s.CodecName, Profile: s.Profile, PixFmt: s.PixFmt,
		StoredWidth: s.Width, StoredHeight: s.Height}
	v.Bitrate, _ = strconv.ParseInt(s.BitRate, 10, 64)
	v.Width, v.Height = s.Width, s.Height
	if sar, ok := parseRational(strings.Replace(s.SAR, ":", "/", 1)); ok && sar.Num != sar.Den {
		v.Width = even(int(math.Round(float64(s.Width) * sar.Float())))
	}
	v.Rotation = rotation(s)
	if v.Rotation == 90 || v.Rotation == 270 {
		v.Width, v.Height = v.Height, v.Width
	}
	switch s.FieldOrder {
	case "tt", "bb", "tb", "bt":
		v.Interlaced = true
	}
	v.FrameRate = chooseFrameRate(s.AvgFrameRate, s.RFrameRate)
	return v
}

// rotation is the display rotation in degrees, normalised to 0, 90, 180 or 270.
func rotation(s *probeStream) int {
	deg := 0.0
	for _, sd := range s.SideData {
		if sd.Type == "Display Matrix" {
			deg = sd.Rotation
		}
	}
	if r, err := strconv.ParseFloat(s.Tags["rotate"], 64); err == nil && deg == 0 {
		deg = r
	}
	if math.IsNaN(deg) || math.IsInf(deg, 0) {
		return 0
	}
	r := int(math.Round(deg/90)) * 90 % 360
	if r < 0 {
		r += 360
	}
	return r
}

// standardRates are the frame rates a master's measured rate snaps to: the nearest one, when
// within 0.05 % (24 and 23.976 are 0.1 % apart).
var standardRates = []Rational{{24000, 1001}, {24, 1}, {25, 1}, {30000, 1001}, {30, 1}, {48, 1}, {50, 1},
	{60000, 1001}, {60, 1}, {100, 1}, {120000, 1001}, {120, 1}}

// chooseFrameRate picks the constant rate to encode at. The average rate is the truth for
// variable-rate sources (phones); r_frame_rate is the container's nominal rate, exact for
// constant-rate sources. A rate near a standard one snaps to it, so 29.97 stays 30000/1001
// and every rung gets the same exact frame duration.
func chooseFrameRate(avg, nominal string) Rational {
	a, aok := parseRational(avg)
	n, nok := parseRational(nominal)
	pick := a
	switch {
	case !aok && !nok:
		return Rational{}
	case !aok || a.Float() > 240 || a.Float() < 1:
		pick = n
	case nok && math.Abs(n.Float()-a.Float()) < 0.005*a.Float():
		pick = n
	}
	f := pick.Float()
	if f < 1 || f > 240 {
		return Rational{}
	}
	best, bestDiff := Rational{}, 0.0005*f
	for _, s := range standardRates {
		if d := math.Abs(s.Float() - f); d < bestDiff {
			best, bestDiff = s, d
		}
	}
	if best.Den != 0 {
		return best
	}
	if pick.Den <= 1001 {
		return pick
	}
	return Rational{int(math.Round(f * 1000)), 1000}
}

func isStill(format string, v *probeStream, dur time.Duration) bool {
	if strings.Contains(format, "image2") || strings.HasSuffix(format, "_pipe") {
		return true
	}
	if v.Disposition["still_image"] == 1 {
		return true
	}
	frames, err := strconv.Atoi(v.NbFrames)
	return (err == nil && frames == 1) || dur <= 0
}

func parseSeconds(s string) time.Duration {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f <= 0 || f > 1e7 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

func streamSummary(streams []probeStream) string {
	if len(streams) == 0 {
		return "no streams at all"
	}
	var parts []string
	for _, s := range streams {
		kind := s.CodecType
		if s.Disposition["attached_pic"] == 1 {
			kind = "cover art"
		}
		parts = append(parts, fmt.Sprintf("%s %s", kind, s.CodecName))
	}
	return "streams: " + strings.Join(parts, ", ")
}

func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(bytes.TrimSpace(b), []byte("\n"))
	s := strings.TrimSpace(string(line))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
