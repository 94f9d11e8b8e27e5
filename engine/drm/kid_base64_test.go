package drm

import (
	"strings"
	"testing"
)

// A base64 key ID may begin with "0x" (any KID whose first byte is 0xd3 and next nibble 1);
// that prefix must only be stripped from hex notations, or the KID silently changes.
func TestParseKIDBase64With0xPrefix(t *testing.T) {
	k := KID{0xd3, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0, 0xd0, 0xe0, 0xf0}
	for _, form := range []string{k.Base64(), k.Base64URL()} {
		if !strings.HasPrefix(form, "0x") {
			t.Fatalf("test KID encodes as %s, not starting with 0x", form)
		}
		got, err := ParseKID(form)
		if err != nil || got != k {
			t.Errorf("ParseKID(%s) = %s, %v; want %s", form, got, err, k)
		}
	}
	if got, err := ParseKID("0x" + k.Hex()); err != nil || got != k {
		t.Errorf("0x-prefixed hex: %s, %v", got, err)
	}
}
