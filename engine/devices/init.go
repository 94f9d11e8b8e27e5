package devices

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/drm"
	"satchel/engine/media"
)

// Limits for reading a moov from an init segment or a single file.
const (
	maxMoov     = 64 << 20 // a moov is kilobytes; megabytes for long progressive files
	maxSkip     = 64 << 20 // media read past (without seeking) before the moov is found
	maxTopBoxes = 64
)

// piffPSSHUUID is the PIFF 1.1 ProtectionSystemSpecificHeaderBox uuid.
var piffPSSHUUID = []byte{
	0xd0, 0x8a, 0x4f, 0x18, 0x10, 0xf3, 0x4a, 0x82, 0xb6, 0xc8, 0x32, 0xd8, 0xab, 0xa1, 0x83, 0xd3,
}

// initTrack is what one track's sample description says about its protection.
type initTrack struct {
	kind      media.Kind
	protected bool
	scheme    drm.Scheme // "" when clear
	kid       drm.KID
	piff      bool
}

// rawPSSH is a pssh box (standard, or converted from PIFF's uuid box) from a moov.
type rawPSSH struct {
	piff bool
	raw  []byte // the box's bytes, as a license request would carry them
}

// initInfo is what an init segment (or a single file's moov) says.
type initInfo struct {
	tracks []initTrack
	pssh   []rawPSSH
}

// readInit finds the moov of an MP4 (init segment or whole file) and decodes its protection
// information. It reads only up to the moov; a seekable r skips media data by seeking.
func readInit(r io.Reader) (*initInfo, error) {
	var skipped int64
	for n := 0; n < maxTopBoxes; n++ {
		var hdr [16]byte
		if _, err := io.ReadFull(r, hdr[:8]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, errors.New("no moov box: not an MP4 init segment")
			}
			return nil, fmt.Errorf("read box header: %w", err)
		}
		size, typ, hlen := uint64(binary.BigEndian.Uint32(hdr[:4])), string(hdr[4:8]), 8
		if size == 1 {
			if _, err := io.ReadFull(r, hdr[8:16]); err != nil {
				return nil, fmt.Errorf("read box header: %w", err)
			}
			size, hlen = binary.BigEndian.Uint64(hdr[8:16]), 16
		}
		if size == 0 || size < uint64(hlen) {
			return nil, fmt.Errorf("box %q has size %d: the file is truncated or not an MP4", printable(typ), size)
		}
		switch typ {
		case "moov":
			if size > maxMoov {
				return nil, fmt.Errorf("moov of %d MiB is larger than %d MiB", size>>20, maxMoov>>20)
			}
			b := make([]byte, size)
			copy(b, hdr[:hlen])
			if _, err := io.ReadFull(r, b[hlen:]); err != nil {
				return nil, fmt.Errorf("moov is truncated: %w", err)
			}
			return decodeMoov(b)
		case "moof":
			return nil, errors.New("a media fragment (moof) comes before any moov: not an init segment")
		}
		if err := skip(r, int64(size)-int64(hlen), &skipped); err != nil {
			return nil, fmt.Errorf("skip box %q: %w", printable(typ), err)
		}
	}
	return nil, fmt.Errorf("no moov in the first %d boxes", maxTopBoxes)
}

func skip(r io.Reader, n int64, skipped *int64) error {
	if s, ok := r.(io.Seeker); ok {
		_, err := s.Seek(n, io.SeekCurrent)
		return err
	}
	*skipped += n
	if *skipped > maxSkip {
		return fmt.Errorf("the moov is after more than %d MiB of media (not fast-start)", maxSkip>>20)
	}
	_, err := io.CopyN(io.Discard, r, n)
	return err
}

func printable(s string) string {
	for _, c := range []byte(s) {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("%x", s)
		}
	}
	return s
}

// rawBox is one box of a byte slice: its type, its whole bytes and its payload.
type rawBox struct {
	typ        string
	full, body []byte
}

// children splits a container payload into boxes, checking every size against the bytes.
func children(b []byte) ([]rawBox, error) {
	var out []rawBox
	for len(b) > 0 {
		if len(b) < 8 {
			return nil, fmt.Errorf("%d stray bytes", len(b))
		}
		size, hlen := uint64(binary.BigEndian.Uint32(b)), uint64(8)
		if size == 1 {
			if len(b) < 16 {
				return nil, errors.New("truncated large box header")
			}
			size, hlen = binary.BigEndian.Uint64(b[8:]), 16
		}
		if size == 0 {
			size = uint64(len(b))
		}
		if size < hlen || size > uint64(len(b)) {
			return nil, fmt.Errorf("box %q of size %d does not fit in %d bytes", printable(string(b[4:8])), size, len(b))
		}
		out = append(out, rawBox{typ: string(b[4:8]), full: b[:size], body: b[hlen:size]})
		b = b[size:]
	}
	return out, nil
}

// child returns the first child of type typ of a container payload.
func child(b []byte, typ string) (rawBox, bool) {
	kids, err := children(b)
	if err != nil {
		return rawBox{}, false
	}
	for _, k := range kids {
		if k.typ == typ {
			return k, true
		}
	}
	return rawBox{}, false
}

