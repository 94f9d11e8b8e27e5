package manifest

import (
	"bufio"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"satchel/engine/drm"
	"satchel/internal/isodur"
)

// MPDInfo is what the checker needs from a DASH MPD (Satchel's or another packager's).
type MPDInfo struct {
	// Type is "static" (VOD) or "dynamic" (live); only a static MPD can be downloaded for
	// offline playback, but both are read.
	Type     string
	Duration time.Duration
	// MaxSegmentDuration is the MPD@maxSegmentDuration (0 when absent).
	MaxSegmentDuration time.Duration
	AdaptationSets     []AdaptationSetInfo
	Representations    []RepresentationInfo // all, in order
}

// AdaptationSetInfo is one AdaptationSet.
type AdaptationSetInfo struct {
	// Element locates the AdaptationSet: "Period[0]/AdaptationSet[video]" (the contentType,
	// else the id, else the 0-based position).
	Element       string
	ContentType   string
	MimeType      string
	Lang          string
	Label         string
	Roles         []string // Role values of the urn:mpeg:dash:role:2011 scheme
	Accessibility []string // Accessibility values, as scheme#value
	Protection    []ProtectionInfo
	// ID is the AdaptationSet@id as written ("" when absent).
	ID string
	// FrameRate, MaxPlayoutRate and CodingDependency are the AdaptationSet's attributes as
	// written ("" when absent); a trick-mode set carries the last two (DASH-IF IOP 3.2.9).
	FrameRate        string
	MaxPlayoutRate   string
	CodingDependency string
	// Essential and Supplemental are its EssentialProperty and SupplementalProperty
	// descriptors.
	Essential    []Descriptor
	Supplemental []Descriptor
}

// Descriptor is a DASH descriptor element (EssentialProperty, SupplementalProperty…).
type Descriptor struct{ SchemeIDURI, Value string }

// TrickModeScheme is the descriptor scheme of a DASH-IF trick-mode AdaptationSet; its value
// is the id of the AdaptationSet it is the trick mode of.
const TrickModeScheme = "http://dashif.org/guidelines/trickmode"

// TrickModeOf returns the id of the AdaptationSet a trick-mode set is the trick mode of (its
// EssentialProperty, else SupplementalProperty, of the trick-mode scheme), or false.
func (a AdaptationSetInfo) TrickModeOf() (string, bool) {
	for _, list := range [][]Descriptor{a.Essential, a.Supplemental} {
		for _, d := range list {
			if d.SchemeIDURI == TrickModeScheme {
				return strings.TrimSpace(d.Value), true
			}
		}
	}
	return "", false
}

// ProtectionInfo is one ContentProtection element.
type ProtectionInfo struct {
	// Element locates it: "Period[0]/AdaptationSet[video]/ContentProtection[2]".
	Element     string
	SchemeIDURI string
	Value       string
	DefaultKID  string // as written (UUID)
	PSSH        []byte // decoded cenc:pssh (full box)
	PRO         []byte // decoded mspr:pro
	LAURL       string
}

// RepresentationInfo is one Representation with resolved segment URLs (relative to the MPD
// location, as written: BaseURLs and templates applied).
type RepresentationInfo struct {
	ID          string
	ContentType string
	Bandwidth   int64
	Codecs      string
	Width       int
	Height      int
	Lang        string // the AdaptationSet's lang
	// AdaptationSet is the index of its AdaptationSet in MPDInfo.AdaptationSets.
	AdaptationSet int
	// AudioChannels is the AudioChannelConfiguration value (a count, or a Dolby channel map
	// in hex) and AudioChannelScheme its schemeIdUri.
	AudioChannels      string
	AudioChannelScheme string
	Protection         []ProtectionInfo // the Representation's own plus its AdaptationSet's
	InitURL            string
	SegmentURLs        []string
	// SingleFile is set for SegmentBase / BaseURL-only representations (one file).
	SingleFile bool
	// Element locates the Representation: "Period[0]/AdaptationSet[video]/Representation[240p]".
	Element string
	// Timescale and Timeline give each segment's start and duration (parallel to SegmentURLs)
	// when the SegmentTemplate says them; Timeline is nil otherwise.
	Timescale uint64
	Timeline  []SegmentTime
	// ExplicitStarts marks the segments whose start was written as S@t (not derived).
	ExplicitStarts []bool
	// FrameRate, MaxPlayoutRate and CodingDependency are the Representation's attributes, else
	// its AdaptationSet's, as written ("" when neither has them).
	FrameRate        string
	MaxPlayoutRate   string
	CodingDependency string
}

