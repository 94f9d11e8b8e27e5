package devices

import (
	"bytes"
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestProfilesDoc keeps docs/device-profiles.md equal to the profile table.
func TestProfilesDoc(t *testing.T) {
	var b bytes.Buffer
	if err := WriteProfilesMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	const path = "../../docs/device-profiles.md"
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(want, b.Bytes()) {
		t.Fatalf("%s is out of date with the profile table (%v): run go test ./engine/devices -run TestProfilesDoc -update", path, err)
	}
}
