package verify

import "fmt"

// bitReader reads Exp-Golomb codes from an RBSP (emulation prevention bytes removed).
type bitReader struct {
	b   []byte
	pos int // bit position
}

func rbsp(nal []byte, max int) []byte {
	out := make([]byte, 0, max)
	zeros := 0
	for _, c := range nal {
		if len(out) >= max {
			break
		}
		if zeros >= 2 && c == 3 {
			zeros = 0
			continue
		}
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
		out = append(out, c)
	}
	return out
}

func (r *bitReader) bit() (uint64, bool) {
	if r.pos >= 8*len(r.b) {
		return 0, false
	}
	v := (r.b[r.pos/8] >> (7 - r.pos%8)) & 1
	r.pos++
	return uint64(v), true
}

func (r *bitReader) ue() (uint64, bool) {
	zeros := 0
	for {
		b, ok := r.bit()
		if !ok {
			return 0, false
		}
		if b == 1 {
			break
		}
		zeros++
		if zeros > 31 {
			return 0, false
		}
	}
	var v uint64
	for i := 0; i < zeros; i++ {
		b, ok := r.bit()
		if !ok {
			return 0, false
		}
		v = v<<1 | b
	}
	return v + (1 << zeros) - 1, true
}

// firstUE reads the first ue(v) after a header of hdr bytes (the PPS id of a PPS NAL unit).
func firstUE(nal []byte, hdr int) (uint64, bool) {
	if len(nal) <= hdr {
		return 0, false
	}
	r := &bitReader{b: rbsp(nal[hdr:], 16)}
	return r.ue()
}

// checkSliceHeaders reads the first fields of every slice header: with a wrong key (or
// corrupt data) they are random, so the slice type or the PPS id is almost always invalid.
// CENC leaves only the NAL header clear for many packagers, so this catches wrong keys that
// the NAL length structure cannot.
func checkSliceHeaders(b []byte, lenSize int, avc bool, ppsIDs map[uint64]bool) string {
	pos := 0
	for n := 1; pos+lenSize < len(b); n++ {
		var l int
		for i := 0; i < lenSize; i++ {
			l = l<<8 | int(b[pos+i])
		}
		pos += lenSize
		if l <= 0 || pos+l > len(b) {
			return ""
		}
		nal := b[pos : pos+l]
		pos += l
		if avc {
			typ := nal[0] & 0x1f
			if typ != 1 && typ != 5 {
				continue
			}
			r := &bitReader{b: rbsp(nal[1:], 16)}
			first, ok1 := r.ue()
			st, ok2 := r.ue()
			pps, ok3 := r.ue()
			if !ok1 || !ok2 || !ok3 || first > 139264 || st > 9 || (len(ppsIDs) > 0 && !ppsIDs[pps]) {
				return fmt.Sprintf("slice %d has an invalid header (first_mb %d, slice_type %d, pps %d)", n, first, st, pps)
			}
			if typ == 5 && st%5 != 2 && st%5 != 4 {
				return fmt.Sprintf("IDR slice %d is not an I/SI slice (slice_type %d)", n, st)
			}
			continue
		}
		if len(nal) < 3 {
			continue
		}
		typ := (nal[0] >> 1) & 0x3f
		if typ > 21 {
			continue // not a VCL NAL unit
		}
		r := &bitReader{b: rbsp(nal[2:], 16)}
		r.bit() // first_slice_segment_in_pic_flag
		if typ >= 16 && typ <= 23 {
			r.bit() // no_output_of_prior_pics_flag
		}
		pps, ok := r.ue()
		if !ok || pps > 63 || (len(ppsIDs) > 0 && !ppsIDs[pps]) {
			return fmt.Sprintf("slice %d refers to PPS %d, which the stream does not define", n, pps)
		}
	}
	return ""
}