// SegmentTime is one segment's start and duration in the representation's timescale.
type SegmentTime struct{ Start, Duration uint64 }

// LimitError says that a manifest exceeds a limit the reader enforces against hostile input.
type LimitError struct {
	What  string // "segments"
	Limit int
}

func (e *LimitError) Error() string { return fmt.Sprintf("more than %d %s", e.Limit, e.What) }

type xMPD struct {
	Type     string    `xml:"type,attr"`
	MaxSeg   string    `xml:"maxSegmentDuration,attr"`
	Duration string    `xml:"mediaPresentationDuration,attr"`
	BaseURL  string    `xml:"BaseURL"`
	Periods  []xPeriod `xml:"Period"`
}

type xPeriod struct {
	BaseURL string `xml:"BaseURL"`
	Sets    []xSet `xml:"AdaptationSet"`
}

type xProt struct {
	Scheme string `xml:"schemeIdUri,attr"`
	Value  string `xml:"value,attr"`
	KID    string `xml:"urn:mpeg:cenc:2013 default_KID,attr"`
	PSSH   string `xml:"urn:mpeg:cenc:2013 pssh"`
	PRO    string `xml:"urn:microsoft:playready pro"`
	LAURL1 string `xml:"laurl"`
	LAURL2 string `xml:"Laurl"`
}

type xTemplate struct {
	Timescale      uint64 `xml:"timescale,attr"`
	Init           string `xml:"initialization,attr"`
	Media          string `xml:"media,attr"`
	StartNumber    *int   `xml:"startNumber,attr"`
	Duration       uint64 `xml:"duration,attr"`
	PresentationTO uint64 `xml:"presentationTimeOffset,attr"`
	Timeline       []struct {
		T *uint64 `xml:"t,attr"`
		D uint64  `xml:"d,attr"`
		R int     `xml:"r,attr"`
	} `xml:"SegmentTimeline>S"`
}

type xSet struct {
	ID          string        `xml:"id,attr"`
	FrameRate   string        `xml:"frameRate,attr"`
	MaxPlayout  string        `xml:"maxPlayoutRate,attr"`
	CodingDep   string        `xml:"codingDependency,attr"`
	Essential   []xDescriptor `xml:"EssentialProperty"`
	Supplement  []xDescriptor `xml:"SupplementalProperty"`
	ContentType string        `xml:"contentType,attr"`
	MimeType    string        `xml:"mimeType,attr"`
	Lang        string        `xml:"lang,attr"`
	Label       string        `xml:"Label"`
	Roles       []xDescriptor `xml:"Role"`
	Access      []xDescriptor `xml:"Accessibility"`
	BaseURL     string        `xml:"BaseURL"`
	Prot        []xProt       `xml:"ContentProtection"`
	Template    *xTemplate    `xml:"SegmentTemplate"`
	Reps        []struct {
		ID        string        `xml:"id,attr"`
		Bandwidth int64         `xml:"bandwidth,attr"`
		Codecs    string        `xml:"codecs,attr"`
		MimeType  string        `xml:"mimeType,attr"`
		Width     int           `xml:"width,attr"`
		Height    int           `xml:"height,attr"`
		FrameRate string        `xml:"frameRate,attr"`
		MaxPlay   string        `xml:"maxPlayoutRate,attr"`
		CodingDep string        `xml:"codingDependency,attr"`
		BaseURL   string        `xml:"BaseURL"`
		Prot      []xProt       `xml:"ContentProtection"`
		Template  *xTemplate    `xml:"SegmentTemplate"`
		Base      *struct{}     `xml:"SegmentBase"`
		Channels  []xDescriptor `xml:"AudioChannelConfiguration"`
	} `xml:"Representation"`
}

type xDescriptor struct {
	Scheme string `xml:"schemeIdUri,attr"`
	Value  string `xml:"value,attr"`
}

// maxSegments bounds template expansion so a hostile MPD cannot exhaust memory.
const maxSegments = 100000

// ReadMPD parses an MPD with the default bound of 100,000 segments in all.
func ReadMPD(r io.Reader) (*MPDInfo, error) { return ReadMPDLimit(r, maxSegments) }

