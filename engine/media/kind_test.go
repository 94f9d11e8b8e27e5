package media

import "testing"

func TestParseKindAndHandlers(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Kind
		ok   bool
	}{{"video", Video, true}, {"Audio", Audio, true}, {"text", Text, true}, {"hint", "", false}} {
		t.Run(c.in, func(t *testing.T) {
			if got, err := ParseKind(c.in); (err == nil) != c.ok || got != c.want {
				t.Fatalf("ParseKind(%q) = %q, %v", c.in, got, err)
			}
		})
	}
	for h, want := range map[string]Kind{"vide": Video, "soun": Audio, "text": Text, "sbtl": Text, "subt": Text, "hint": ""} {
		if got, ok := KindForHandler(h); got != want || ok != (want != "") {
			t.Errorf("KindForHandler(%q) = %q, %v", h, got, ok)
		}
	}
}
