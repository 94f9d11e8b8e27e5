package manifest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/Eyevinn/hls-m3u8/m3u8"
)

// IFramePlaylist is an HLS I-frame playlist (RFC 8216 4.3.3.6 EXT-X-I-FRAMES-ONLY) as the
// checker needs it: each entry is a byte range of a media segment that holds one I-frame.
type IFramePlaylist struct {
	// IFramesOnly is set when the playlist carries EXT-X-I-FRAMES-ONLY.
	IFramesOnly bool
	// Ended is set when it carries EXT-X-ENDLIST.
	Ended          bool
	TargetDuration int
	// MapURI is the EXT-X-MAP URI as written ("" without one).
	MapURI string
	// Keys are the distinct EXT-X-KEY tags, in order.
	Keys    []KeyTag
	Entries []IFrameEntry
}

// IFrameEntry is one I-frame: the byte range [Offset, Offset+Length) of the segment URI,
// lasting Duration seconds (EXTINF). An EXT-X-BYTERANGE without an offset continues after the
// previous range of the same URI (RFC 8216 4.3.2.2); Ranged is false without EXT-X-BYTERANGE.
type IFrameEntry struct {
	URI      string
	Offset   int64
	Length   int64
	Ranged   bool
	Duration float64
}

// maxIFramePlaylist bounds what is read of an I-frame playlist (hostile input).
const maxIFramePlaylist = 16 << 20

// ReadIFramePlaylist parses an HLS media playlist with Eyevinn/hls-m3u8 and returns its
// I-frame entries. An EXT-X-BYTERANGE without an offset whose previous entry is not a range
// of the same URI is an error, as is a playlist that is not a media playlist.
func ReadIFramePlaylist(r io.Reader) (*IFramePlaylist, error) {
	raw, err := io.ReadAll(io.LimitReader(r, maxIFramePlaylist+1))
	if err != nil {
		return nil, fmt.Errorf("hls: %w", err)
	}
	if len(raw) > maxIFramePlaylist {
		return nil, fmt.Errorf("hls: I-frame playlist larger than %d bytes", maxIFramePlaylist)
	}
	explicit, err := byteRangeOffsets(raw)
	if err != nil {
		return nil, err
	}
	var pl m3u8.Playlist
	var lt m3u8.ListType
	if err := safeDecode(func() error {
		var e error
		pl, lt, e = m3u8.DecodeFrom(bytes.NewReader(raw), false)
		return e
	}); err != nil {
		return nil, fmt.Errorf("hls: %w", err)
	}
	mp, ok := pl.(*m3u8.MediaPlaylist)
	if lt != m3u8.MEDIA || !ok {
		return nil, fmt.Errorf("hls: not a media playlist")
	}
	out := &IFramePlaylist{IFramesOnly: mp.Iframe, Ended: mp.Closed, TargetDuration: int(mp.TargetDuration)}
	if mp.Map != nil {
		out.MapURI = mp.Map.URI
	}
	seen := map[KeyTag]bool{}
	addKeys := func(keys []m3u8.Key) {
		for _, k := range keys {
			t := KeyTag{Method: k.Method, URI: k.URI, KeyFormat: k.Keyformat, KeyFormatVersions: k.Keyformatversions, IV: k.IV}
			if !seen[t] {
				seen[t] = true
				out.Keys = append(out.Keys, t)
			}
		}
	}
	addKeys(mp.Keys)
	ranged := 0
	for _, s := range mp.GetAllSegments() {
		if s == nil {
			continue
		}
		addKeys(s.Keys)
		if out.MapURI == "" && s.Map != nil {
			out.MapURI = s.Map.URI
		}
		e := IFrameEntry{URI: s.URI, Duration: s.Duration}
		if s.Limit > 0 {
			e.Ranged, e.Length, e.Offset = true, s.Limit, s.Offset
			if ranged < len(explicit) && !explicit[ranged] {
				if err := continueRange(out.Entries, &e); err != nil {
					return nil, err
				}
			}
			ranged++
		}
		out.Entries = append(out.Entries, e)
	}
	return out, nil
}

// continueRange sets the offset of a range written without one: right after the previous
// entry's range, which must be of the same URI.
func continueRange(prev []IFrameEntry, e *IFrameEntry) error {
	if len(prev) == 0 || !prev[len(prev)-1].Ranged || prev[len(prev)-1].URI != e.URI {
		return fmt.Errorf("hls: EXT-X-BYTERANGE of %s has no offset and does not follow a range of the same file", e.URI)
	}
	p := prev[len(prev)-1]
	e.Offset = p.Offset + p.Length
	return nil
}

// byteRangeOffsets reports, per EXT-X-BYTERANGE tag in order, whether it names an offset
// (hls-m3u8 reads a missing offset as 0).
func byteRangeOffsets(raw []byte) ([]bool, error) {
	var out []bool
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "#EXT-X-BYTERANGE:"); ok {
			out = append(out, strings.Contains(v, "@"))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("hls: %w", err)
	}
	return out, nil
}

// safeDecode runs a third-party parser on untrusted bytes, turning a panic into an error.
func safeDecode(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the playlist cannot be parsed (%v)", r)
		}
	}()
	return fn()
}
