// Package mp4safe is the one door through which Satchel hands untrusted MP4 bytes to mp4ff.
// Before mp4ff decodes anything, Scan walks the box headers iteratively (no recursion) and
// refuses trees that are too deep, have too many boxes, or whose sizes run past their parent
// or the file; decoder panics become errors. Every probe, inspect, verify and packaging read of
// an MP4 goes through DecodeFile, DecodeBox or Do.
//
// mp4ff decodes containers recursively, so a crafted file of a million nested boxes would
// overflow the stack (a fatal error no recover can catch) and costs super-linear time long
// before that. Scan bounds both in time linear in the number of box headers.
package mp4safe

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Limits bound the box tree Scan accepts.
type Limits struct {
	// MaxDepth is the deepest nesting accepted; top-level boxes are at depth 1. Real files
	// nest about 10 deep (moov/trak/mdia/minf/stbl/stsd/encv/sinf/schi/tenc).
	MaxDepth int
	// MaxBoxes is the number of boxes accepted in one input, top-level boxes included.
	MaxBoxes int
}

// DefaultLimits are generous for any real file: 32 levels and 4 million boxes (a 24-hour
// recording in 1 s fragments has about a million).
var DefaultLimits = Limits{MaxDepth: 32, MaxBoxes: 4_000_000}

// Error says why an input is not a well-formed MP4. It is always an input problem, never a
// bug: callers phrase the fix ("re-export the file", "re-download it").
type Error struct {
	Box    string // four-character code of the offending box; empty when unknown
	Offset int64  // byte offset of that box in the input; -1 when unknown
	Reason string // what is wrong, lowercase, no final period

	truncated bool
}

func (e *Error) Error() string {
	switch {
	case e.Box != "" && e.Offset >= 0:
		return fmt.Sprintf("malformed MP4: %s box at byte %d: %s", e.Box, e.Offset, e.Reason)
	case e.Offset >= 0:
		return fmt.Sprintf("malformed MP4 at byte %d: %s", e.Offset, e.Reason)
	}
	return "malformed MP4: " + e.Reason
}

// Truncated reports whether the error is a box running past the end of the input: the usual
// sign of an incomplete download or copy.
func (e *Error) Truncated() bool { return e.truncated }

// Is makes errors.Is(err, ErrTruncated) match truncation errors.
func (e *Error) Is(target error) bool { return target == ErrTruncated && e.truncated }

// ErrTruncated matches (with errors.Is) an *Error about a box running past the end of the input.
var ErrTruncated = errors.New("mp4 truncated")

// leaves are boxes known to hold no child boxes; Scan does not look inside them. Anything else
// is probed for a child box sequence, so that containers mp4ff knows and Satchel does not
// (sample entries, QuickTime atoms) are bounded too.
var leaves = map[string]bool{
	"mdat": true, "free": true, "skip": true, "wide": true, "ftyp": true, "styp": true, "mvhd": true,
	"tkhd": true, "mdhd": true, "hdlr": true, "vmhd": true, "smhd": true, "nmhd": true, "sthd": true,
	"elst": true, "stts": true, "ctts": true, "stss": true, "stsz": true, "stz2": true, "stsc": true,
	"stco": true, "co64": true, "sdtp": true, "sbgp": true, "sgpd": true, "saiz": true, "saio": true,
	"senc": true, "subs": true, "tfhd": true, "tfdt": true, "trun": true, "mfhd": true, "mehd": true,
	"trex": true, "sidx": true, "ssix": true, "prft": true, "emsg": true, "pssh": true, "tenc": true,
	"schm": true, "frma": true, "avcC": true, "hvcC": true, "av1C": true, "esds": true, "dac3": true,
	"dec3": true, "dOps": true, "btrt": true, "pasp": true, "colr": true, "clap": true, "uuid": true,
	"kind": true, "elng": true, "url ": true, "urn ": true, "cprt": true, "mfro": true, "tfra": true,
	"vttC": true, "vlab": true, "payl": true, "iden": true, "sttg": true, "ctim": true, "vsid": true,
}

// childOffsets are the payload offsets at which a box's children may start: 0 for plain
// containers, 4 for full boxes (meta), 8 for stsd and dref, 16/28/44/64 for audio sample
// entries (QuickTime versions), 78 for visual sample entries.
var childOffsets = []int64{0, 4, 8, 16, 28, 36, 44, 64, 78}

// maxProbeReads bounds the headers read while probing for children, per accepted box.
const maxProbeReads = 16