// ReadMPDLimit parses a static or dynamic MPD, expanding at most maxTotal segment URLs over
// all representations; more is a *LimitError (wrapped). A dynamic MPD is read as far as it is
// listed (SegmentTimeline r=-1 repeats up to the next S@t).
func ReadMPDLimit(r io.Reader, maxTotal int) (*MPDInfo, error) {
	var x xMPD
	if err := xml.NewDecoder(io.LimitReader(r, 32<<20)).Decode(&x); err != nil {
		return nil, fmt.Errorf("mpd: not a readable MPD: %w", err)
	}
	info := &MPDInfo{Type: x.Type}
	if info.Type == "" {
		info.Type = "static"
	}
	if x.Duration != "" {
		d, err := isodur.Parse(x.Duration)
		if err != nil {
			return nil, fmt.Errorf("mpd: mediaPresentationDuration: %w", err)
		}
		info.Duration = d
	}
	if x.MaxSeg != "" {
		if d, err := isodur.Parse(x.MaxSeg); err == nil {
			info.MaxSegmentDuration = d
		}
	}
	if len(x.Periods) == 0 {
		return nil, fmt.Errorf("mpd: no Period")
	}
	budget := &segBudget{left: maxTotal, max: maxTotal}
	for pi, per := range x.Periods {
		for si, set := range per.Sets {
			if err := readSet(info, &x, pi, si, per, set, budget); err != nil {
				return nil, err
			}
		}
	}
	if len(info.Representations) == 0 {
		return nil, fmt.Errorf("mpd: no Representation")
	}
	return info, nil
}

func setName(set xSet, si int) string {
	switch {
	case set.ContentType != "":
		return set.ContentType
	case set.ID != "":
		return set.ID
	case strings.HasPrefix(set.MimeType, "video"):
		return "video"
	case strings.HasPrefix(set.MimeType, "audio"):
		return "audio"
	}
	return strconv.Itoa(si)
}

// segBudget counts the segment URLs still allowed over the whole MPD.
type segBudget struct{ left, max int }

func readSet(info *MPDInfo, x *xMPD, pi, si int, per xPeriod, set xSet, budget *segBudget) error {
	el := fmt.Sprintf("Period[%d]/AdaptationSet[%s]", pi, setName(set, si))
	ai := AdaptationSetInfo{Element: el, ContentType: set.ContentType, MimeType: set.MimeType, Lang: set.Lang,
		Label: strings.TrimSpace(set.Label), ID: set.ID, FrameRate: set.FrameRate, MaxPlayoutRate: set.MaxPlayout,
		CodingDependency: set.CodingDep}
	for _, d := range set.Essential {
		ai.Essential = append(ai.Essential, Descriptor{SchemeIDURI: strings.TrimSpace(d.Scheme), Value: d.Value})
	}
	for _, d := range set.Supplement {
		ai.Supplemental = append(ai.Supplemental, Descriptor{SchemeIDURI: strings.TrimSpace(d.Scheme), Value: d.Value})
	}
	for _, r := range set.Roles {
		if r.Scheme == "urn:mpeg:dash:role:2011" {
			ai.Roles = append(ai.Roles, r.Value)
		}
	}
	for _, a := range set.Access {
		ai.Accessibility = append(ai.Accessibility, a.Scheme+"#"+a.Value)
	}
	for i, p := range set.Prot {
		pi, err := protInfo(p)
		if err != nil {
			return err
		}
		pi.Element = fmt.Sprintf("%s/ContentProtection[%d]", el, i)
		ai.Protection = append(ai.Protection, pi)
	}
	info.AdaptationSets = append(info.AdaptationSets, ai)
	for _, rep := range set.Reps {
		ri := RepresentationInfo{ID: rep.ID, ContentType: set.ContentType, Bandwidth: rep.Bandwidth, Codecs: rep.Codecs,
			Width: rep.Width, Height: rep.Height, Lang: set.Lang, Element: fmt.Sprintf("%s/Representation[%s]", el, rep.ID),
			AdaptationSet: len(info.AdaptationSets) - 1, FrameRate: firstOf(rep.FrameRate, set.FrameRate),
			MaxPlayoutRate: firstOf(rep.MaxPlay, set.MaxPlayout), CodingDependency: firstOf(rep.CodingDep, set.CodingDep)}
		if len(rep.Channels) > 0 {
			ri.AudioChannels, ri.AudioChannelScheme = rep.Channels[0].Value, rep.Channels[0].Scheme
		}
		if ri.ContentType == "" {
			mt := set.MimeType + rep.MimeType
			switch {
			case strings.HasPrefix(mt, "video"):
				ri.ContentType = "video"
			case strings.HasPrefix(mt, "audio"):
				ri.ContentType = "audio"
			case strings.HasPrefix(mt, "text"), strings.HasPrefix(mt, "application"):
				ri.ContentType = "text"
			}
		}
		ri.Protection = append(ri.Protection, ai.Protection...)
		for i, p := range rep.Prot {
			pi, err := protInfo(p)
			if err != nil {
				return err
			}
			pi.Element = fmt.Sprintf("%s/ContentProtection[%d]", ri.Element, i)
			ri.Protection = append(ri.Protection, pi)
		}
		base := joinBase(x.BaseURL, per.BaseURL, set.BaseURL, rep.BaseURL)
		tpl := rep.Template
		if tpl == nil {
			tpl = set.Template
		}
		switch {
		case tpl != nil:
			if err := expandTemplate(&ri, tpl, base, info.Duration, budget); err != nil {
				return fmt.Errorf("mpd: representation %s: %w", rep.ID, err)
			}
		case base != "":
			ri.SingleFile = true
			ri.InitURL = base
		default:
			return fmt.Errorf("mpd: representation %s has neither SegmentTemplate nor BaseURL", rep.ID)
		}
		info.Representations = append(info.Representations, ri)
	}
	return nil
}

