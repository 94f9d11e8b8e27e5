package probe

import (
	"errors"
	"fmt"

	"github.com/Eyevinn/mp4ff/mp4"
)

// audioChannels returns the channel count of an audio sample entry (entry is its original
// format, frma's for a protected entry) from its codec
// configuration: the AAC AudioSpecificConfig (channelConfiguration, or the program config
// element when it is 0), AC-3 dac3 (acmod + lfeon) or E-AC-3 dec3 (independent substream 0
// and its dependent substreams). The sample entry's channelcount field is only a fallback:
// encoders write 2 there whatever the layout (ISO/IEC 14496-14 tells readers to ignore it).
func audioChannels(entry string, se *mp4.AudioSampleEntryBox) (channels int, chanMap uint16, err error) {
	fallback := int(se.ChannelCount)
	switch entry {
	case "mp4a":
		if se.Esds == nil || se.Esds.DecConfigDescriptor == nil || se.Esds.DecConfigDescriptor.DecSpecificInfo == nil {
			return fallback, 0, nil
		}
		dcd := se.Esds.DecConfigDescriptor
		if dcd.ObjectType != 0x40 && dcd.ObjectType != 0x66 && dcd.ObjectType != 0x67 && dcd.ObjectType != 0x68 {
			return fallback, 0, nil // not MPEG-4/MPEG-2 AAC: no AudioSpecificConfig to read
		}
		n, err := aacChannels(dcd.DecSpecificInfo.DecConfig)
		if err != nil {
			return 0, 0, fmt.Errorf("AAC AudioSpecificConfig: %w", err)
		}
		return n, 0, nil
	case "ac-3":
		if se.Dac3 == nil {
			return 0, 0, errors.New("AC-3 sample entry without dac3 box")
		}
		n, m := se.Dac3.ChannelInfo()
		return n, m, nil
	case "ec-3":
		if se.Dec3 == nil || len(se.Dec3.EC3Subs) == 0 {
			return 0, 0, errors.New("E-AC-3 sample entry without dec3 substream information")
		}
		n, m := se.Dec3.ChannelInfo()
		return n, m, nil
	}
	return fallback, 0, nil
}

// aacChannelsByConfig maps channelConfiguration (ISO/IEC 14496-3 Table 1.19, amended by
// ISO/IEC 23001-8 ChannelConfiguration 11-14) to a channel count; 0 means a program config
// element follows.
var aacChannelsByConfig = map[uint32]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 8, 11: 7, 12: 8, 13: 24, 14: 8}

// aacChannels parses an AudioSpecificConfig far enough to count its output channels.
func aacChannels(asc []byte) (int, error) {
	r := &bitReader{b: asc}
	aot := readAOT(r)
	readFrequency(r)
	cfg := r.read(4)
	ps := aot == 29
	if aot == 5 || aot == 29 { // explicit SBR/PS: extension frequency, then the core object type
		readFrequency(r)
		aot = readAOT(r)
		if aot == 22 {
			r.read(4)
		}
	}
	if r.err != nil {
		return 0, r.err
	}
	if cfg != 0 {
		n, ok := aacChannelsByConfig[cfg]
		if !ok {
			return 0, fmt.Errorf("reserved channelConfiguration %d", cfg)
		}
		if ps && n == 1 {
			n = 2 // parametric stereo: a mono core decoded to stereo
		}
		return n, nil
	}
	switch aot {
	case 1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23: // GASpecificConfig
	default:
		return 0, fmt.Errorf("channelConfiguration 0 with audio object type %d (no program config element to read)", aot)
	}
	r.read(1) // frameLengthFlag
	if r.read(1) == 1 {
		r.read(14) // coreCoderDelay
	}
	r.read(1) // extensionFlag
	return pceChannels(r)
}

// pceChannels counts the channels of a program_config_element (ISO/IEC 14496-3 4.4.1.1).
func pceChannels(r *bitReader) (int, error) {
	r.read(4 + 2 + 4) // element_instance_tag, object_type, sampling_frequency_index
	front, side, back := r.read(4), r.read(4), r.read(4)
	lfe, assoc, cc := r.read(2), r.read(3), r.read(4)
	for i := 0; i < 3; i++ { // mono, stereo and matrix mixdown flags with their fields
		if r.read(1) == 1 {
			r.read([]int{4, 4, 3}[i])
		}
	}
	n := 0
	for i := uint32(0); i < front+side+back; i++ {
		if r.read(1) == 1 { // is_cpe: a channel pair
			n += 2
		} else {
			n++
		}
		r.read(4)
	}
	n += int(lfe)
	r.read(int(4*lfe + 4*assoc + 5*cc))
	if r.err != nil {
		return 0, fmt.Errorf("program config element: %w", r.err)
	}
	if n == 0 {
		return 0, errors.New("program config element declares no channels")
	}
	return n, nil
}

func readAOT(r *bitReader) uint32 {
	aot := r.read(5)
	if aot == 31 {
		aot = 32 + r.read(6)
	}
	return aot
}

func readFrequency(r *bitReader) {
	if r.read(4) == 15 {
		r.read(24)
	}
}

// bitReader reads big-endian bit fields; reading past the end sets err and returns 0.
type bitReader struct {
	b   []byte
	pos int // in bits
	err error
}

func (r *bitReader) read(n int) uint32 {
	var v uint32
	for i := 0; i < n; i++ {
		if r.pos >= 8*len(r.b) {
			if r.err == nil {
				r.err = errors.New("too short")
			}
			return 0
		}
		v = v<<1 | uint32(r.b[r.pos/8]>>(7-r.pos%8)&1)
		r.pos++
	}
	return v
}
