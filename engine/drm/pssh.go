package drm

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/internal/mp4safe"
)

// PSSHBoxes returns one pssh box per system in sig.Systems (FairPlay has none: HLS signals it
// with EXT-X-KEY), for all keys in sig.
func PSSHBoxes(sig Signalling) ([]*mp4.PsshBox, error) {
	kids := sig.KIDs()
	var out []*mp4.PsshBox
	for _, s := range sig.Systems {
		switch s {
		case Widevine:
			b, err := WidevinePSSH(kids, sig.Scheme, sig.WidevineProvider, sig.WidevineContentID)
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		case PlayReady:
			pro, err := PlayReadyObject(sig.Keys, sig.Scheme, sig.PlayReadyLAURL)
			if err != nil {
				return nil, err
			}
			out = append(out, PlayReadyPSSH(pro))
		case ClearKey:
			out = append(out, CommonPSSH(kids))
		case FairPlay:
		default:
			return nil, fmt.Errorf("pssh: unknown system %q", s)
		}
	}
	return out, nil
}

// BoxBytes returns the complete encoded box (header included), the value of <cenc:pssh>.
func BoxBytes(b *mp4.PsshBox) ([]byte, error) {
	var buf bytes.Buffer
	if err := b.Encode(&buf); err != nil {
		return nil, fmt.Errorf("encode pssh: %w", err)
	}
	return buf.Bytes(), nil
}

// DecodePSSHBytes decodes one complete pssh box (for example base64-decoded from
// <cenc:pssh>). The box size must match len(b); use SplitPSSH for concatenated boxes.
func DecodePSSHBytes(b []byte) (*mp4.PsshBox, error) {
	n, err := psshBoxLen(b)
	if err != nil {
		return nil, err
	}
	if n != len(b) {
		return nil, fmt.Errorf("pssh box: header says %d bytes but %d were given", n, len(b))
	}
	bx, err := mp4safe.DecodeBox(b)
	if err != nil {
		return nil, fmt.Errorf("pssh box: %w", err)
	}
	p, ok := bx.(*mp4.PsshBox)
	if !ok {
		return nil, fmt.Errorf("pssh box: decoded as %s", bx.Type())
	}
	if len(p.SystemID) != 16 {
		return nil, errors.New("pssh box: truncated system ID")
	}
	return p, nil
}

// psshBoxLen validates the header of the pssh box at the start of b and returns its size,
// before anything is allocated for it: a forged size must not make the decoder reserve
// gigabytes.
func psshBoxLen(b []byte) (int, error) {
	if len(b) < 8 || string(b[4:8]) != "pssh" {
		return 0, errors.New("pssh box: not a pssh box (expected size and type 'pssh')")
	}
	size := uint64(binary.BigEndian.Uint32(b))
	switch size {
	case 0: // extends to the end
		size = uint64(len(b))
	case 1: // 64-bit largesize follows the type
		if len(b) < 16 {
			return 0, errors.New("pssh box: truncated 64-bit size")
		}
		size = binary.BigEndian.Uint64(b[8:])
	}
	if size < 32 {
		return 0, fmt.Errorf("pssh box: size %d is smaller than the 32-byte minimum", size)
	}
	if size > uint64(len(b)) {
		return 0, fmt.Errorf("pssh box: size %d but only %d bytes available (truncated?)", size, len(b))
	}
	return int(size), nil
}

// SplitPSSH decodes a sequence of concatenated pssh boxes, the W3C "cenc" initialization
// data format (also what EXT-X-SESSION-KEY data URIs and EME "encrypted" events carry).
func SplitPSSH(b []byte) ([]*mp4.PsshBox, error) {
	var out []*mp4.PsshBox
	for off := 0; off < len(b); {
		n, err := psshBoxLen(b[off:])
		if err != nil {
			return nil, fmt.Errorf("box %d at byte %d: %w", len(out)+1, off, err)
		}
		box, err := DecodePSSHBytes(b[off : off+n])
		if err != nil {
			return nil, fmt.Errorf("box %d at byte %d: %w", len(out)+1, off, err)
		}
		out = append(out, box)
		off += n
	}
	if len(out) == 0 {
		return nil, errors.New("pssh: no boxes in empty init data")
	}
	return out, nil
}

