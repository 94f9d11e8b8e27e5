package decode

import (
	"fmt"

	"github.com/Eyevinn/mp4ff/hevc"
	"github.com/Eyevinn/mp4ff/mp4"
)

// StreamFor describes the track whose (clear or encrypted) sample entry is entry; format is
// the clear sample entry type (frma of an encrypted entry, else the entry's own type).
func StreamFor(entry mp4.Box, format string) (Stream, error) {
	switch se := entry.(type) {
	case *mp4.VisualSampleEntryBox:
		return videoStream(se, format)
	case *mp4.AudioSampleEntryBox:
		return audioStream(se, format)
	}
	return Stream{}, fmt.Errorf("decode: %s is not an audio or video sample entry", entry.Type())
}

func videoStream(se *mp4.VisualSampleEntryBox, format string) (Stream, error) {
	switch format {
	case "avc1", "avc3":
		s := Stream{Format: H264, NALLength: 4}
		if se.AvcC != nil {
			s.ParamSets = append(append(s.ParamSets, se.AvcC.SPSnalus...), se.AvcC.PPSnalus...)
		}
		return s, nil
	case "hvc1", "hev1":
		s := Stream{Format: HEVC, NALLength: 4}
		if se.HvcC != nil {
			s.NALLength = int(se.HvcC.LengthSizeMinusOne) + 1
			for _, t := range []hevc.NaluType{hevc.NALU_VPS, hevc.NALU_SPS, hevc.NALU_PPS} {
				s.ParamSets = append(s.ParamSets, se.HvcC.GetNalusForType(t)...)
			}
		}
		return s, nil
	case "av01":
		s := Stream{Format: AV1, Width: int(se.Width), Height: int(se.Height)}
		if se.Av1C != nil {
			s.AV1Config = se.Av1C.ConfigOBUs
		}
		return s, nil
	}
	return Stream{}, fmt.Errorf("decode: video codec %q is not supported", format)
}

func audioStream(se *mp4.AudioSampleEntryBox, format string) (Stream, error) {
	switch format {
	case "mp4a":
		if se.Esds == nil || se.Esds.DecConfigDescriptor == nil || se.Esds.DecConfigDescriptor.DecSpecificInfo == nil {
			return Stream{}, fmt.Errorf("decode: the mp4a entry has no AudioSpecificConfig (esds)")
		}
		return Stream{Format: AAC, ASC: se.Esds.DecConfigDescriptor.DecSpecificInfo.DecConfig}, nil
	case "ac-3":
		return Stream{Format: AC3}, nil
	case "ec-3":
		return Stream{Format: EAC3}, nil
	}
	return Stream{}, fmt.Errorf("decode: audio codec %q is not supported", format)
}