// firstOf returns the first non-empty value.
func firstOf(vals ...string) string {
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

func protInfo(p xProt) (ProtectionInfo, error) {
	pi := ProtectionInfo{SchemeIDURI: strings.ToLower(strings.TrimSpace(p.Scheme)), Value: p.Value, DefaultKID: strings.TrimSpace(p.KID), LAURL: strings.TrimSpace(p.LAURL1 + p.LAURL2)}
	var err error
	if s := strings.TrimSpace(p.PSSH); s != "" {
		if pi.PSSH, err = base64.StdEncoding.DecodeString(s); err != nil {
			return pi, fmt.Errorf("mpd: cenc:pssh of %s is not base64", p.Scheme)
		}
	}
	if s := strings.TrimSpace(p.PRO); s != "" {
		if pi.PRO, err = base64.StdEncoding.DecodeString(s); err != nil {
			return pi, fmt.Errorf("mpd: mspr:pro is not base64")
		}
	}
	return pi, nil
}

// KID returns the default KID of a ContentProtection, if any.
func (p ProtectionInfo) KID() (drm.KID, bool) {
	if p.DefaultKID == "" {
		return drm.KID{}, false
	}
	k, err := drm.ParseKID(p.DefaultKID)
	return k, err == nil
}

func joinBase(parts ...string) string {
	out := ""
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if u, err := url.Parse(p); err == nil && u.IsAbs() || strings.HasPrefix(p, "/") {
			out = p
			continue
		}
		if out != "" && !strings.HasSuffix(out, "/") {
			out = out[:strings.LastIndex(out, "/")+1]
		}
		out += p
	}
	return out
}

func expandTemplate(ri *RepresentationInfo, tpl *xTemplate, base string, total time.Duration, budget *segBudget) error {
	fill := func(s string, number int, t uint64) string {
		s = strings.ReplaceAll(s, "$RepresentationID$", ri.ID)
		s = strings.ReplaceAll(s, "$Bandwidth$", strconv.FormatInt(ri.Bandwidth, 10))
		s = replaceNumber(s, "Number", uint64(number))
		s = replaceNumber(s, "Time", t)
		return strings.ReplaceAll(s, "$$", "$")
	}
	prefix := base
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix = prefix[:strings.LastIndex(prefix, "/")+1]
	}
	if tpl.Init != "" {
		ri.InitURL = prefix + fill(tpl.Init, 0, 0)
	}
	start := 1
	if tpl.StartNumber != nil {
		start = *tpl.StartNumber
	}
	if tpl.Media == "" {
		return fmt.Errorf("SegmentTemplate has no media attribute")
	}
	ri.Timescale = tpl.Timescale
	if ri.Timescale == 0 {
		ri.Timescale = 1
	}
	add := func(n int, t, d uint64, explicit bool) error {
		if budget.left <= 0 {
			return &LimitError{What: "segments", Limit: budget.max}
		}
		budget.left--
		ri.SegmentURLs = append(ri.SegmentURLs, prefix+fill(tpl.Media, n, t))
		ri.Timeline = append(ri.Timeline, SegmentTime{Start: t, Duration: d})
		ri.ExplicitStarts = append(ri.ExplicitStarts, explicit)
		return nil
	}
	if len(tpl.Timeline) > 0 {
		return expandTimeline(tpl, start, add)
	}
	if tpl.Duration == 0 || tpl.Timescale == 0 || total <= 0 {
		return fmt.Errorf("SegmentTemplate needs a SegmentTimeline or duration+timescale with mediaPresentationDuration")
	}
	count := (total.Seconds()*float64(tpl.Timescale) + float64(tpl.Duration) - 1) / float64(tpl.Duration)
	if count > float64(budget.left) {
		return &LimitError{What: "segments", Limit: budget.max}
	}
	for i := 0; i < int(count); i++ {
		if err := add(start+i, uint64(i)*tpl.Duration, tpl.Duration, false); err != nil {
			return err
		}
	}
	return nil
}

