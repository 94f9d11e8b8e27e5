package verify

import (
	"context"
	"fmt"

	"satchel/engine/probe"
)

// sourceTrack is a clear source track for the bit-exact comparison.
type sourceTrack struct {
	path    string
	file    *probe.File
	kind    string
	samples []probe.Sample
}

func (v *verifier) loadSources(ctx context.Context) error {
	for _, p := range v.in.SourceFiles {
		f, err := probe.Open(ctx, p)
		if err != nil {
			return fmt.Errorf("source: %w", err)
		}
		v.closers = append(v.closers, func() { f.Close() })
		a, err := f.Asset(ctx)
		if err != nil {
			return fmt.Errorf("source: %w", err)
		}
		for _, t := range a.Tracks {
			ss, err := f.Samples(t.ID)
			if err != nil {
				return fmt.Errorf("source %s: %w", p, err)
			}
			v.sources = append(v.sources, &sourceTrack{path: p, file: f, kind: string(t.Kind), samples: ss})
		}
	}
	return nil
}

// matchSource finds the source track whose sample sizes equal the decrypted track's
// (encryption never changes sample sizes).
func (v *verifier) matchSource(kind string, sizes []uint32) *sourceTrack {
	for _, s := range v.sources {
		if s.kind != kind || len(s.samples) != len(sizes) {
			continue
		}
		same := true
		for i, x := range s.samples {
			if x.Size != sizes[i] {
				same = false
				break
			}
		}
		if same {
			return s
		}
	}
	return nil
}

// abort stops the run's decoder without a result.
func (r *trackRun) abort() {
	if r.dec != nil {
		_, _ = r.dec.Close()
		r.dec = nil
	}
}

// checkNALUs checks that a decrypted AVC/HEVC sample is a sequence of length-prefixed NAL
// units covering it exactly, with valid NAL headers.
func checkNALUs(b []byte, lenSize int, avc bool) string {
	if lenSize < 1 || lenSize > 4 {
		lenSize = 4
	}
	pos := 0
	count := 0
	for pos < len(b) {
		if pos+lenSize > len(b) {
			return fmt.Sprintf("a NAL length field is cut at byte %d of %d", pos, len(b))
		}
		var n uint32
		for i := 0; i < lenSize; i++ {
			n = n<<8 | uint32(b[pos+i])
		}
		pos += lenSize
		if n == 0 || int(n) > len(b)-pos {
			return fmt.Sprintf("NAL unit %d claims %d bytes but %d remain", count+1, n, len(b)-pos)
		}
		h := b[pos]
		if h&0x80 != 0 {
			return fmt.Sprintf("NAL unit %d has the forbidden bit set", count+1)
		}
		if avc {
			if typ := h & 0x1f; typ == 0 || typ >= 24 {
				return fmt.Sprintf("NAL unit %d has the invalid H.264 type %d", count+1, typ)
			}
		} else if typ := (h >> 1) & 0x3f; typ > 40 && typ < 48 {
			return fmt.Sprintf("NAL unit %d has the reserved HEVC type %d", count+1, typ)
		}
		pos += int(n)
		count++
	}
	return ""
}
