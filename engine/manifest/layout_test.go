package manifest

import (
	"testing"

	"satchel/engine/drm"
)

func TestLayoutNames(t *testing.T) {
	if got := FileMPDFor(drm.SchemeCBCS); got != "manifest_cbcs.mpd" {
		t.Errorf("FileMPDFor = %q", got)
	}
	if got := SegmentName(12); got != "seg_00012.m4s" {
		t.Errorf("SegmentName = %q", got)
	}
	for rel, want := range map[string]bool{
		"keys.cpix.xml": true, "show1/keys.cpix.xml": true, `show1\policy.json`: true, "a/b/policy.json": true,
		"manifest.mpd": false, "keys.cpix.xml.bak": false, "policy.json/x.m4s": false,
	} {
		if got := IsPrivate(rel); got != want {
			t.Errorf("IsPrivate(%q) = %v, want %v", rel, got, want)
		}
	}
}
