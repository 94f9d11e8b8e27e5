package cenc

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/drm"
)

// SampleCrypto is how one sample is protected: its scheme, key, IV, subsample map and pattern,
// resolved from the sample description, 'seig' groups and 'senc'.
type SampleCrypto struct {
	Protected  bool
	Scheme     drm.Scheme
	KID        drm.KID
	IV         [16]byte // per-sample or constant IV; an 8-byte IV fills the first half
	Subsamples []mp4.SubSamplePattern
	Crypt      int // pattern crypt blocks (0 = no pattern)
	Skip       int // pattern skip blocks
}

// DecryptSample decrypts data (one sample) in place with key as sc says. A subsample map that
// does not add up to the sample size is an error (players reject such samples).
func DecryptSample(sc *SampleCrypto, key [16]byte, data []byte) error {
	if !sc.Protected {
		return nil
	}
	if len(sc.Subsamples) > 0 {
		var total uint64
		for _, s := range sc.Subsamples {
			total += uint64(s.BytesOfClearData) + uint64(s.BytesOfProtectedData)
		}
		if total != uint64(len(data)) {
			return fmt.Errorf("subsamples cover %d bytes but the sample has %d", total, len(data))
		}
	}
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return err
	}
	switch sc.Scheme {
	case drm.SchemeCENC:
		// mp4ff's AES-CTR: the counter runs on over every protected byte of the sample.
		iv := sc.IV
		return mp4.CryptSampleCenc(data, key[:], iv[:], sc.Subsamples)
	case drm.SchemeCBCS:
		iv := sc.IV
		tenc := &mp4.TencBox{DefaultCryptByteBlock: byte(sc.Crypt), DefaultSkipByteBlock: byte(sc.Skip)}
		return mp4.DecryptSampleCbcs(data, key[:], iv[:], sc.Subsamples, tenc)
	case drm.SchemeCENS:
		decryptCENS(block, sc, data)
		return nil
	case drm.SchemeCBC1:
		decryptCBC1(block, sc, data)
		return nil
	}
	return fmt.Errorf("scheme %q cannot be decrypted", sc.Scheme)
}

// ranges calls fn for each protected byte range of the sample, in order.
func ranges(sc *SampleCrypto, data []byte, fn func(b []byte)) {
	if len(sc.Subsamples) == 0 {
		fn(data)
		return
	}
	pos := 0
	for _, s := range sc.Subsamples {
		pos += int(s.BytesOfClearData)
		end := pos + int(s.BytesOfProtectedData)
		fn(data[pos:end])
		pos = end
	}
}

// decryptCENS is AES-CTR with a pattern (ISO/IEC 23001-7 §10.3): in each protected range,
// Crypt 16-byte blocks are encrypted and Skip blocks are left clear, repeating; a final group
// shorter than Crypt blocks stays clear, and so does a trailing partial block (pattern
// encryption only ever encrypts whole blocks; 0:0 is read as 1:0, as Shaka Packager writes
// audio). The counter advances over encrypted blocks only and runs on across the sample's
// subsamples.
func decryptCENS(block cipher.Block, sc *SampleCrypto, data []byte) {
	stream := cipher.NewCTR(block, sc.IV[:])
	crypt, skip := 16*sc.Crypt, 16*sc.Skip
	if crypt == 0 {
		crypt, skip = 16, 0
	}
	ranges(sc, data, func(b []byte) {
		for pos := 0; len(b)-pos >= crypt; pos += crypt + skip {
			stream.XORKeyStream(b[pos:pos+crypt], b[pos:pos+crypt])
		}
	})
}

// decryptCBC1 is AES-CBC over whole 16-byte blocks of each protected range (ISO/IEC 23001-7
// §10.2): the chain starts with the sample's IV and runs on from one subsample to the next; a
// trailing partial block of a range stays clear.
func decryptCBC1(block cipher.Block, sc *SampleCrypto, data []byte) {
	iv := sc.IV
	ranges(sc, data, func(b []byte) {
		n := len(b) &^ 15
		if n == 0 {
			return
		}
		var next [16]byte
		copy(next[:], b[n-16:n]) // the last cipher block chains into the next range
		cipher.NewCBCDecrypter(block, iv[:]).CryptBlocks(b[:n], b[:n])
		iv = next
	})
}
