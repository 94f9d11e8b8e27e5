package probe

import (
	"fmt"

	"github.com/Eyevinn/mp4ff/hevc"
	"github.com/Eyevinn/mp4ff/mp4"
)

// videoCodec returns the RFC 6381 codecs value (ISO/IEC 14496-15 Annex E; AV1 ISOBMFF §5).
func videoCodec(entry string, se *mp4.VisualSampleEntryBox) (string, error) {
	switch entry {
	case "avc1", "avc3":
		if se.AvcC == nil {
			return "", fmt.Errorf("has an %s track without avcC decoder configuration; re-export it", entry)
		}
		c := se.AvcC.DecConfRec
		return fmt.Sprintf("%s.%02x%02x%02x", entry, c.AVCProfileIndication, c.ProfileCompatibility, c.AVCLevelIndication), nil
	case "hvc1", "hev1":
		if se.HvcC == nil {
			return "", fmt.Errorf("has an %s track without hvcC decoder configuration; re-export it", entry)
		}
		spss := se.HvcC.GetNalusForType(hevc.NALU_SPS)
		if len(spss) == 0 {
			return "", fmt.Errorf("has an %s track whose hvcC has no SPS; re-export it with parameter sets in the sample entry", entry)
		}
		sps, err := hevc.ParseSPSNALUnit(spss[0])
		if err != nil {
			return "", fmt.Errorf("has an HEVC SPS that does not parse (%v)", err)
		}
		return hevc.CodecString(entry, sps), nil
	case "av01":
		if se.Av1C == nil {
			return "", fmt.Errorf("has an av01 track without av1C; re-export it")
		}
		return se.Av1C.CodecConfRec.CodecString("av01"), nil
	}
	return entry, nil
}

// audioCodec returns mp4a.40.<AOT> for AAC (the audio object type from the
// AudioSpecificConfig), and the sample entry name for AC-3/E-AC-3.
func audioCodec(entry string, se *mp4.AudioSampleEntryBox) string {
	if entry != "mp4a" {
		return entry
	}
	if se.Esds == nil || se.Esds.DecConfigDescriptor == nil {
		return "mp4a.40.2"
	}
	dcd := se.Esds.DecConfigDescriptor
	if dcd.ObjectType != 0x40 {
		return fmt.Sprintf("mp4a.%02x", dcd.ObjectType)
	}
	aot := 2
	if dcd.DecSpecificInfo != nil && len(dcd.DecSpecificInfo.DecConfig) > 0 {
		cfg := dcd.DecSpecificInfo.DecConfig
		aot = int(cfg[0] >> 3)
		if aot == 31 && len(cfg) > 1 {
			aot = 32 + int((cfg[0]&0x07)<<3|cfg[1]>>5)
		}
	}
	return fmt.Sprintf("mp4a.40.%d", aot)
}