// Scan walks the box tree of the size bytes readable from r and returns an *Error when it is
// malformed or exceeds lim (zero fields take DefaultLimits). It reads only box headers.
func Scan(ctx context.Context, r io.ReaderAt, size int64, lim Limits) error {
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = DefaultLimits.MaxDepth
	}
	if lim.MaxBoxes <= 0 {
		lim.MaxBoxes = DefaultLimits.MaxBoxes
	}
	s := &scanner{r: r, lim: lim}
	s.stack = append(s.stack, span{start: 0, end: size, depth: 1})
	for len(s.stack) > 0 {
		if s.boxes%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		top := &s.stack[len(s.stack)-1]
		if top.start >= top.end {
			s.stack = s.stack[:len(s.stack)-1]
			continue
		}
		h, err := s.header(top.start, top.end, top.depth == 1)
		if err != nil {
			return err
		}
		top.start += h.size
		if err := s.accept(h, top.depth); err != nil {
			return err
		}
	}
	return nil
}

// span is a byte range holding a sequence of sibling boxes at one depth.
type span struct {
	start, end int64
	depth      int
}

type scanner struct {
	r     io.ReaderAt
	lim   Limits
	stack []span
	boxes int
	reads int
	buf   [16]byte
}

type header struct {
	typ    string
	offset int64
	hdrLen int64
	size   int64
}

// accept counts box h (at depth) and pushes its children, if any.
func (s *scanner) accept(h header, depth int) error {
	s.boxes++
	if s.boxes > s.lim.MaxBoxes {
		return &Error{Box: h.typ, Offset: h.offset, Reason: "more than " + strconv.Itoa(s.lim.MaxBoxes) + " boxes"}
	}
	if depth > s.lim.MaxDepth {
		return &Error{Box: h.typ, Offset: h.offset, Reason: fmt.Sprintf("boxes nested more than %d deep", s.lim.MaxDepth)}
	}
	if leaves[h.typ] {
		return nil
	}
	payload, end := h.offset+h.hdrLen, h.offset+h.size
	s.reads = 0
	for _, off := range childOffsets {
		if payload+off+8 > end {
			break
		}
		if s.isBoxSequence(payload+off, end) {
			s.stack = append(s.stack, span{start: payload + off, end: end, depth: depth + 1})
			return nil
		}
	}
	return nil
}

// isBoxSequence reports whether [start, end) is exactly a sequence of plausible box headers.
func (s *scanner) isBoxSequence(start, end int64) bool {
	for pos := start; pos < end; {
		if s.reads >= maxProbeReads {
			// Many tiny siblings: accept the sequence; the full walk checks each header.
			return true
		}
		s.reads++
		h, err := s.header(pos, end, false)
		if err != nil || !printable(h.typ) {
			return false
		}
		pos += h.size
	}
	return true
}

// header reads the box header at pos inside a parent ending at end. A size of 0 ("to the end")
// is only allowed at top level.
func (s *scanner) header(pos, end int64, top bool) (header, error) {
	h := header{offset: pos, hdrLen: 8}
	if end-pos < 8 {
		return h, &Error{Offset: pos, Reason: fmt.Sprintf("%d stray bytes where a box header (8 bytes) should start", end-pos), truncated: top}
	}
	if _, err := s.r.ReadAt(s.buf[:8], pos); err != nil {
		return h, &Error{Offset: pos, Reason: "cannot read a box header: " + err.Error(), truncated: errors.Is(err, io.EOF)}
	}
	size := int64(binary.BigEndian.Uint32(s.buf[:4]))
	h.typ = string(s.buf[4:8])
	switch size {
	case 0:
		if !top {
			return h, &Error{Box: h.typ, Offset: pos, Reason: "size 0 (to end of file) is only allowed for a top-level box"}
		}
		size = end - pos
	case 1:
		if end-pos < 16 {
			return h, &Error{Box: h.typ, Offset: pos, Reason: "64-bit size field is cut off", truncated: top}
		}
		if _, err := s.r.ReadAt(s.buf[8:16], pos+8); err != nil {
			return h, &Error{Box: h.typ, Offset: pos, Reason: "cannot read the 64-bit size: " + err.Error(), truncated: errors.Is(err, io.EOF)}
		}
		u := binary.BigEndian.Uint64(s.buf[8:16])
		if u > 1<<62 {
			return h, &Error{Box: h.typ, Offset: pos, Reason: fmt.Sprintf("impossible size %d", u)}
		}
		size, h.hdrLen = int64(u), 16
	}
	if size < h.hdrLen {
		return h, &Error{Box: h.typ, Offset: pos, Reason: fmt.Sprintf("size %d is smaller than its own header", size)}
	}
	if size > end-pos {
		where := "its parent box"
		if top {
			where = "the file"
		}
		return h, &Error{Box: h.typ, Offset: pos, truncated: top,
			Reason: fmt.Sprintf("claims %d bytes but %s has only %d left", size, where, end-pos)}
	}
	h.size = size
	return h, nil
}

// printable reports whether a box type looks like a four-character code (ASCII letters,
// digits, space and a few punctuation marks; QuickTime's © is 0xa9).
func printable(t string) bool {
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == ' ' || c == '-' || c == '.' || c == '_' || c == 0xa9) {
			return false
		}
	}
	return true
}
