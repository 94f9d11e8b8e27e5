package manifest

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// SmoothInfo is what a Smooth Streaming client manifest says, as ReadSmooth reads it.
type SmoothInfo struct {
	MajorVersion, MinorVersion string
	TimeScale                  uint64 // default 10000000
	Duration                   uint64 // in TimeScale units
	Live                       bool
	Protection                 []SmoothProtection
	Streams                    []SmoothStream
}

// SmoothProtection is one ProtectionHeader: the system ID as written and the decoded data (a
// PlayReady Object for PlayReady).
type SmoothProtection struct {
	SystemID string
	Data     []byte
}

// SmoothStream is one StreamIndex with its fragment times expanded.
type SmoothStream struct {
	Type, Name, Language, Subtype string
	URL                           string // the Url pattern
	TimeScale                     uint64 // the stream's, else the presentation's
	Chunks                        int    // the Chunks attribute (-1 when absent)
	Qualities                     []SmoothQuality
	Fragments                     []SegmentTime
}

// SmoothQuality is one QualityLevel.
type SmoothQuality struct {
	Index            int
	Bitrate          int64
	FourCC           string
	CodecPrivateData []byte
	MaxWidth         int
	MaxHeight        int
	SamplingRate     int
	Channels         int
}

// FragmentURL fills the stream's Url pattern for quality q and a fragment start time
// ([MS-SSTR] 2.2.2.4: {bitrate} or {Bitrate}, {start time} or {start_time}).
func (s *SmoothStream) FragmentURL(q SmoothQuality, start uint64) string {
	u := s.URL
	for _, p := range []string{"{bitrate}", "{Bitrate}"} {
		u = strings.ReplaceAll(u, p, strconv.FormatInt(q.Bitrate, 10))
	}
	for _, p := range []string{"{start time}", "{start_time}"} {
		u = strings.ReplaceAll(u, p, strconv.FormatUint(start, 10))
	}
	return u
}

type xSmooth struct {
	XMLName    xml.Name `xml:"SmoothStreamingMedia"`
	Major      string   `xml:"MajorVersion,attr"`
	Minor      string   `xml:"MinorVersion,attr"`
	TimeScale  string   `xml:"TimeScale,attr"`
	Duration   string   `xml:"Duration,attr"`
	IsLive     string   `xml:"IsLive,attr"`
	Protection []struct {
		Text     string `xml:",chardata"`
		SystemID string `xml:"SystemID,attr"`
	} `xml:"Protection>ProtectionHeader"`
	Streams []xStreamIndex `xml:"StreamIndex"`
}

type xStreamIndex struct {
	Type      string `xml:"Type,attr"`
	Name      string `xml:"Name,attr"`
	Language  string `xml:"Language,attr"`
	Subtype   string `xml:"Subtype,attr"`
	URL       string `xml:"Url,attr"`
	TimeScale string `xml:"TimeScale,attr"`
	Chunks    string `xml:"Chunks,attr"`
	Qualities []struct {
		Index        string `xml:"Index,attr"`
		Bitrate      string `xml:"Bitrate,attr"`
		FourCC       string `xml:"FourCC,attr"`
		CPD          string `xml:"CodecPrivateData,attr"`
		MaxWidth     string `xml:"MaxWidth,attr"`
		MaxHeight    string `xml:"MaxHeight,attr"`
		SamplingRate string `xml:"SamplingRate,attr"`
		Channels     string `xml:"Channels,attr"`
	} `xml:"QualityLevel"`
	Chunks2 []struct {
		T string `xml:"t,attr"`
		D string `xml:"d,attr"`
		R string `xml:"r,attr"`
	} `xml:"c"`
}

// ReadSmooth parses a Smooth Streaming client manifest (untrusted input): at most maxFragments
// fragments over all streams (more is a *LimitError), the document at most 32 MiB.
func ReadSmooth(r io.Reader, maxFragments int) (*SmoothInfo, error) {
	var x xSmooth
	if err := xml.NewDecoder(io.LimitReader(r, 32<<20)).Decode(&x); err != nil {
		return nil, fmt.Errorf("smooth: not a readable Smooth Streaming manifest: %w", err)
	}
	info := &SmoothInfo{MajorVersion: x.Major, MinorVersion: x.Minor, TimeScale: SmoothTimeScale,
		Live: strings.EqualFold(x.IsLive, "true")}
	var err error
	if x.TimeScale != "" {
		if info.TimeScale, err = positive("SmoothStreamingMedia TimeScale", x.TimeScale); err != nil {
			return nil, err
		}
	}
	if x.Duration != "" {
		if info.Duration, err = strconv.ParseUint(x.Duration, 10, 64); err != nil {
			return nil, fmt.Errorf("smooth: Duration %q is not a number", x.Duration)
		}
	}
	for i, p := range x.Protection {
		data, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(p.Text), ""))
		if err != nil {
			return nil, fmt.Errorf("smooth: ProtectionHeader %d is not base64: %w", i+1, err)
		}
		info.Protection = append(info.Protection, SmoothProtection{SystemID: p.SystemID, Data: data})
	}
	budget := &segBudget{left: maxFragments, max: maxFragments}
	for i, xs := range x.Streams {
		s, err := readSmoothStream(xs, info.TimeScale, budget)
		if err != nil {
			return nil, fmt.Errorf("smooth: StreamIndex %d: %w", i+1, err)
		}
		info.Streams = append(info.Streams, s)
	}
	return info, nil
}

