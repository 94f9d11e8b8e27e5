package drm

import (
	"slices"
	"testing"
)

func TestParseScheme(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Scheme
		ok   bool
	}{
		{"cenc", SchemeCENC, true}, {" CBCS ", SchemeCBCS, true}, {"cens", SchemeCENS, true},
		{"cbc1", SchemeCBC1, true}, {"piff", "", false}, {"", "", false},
	} {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseScheme(c.in)
			if (err == nil) != c.ok || got != c.want {
				t.Fatalf("ParseScheme(%q) = %q, %v", c.in, got, err)
			}
		})
	}
}

func TestParseWrittenSchemes(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []Scheme
	}{
		{"both", []Scheme{SchemeCENC, SchemeCBCS}}, {"cbcs,cenc", []Scheme{SchemeCENC, SchemeCBCS}},
		{"cbcs", []Scheme{SchemeCBCS}}, {"cens", nil}, {"", nil}, {"cenc,xyz", nil},
	} {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseWrittenSchemes(c.in)
			if (err == nil) != (c.want != nil) || !slices.Equal(got, c.want) {
				t.Fatalf("ParseWrittenSchemes(%q) = %v, %v", c.in, got, err)
			}
		})
	}
	if !SchemeCBCS.CBC() || !SchemeCBCS.Pattern() || SchemeCENC.CBC() || SchemeCENC.Pattern() || !SchemeCENS.Pattern() || !SchemeCBC1.CBC() {
		t.Fatal("scheme properties are wrong")
	}
}