// decodeMoov reads a moov box (its complete bytes). It walks the box tree itself and hands
// mp4ff only each track's sample description (stsd), so hostile sample tables and key
// counts never reach a decoder that trusts them; pssh boxes go to engine/drm's parsers.
func decodeMoov(b []byte) (*initInfo, error) {
	kids, err := children(b[8:])
	if err != nil {
		return nil, fmt.Errorf("moov: %w", err)
	}
	info := &initInfo{}
	for _, k := range kids {
		switch k.typ {
		case "trak":
			if t, ok := trackInfo(k.body); ok {
				info.tracks = append(info.tracks, t)
			}
		case "pssh":
			if _, err := drm.DecodePSSHBytes(k.full); err == nil {
				info.pssh = append(info.pssh, rawPSSH{raw: k.full})
			}
		case "uuid":
			if p, ok := piffPSSH(k.body); ok {
				info.pssh = append(info.pssh, p)
			}
		}
	}
	if len(info.tracks) == 0 {
		return nil, errors.New("moov has no audio, video or text track")
	}
	return info, nil
}

// piffPSSH converts the payload of a PIFF uuid pssh box (uuid, version/flags, SystemID,
// DataSize, Data) into a standard pssh box.
func piffPSSH(body []byte) (rawPSSH, bool) {
	if len(body) < 16+24 || !bytes.Equal(body[:16], piffPSSHUUID) {
		return rawPSSH{}, false
	}
	p := body[16:]
	n := binary.BigEndian.Uint32(p[20:24])
	if uint64(n) > uint64(len(p)-24) {
		return rawPSSH{}, false
	}
	box := &mp4.PsshBox{SystemID: mp4.UUID(append([]byte(nil), p[4:20]...)), Data: append([]byte(nil), p[24:24+n]...)}
	var raw bytes.Buffer
	if err := box.Encode(&raw); err != nil {
		return rawPSSH{}, false
	}
	if _, err := drm.DecodePSSHBytes(raw.Bytes()); err != nil {
		return rawPSSH{}, false
	}
	return rawPSSH{piff: true, raw: raw.Bytes()}, true
}

// trackInfo reads a trak payload: the handler type and the protection of its first sample
// entry.
func trackInfo(trak []byte) (initTrack, bool) {
	mdia, ok := child(trak, "mdia")
	if !ok {
		return initTrack{}, false
	}
	hdlr, ok := child(mdia.body, "hdlr")
	if !ok || len(hdlr.body) < 12 {
		return initTrack{}, false
	}
	kind, ok := media.KindForHandler(string(hdlr.body[8:12]))
	if !ok {
		return initTrack{}, false
	}
	t := initTrack{kind: kind}
	minf, ok := child(mdia.body, "minf")
	if !ok {
		return t, true
	}
	stbl, ok := child(minf.body, "stbl")
	if !ok {
		return t, true
	}
	stsd, ok := child(stbl.body, "stsd")
	if !ok {
		return t, true
	}
	sinf := sampleEntrySinf(stsd.full)
	if sinf == nil {
		return t, true
	}
	protection(&t, sinf)
	return t, true
}

// sampleEntrySinf decodes a sample description with mp4ff and returns the first sample
// entry's sinf (nil when clear or undecodable).
func sampleEntrySinf(stsd []byte) (sinf *mp4.SinfBox) {
	defer func() {
		if recover() != nil {
			sinf = nil
		}
	}()
	box, err := mp4.DecodeBox(0, bytes.NewReader(stsd))
	if err != nil {
		return nil
	}
	sd, ok := box.(*mp4.StsdBox)
	if !ok {
		return nil
	}
	for _, c := range sd.Children {
		switch se := c.(type) {
		case *mp4.VisualSampleEntryBox:
			sinf = se.Sinf
		case *mp4.AudioSampleEntryBox:
			sinf = se.Sinf
		}
		if sinf != nil {
			return sinf
		}
	}
	return nil
}

// protection fills t's scheme, default KID and PIFF flag from a sinf.
func protection(t *initTrack, sinf *mp4.SinfBox) {
	t.protected = true
	if sinf.Schi != nil {
		for _, c := range sinf.Schi.Children {
			if u, ok := c.(*mp4.UUIDBox); ok && u.SubType() == "piff-tenc" {
				t.piff = true
				t.scheme = drm.SchemeCENC
				if u.PiffTenc != nil && u.PiffTenc.AlgorithmID == 2 {
					t.scheme = drm.SchemeCBCS
				}
			}
		}
		if sinf.Schi.Tenc != nil && len(sinf.Schi.Tenc.DefaultKID) == 16 {
			t.kid = drm.KID(sinf.Schi.Tenc.DefaultKID)
		}
	}
	if sinf.Schm != nil && !t.piff {
		if sc, err := drm.ParseScheme(sinf.Schm.SchemeType); err == nil {
			t.scheme = sc
		}
	}
}