func readSmoothStream(xs xStreamIndex, timescale uint64, budget *segBudget) (SmoothStream, error) {
	s := SmoothStream{Type: xs.Type, Name: xs.Name, Language: xs.Language, Subtype: xs.Subtype, URL: xs.URL,
		TimeScale: timescale, Chunks: -1}
	var err error
	if xs.TimeScale != "" {
		if s.TimeScale, err = positive("TimeScale", xs.TimeScale); err != nil {
			return s, err
		}
	}
	if xs.Chunks != "" {
		n, err := strconv.Atoi(xs.Chunks)
		if err != nil || n < 0 {
			return s, fmt.Errorf("Chunks %q is not a count", xs.Chunks)
		}
		s.Chunks = n
	}
	for i, xq := range xs.Qualities {
		q := SmoothQuality{FourCC: xq.FourCC}
		q.Index, err = optInt(xq.Index, i)
		if err == nil {
			q.Bitrate, err = strconv.ParseInt(xq.Bitrate, 10, 64)
		}
		if err != nil || q.Bitrate < 0 {
			return s, fmt.Errorf("QualityLevel %d: Index %q or Bitrate %q is not a number", i+1, xq.Index, xq.Bitrate)
		}
		if q.CodecPrivateData, err = hex.DecodeString(xq.CPD); err != nil {
			return s, fmt.Errorf("QualityLevel %d: CodecPrivateData is not hex: %w", i+1, err)
		}
		q.MaxWidth, _ = optInt(xq.MaxWidth, 0)
		q.MaxHeight, _ = optInt(xq.MaxHeight, 0)
		q.SamplingRate, _ = optInt(xq.SamplingRate, 0)
		q.Channels, _ = optInt(xq.Channels, 0)
		s.Qualities = append(s.Qualities, q)
	}
	return s, readChunks(&s, xs, budget)
}

// readChunks expands the c elements ([MS-SSTR] 2.2.2.6): an omitted t follows the previous
// fragment, an omitted d lasts until the next t, r repeats (one-based: the total count).
func readChunks(s *SmoothStream, xs xStreamIndex, budget *segBudget) error {
	var next uint64
	for i, c := range xs.Chunks2 {
		t, d, r := next, uint64(0), uint64(1)
		var err error
		if c.T != "" {
			if t, err = strconv.ParseUint(c.T, 10, 64); err != nil {
				return fmt.Errorf("c %d: t %q is not a number", i+1, c.T)
			}
		}
		if n := len(s.Fragments); n > 0 && s.Fragments[n-1].Duration == 0 {
			if t <= s.Fragments[n-1].Start {
				return fmt.Errorf("c %d: t %d does not follow the previous fragment", i+1, t)
			}
			s.Fragments[n-1].Duration = t - s.Fragments[n-1].Start
		}
		if c.D != "" {
			if d, err = strconv.ParseUint(c.D, 10, 64); err != nil {
				return fmt.Errorf("c %d: d %q is not a number", i+1, c.D)
			}
		} else if c.T == "" {
			return fmt.Errorf("c %d has neither t nor d", i+1)
		}
		if c.R != "" {
			if r, err = strconv.ParseUint(c.R, 10, 64); err != nil || r == 0 {
				return fmt.Errorf("c %d: r %q is not a repeat count", i+1, c.R)
			}
			if d == 0 {
				return fmt.Errorf("c %d repeats a fragment of unknown duration", i+1)
			}
		}
		for k := uint64(0); k < r; k++ {
			if budget.left <= 0 {
				return &LimitError{What: "fragments", Limit: budget.max}
			}
			budget.left--
			s.Fragments = append(s.Fragments, SegmentTime{Start: t, Duration: d})
			t += d
		}
		next = t
	}
	return nil
}

func positive(what, v string) (uint64, error) {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("smooth: %s %q is not a positive number", what, v)
	}
	return n, nil
}

func optInt(v string, def int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return def, err
	}
	return n, nil
}
