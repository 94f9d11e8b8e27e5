package packaging

import (
	"slices"
	"testing"
)

func TestParseFormats(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []Format
	}{
		{"dash,hls,mp4", AllFormats}, {"all", AllFormats}, {"MP4, dash,dash", []Format{FormatDASH, FormatMP4}},
		{"hls", []Format{FormatHLS}}, {"smooth", nil}, {" , ", nil},
	} {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseFormats(c.in)
			if (err == nil) != (c.want != nil) || !slices.Equal(got, c.want) {
				t.Fatalf("ParseFormats(%q) = %v, %v", c.in, got, err)
			}
		})
	}
}