func expandTimeline(tpl *xTemplate, n int, add func(n int, t, d uint64, explicit bool) error) error {
	var t uint64
	for i, s := range tpl.Timeline {
		explicit := s.T != nil
		if explicit {
			t = *s.T
		}
		if s.D == 0 {
			return fmt.Errorf("SegmentTimeline S element %d has no duration", i+1)
		}
		repeat := s.R
		if repeat < 0 { // until the next S@t; a last r=-1 (live) lists what is known: one
			repeat = 0
			if i+1 < len(tpl.Timeline) && tpl.Timeline[i+1].T != nil && *tpl.Timeline[i+1].T > t {
				repeat = int((*tpl.Timeline[i+1].T-t)/s.D) - 1
			}
		}
		for k := 0; k <= repeat; k++ {
			if err := add(n, t, s.D, explicit && k == 0); err != nil {
				return err
			}
			t += s.D
			n++
		}
	}
	return nil
}

// replaceNumber substitutes $Name$ and $Name%0Nd$.
func replaceNumber(s, name string, v uint64) string {
	for {
		i := strings.Index(s, "$"+name)
		if i < 0 {
			return s
		}
		j := strings.Index(s[i+1:], "$")
		if j < 0 {
			return s
		}
		tag := s[i+1 : i+1+j]
		val := strconv.FormatUint(v, 10)
		if f, ok := strings.CutPrefix(tag, name+"%"); ok && strings.HasSuffix(f, "d") {
			if w, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(f, "0"), "d")); err == nil && w < 20 {
				val = fmt.Sprintf("%0*d", w, v)
			}
		} else if tag != name {
			return s
		}
		s = s[:i] + val + s[i+j+2:]
	}
}

// Playlist is a parsed HLS playlist (multivariant or media).
type Playlist struct {
	Master   bool
	Variants []Variant
	// IFrameStreams are the EXT-X-I-FRAME-STREAM-INF tags of a multivariant playlist.
	IFrameStreams  []IFrameStream
	Media          []MediaTag
	SessionKeys    []KeyTag
	Keys           []KeyTag
	MapURI         string
	Segments       []string // URIs as written
	Durations      []float64
	TargetDuration int
	Ended          bool
}

// Variant is an EXT-X-STREAM-INF entry.
type Variant struct {
	URI        string
	Bandwidth  int64
	Codecs     string
	Resolution string
	Audio      string
	Subtitles  string
}

// IFrameStream is an EXT-X-I-FRAME-STREAM-INF tag: an I-frame playlist (trick play) with its
// attributes as written (0 or "" when absent).
type IFrameStream struct {
	URI              string
	Bandwidth        int64
	AverageBandwidth int64
	Codecs           string
	Resolution       string
}

// MediaTag is an EXT-X-MEDIA entry.
type MediaTag struct {
	Type, GroupID, Name, URI string
	Language                 string
	Default, Autoselect      bool
	Forced                   bool
	Channels                 string
	Characteristics          string
}

// KeyTag is an EXT-X-KEY or EXT-X-SESSION-KEY.
type KeyTag struct{ Method, URI, KeyFormat, KeyFormatVersions, IV string }

