package isodur

import (
	"testing"
	"time"
)

func TestParseFormat(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
	}{{"PT48H", 48 * time.Hour}, {"P2D", 48 * time.Hour}, {"PT6.021S", 6021 * time.Millisecond}, {"PT1H2M3S", time.Hour + 2*time.Minute + 3*time.Second}, {"P1DT1H", 25 * time.Hour}, {"PT0S", 0}}
	for _, c := range cases {
		got, err := Parse(c.in)
		if err != nil || got != c.want {
			t.Errorf("Parse(%s) = %s, %v; want %s", c.in, got, err, c.want)
		}
		if back, _ := Parse(Format(got)); back != got {
			t.Errorf("Format(%s) = %s does not parse back", got, Format(got))
		}
	}
	for _, bad := range []string{"", "P", "48h", "PT", "PTxS", "PT1", "P1H", "PT1D"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
	if Format(6021*time.Millisecond) != "PT6.021S" || Format(0) != "PT0S" || Format(90*time.Minute) != "PT1H30M" {
		t.Errorf("Format: %s %s %s", Format(6021*time.Millisecond), Format(0), Format(90*time.Minute))
	}
}

func FuzzParse(f *testing.F) {
	f.Add("PT1H2M3.5S")
	f.Fuzz(func(t *testing.T, s string) { _, _ = Parse(s) })
}