// PSSHInfo is a decoded pssh box.
type PSSHInfo struct {
	System    System            `json:"system,omitempty"`
	SystemID  string            `json:"system_id"`
	Version   int               `json:"version"`
	KIDs      []KID             `json:"kids"`
	Widevine  *WidevinePSSHData `json:"widevine,omitempty"`
	PlayReady *PlayReadyHeader  `json:"playready,omitempty"`
	// Summary is a human-readable multi-line description.
	Summary string `json:"summary"`
}

// DecodePSSH decodes the system-specific data of a pssh box. KIDs collects the v1 box KIDs
// and those found in the system data.
func DecodePSSH(b *mp4.PsshBox) (*PSSHInfo, error) {
	if b == nil || len(b.SystemID) != 16 {
		return nil, errors.New("pssh: missing or malformed system ID")
	}
	id := KID(b.SystemID).String()
	info := &PSSHInfo{SystemID: id, Version: int(b.Version)}
	seen := map[KID]bool{}
	addKID := func(k KID) {
		if !seen[k] {
			seen[k] = true
			info.KIDs = append(info.KIDs, k)
		}
	}
	for _, k := range b.KIDs {
		if len(k) == 16 {
			addKID(KID(k))
		}
	}
	var sum strings.Builder
	sys, known := SystemForID(b.SystemID)
	info.System = sys
	switch {
	case !known:
		fmt.Fprintf(&sum, "unknown system %s, version %d, %d data bytes\n", id, b.Version, len(b.Data))
	case sys == Widevine && len(b.Data) == 0 && len(info.KIDs) > 0:
		fmt.Fprintf(&sum, "Widevine (v%d): no WidevinePsshData, KIDs in the box header only\n", b.Version)
	case sys == Widevine:
		d, err := ParseWidevinePSSHData(b.Data)
		if err != nil {
			return nil, fmt.Errorf("widevine pssh: %w", err)
		}
		info.Widevine = d
		for _, k := range d.KeyIDs {
			addKID(k)
		}
		fmt.Fprintf(&sum, "Widevine (v%d): protection_scheme %s, provider %q", b.Version, orDash(d.ProtectionScheme), d.Provider)
		if len(d.ContentID) > 0 {
			fmt.Fprintf(&sum, ", content_id %q", d.ContentID)
		}
		sum.WriteString("\n")
	case sys == PlayReady:
		h, err := ParsePlayReadyObject(b.Data)
		if err != nil {
			return nil, fmt.Errorf("playready pssh: %w", err)
		}
		info.PlayReady = h
		for _, k := range h.KIDs {
			addKID(k)
		}
		fmt.Fprintf(&sum, "PlayReady (v%d): WRMHEADER %s, ALGID %s, LA_URL %s\n", b.Version, h.Version, orDash(h.AlgID), orDash(h.LAURL))
	case sys == ClearKey:
		fmt.Fprintf(&sum, "W3C common / ClearKey (v%d)\n", b.Version)
		if b.Version == 0 {
			fmt.Fprintln(&sum, "warning: the common pssh must be version 1 to list KIDs")
		}
	default:
		fmt.Fprintf(&sum, "%s (v%d), %d data bytes\n", sys.Title(), b.Version, len(b.Data))
	}
	for _, k := range info.KIDs {
		fmt.Fprintf(&sum, "KID %s (PlayReady LE %s)\n", k, k.PlayReadyBase64())
	}
	info.Summary = sum.String()
	return info, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// PSSHBase64 returns base64 of the complete box, the text of a <cenc:pssh> element.
func PSSHBase64(b *mp4.PsshBox) (string, error) {
	raw, err := BoxBytes(b)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(raw), nil
}