// ReadHLS parses an HLS playlist.
func ReadHLS(r io.Reader) (*Playlist, error) {
	sc := bufio.NewScanner(io.LimitReader(r, 16<<20))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	p := &Playlist{}
	first := true
	var pendingVariant *Variant
	var pendingDur float64 = -1
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if first {
			if line != "#EXTM3U" {
				return nil, fmt.Errorf("hls: not a playlist (first line is not #EXTM3U)")
			}
			first = false
			continue
		}
		tag, val, _ := strings.Cut(line, ":")
		switch {
		case tag == "#EXT-X-STREAM-INF":
			a := parseAttrs(val)
			bw, _ := strconv.ParseInt(a["BANDWIDTH"], 10, 64)
			p.Master = true
			pendingVariant = &Variant{Bandwidth: bw, Codecs: a["CODECS"], Resolution: a["RESOLUTION"], Audio: a["AUDIO"],
				Subtitles: a["SUBTITLES"]}
		case tag == "#EXT-X-I-FRAME-STREAM-INF":
			a := parseAttrs(val)
			bw, _ := strconv.ParseInt(a["BANDWIDTH"], 10, 64)
			avg, _ := strconv.ParseInt(a["AVERAGE-BANDWIDTH"], 10, 64)
			p.Master = true
			p.IFrameStreams = append(p.IFrameStreams, IFrameStream{URI: a["URI"], Bandwidth: bw, AverageBandwidth: avg,
				Codecs: a["CODECS"], Resolution: a["RESOLUTION"]})
		case tag == "#EXT-X-MEDIA":
			a := parseAttrs(val)
			p.Master = true
			p.Media = append(p.Media, MediaTag{Type: a["TYPE"], GroupID: a["GROUP-ID"], Name: a["NAME"], URI: a["URI"],
				Language: a["LANGUAGE"], Default: a["DEFAULT"] == "YES", Autoselect: a["AUTOSELECT"] == "YES",
				Forced: a["FORCED"] == "YES", Channels: a["CHANNELS"], Characteristics: a["CHARACTERISTICS"]})
		case tag == "#EXT-X-SESSION-KEY" || tag == "#EXT-X-KEY":
			a := parseAttrs(val)
			k := KeyTag{Method: a["METHOD"], URI: a["URI"], KeyFormat: a["KEYFORMAT"], KeyFormatVersions: a["KEYFORMATVERSIONS"], IV: a["IV"]}
			if tag == "#EXT-X-KEY" {
				p.Keys = append(p.Keys, k)
			} else {
				p.SessionKeys = append(p.SessionKeys, k)
			}
		case tag == "#EXT-X-MAP":
			p.MapURI = parseAttrs(val)["URI"]
		case tag == "#EXT-X-TARGETDURATION":
			p.TargetDuration, _ = strconv.Atoi(val)
		case tag == "#EXTINF":
			d, _, _ := strings.Cut(val, ",")
			v, err := strconv.ParseFloat(strings.TrimSpace(d), 64)
			if err != nil {
				return nil, fmt.Errorf("hls: bad EXTINF %q", val)
			}
			pendingDur = v
		case tag == "#EXT-X-ENDLIST":
			p.Ended = true
		case strings.HasPrefix(line, "#"):
		default:
			switch {
			case pendingVariant != nil:
				pendingVariant.URI = line
				p.Variants = append(p.Variants, *pendingVariant)
				pendingVariant = nil
			case pendingDur >= 0:
				if len(p.Segments) >= maxSegments {
					return nil, fmt.Errorf("hls: more than %d segments", maxSegments)
				}
				p.Segments = append(p.Segments, line)
				p.Durations = append(p.Durations, pendingDur)
				pendingDur = -1
			default:
				return nil, fmt.Errorf("hls: URI %q without a preceding EXTINF or EXT-X-STREAM-INF", line)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("hls: %w", err)
	}
	if first {
		return nil, fmt.Errorf("hls: empty playlist")
	}
	return p, nil
}

// parseAttrs parses an HLS attribute list (quoted strings may contain commas).
func parseAttrs(s string) map[string]string {
	out := map[string]string{}
	for len(s) > 0 {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			break
		}
		name := strings.TrimSpace(s[:eq])
		s = s[eq+1:]
		var val string
		if strings.HasPrefix(s, `"`) {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				val, s = s[1:], ""
			} else {
				val, s = s[1:end+1], s[end+2:]
			}
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				val, s = s, ""
			} else {
				val, s = s[:end], s[end:]
			}
		}
		out[name] = val
		s = strings.TrimPrefix(strings.TrimSpace(s), ",")
	}
	return out
}
