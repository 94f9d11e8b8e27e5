package verify

import (
	"bytes"
	"strings"
	"testing"

	"satchel/engine/devices"
)

// TestHTMLVerdictBanner checks that the HTML report opens with a banner styled by the verdict,
// and that the page follows the reader's colour scheme.
func TestHTMLVerdictBanner(t *testing.T) {
	for _, tc := range []struct {
		name           string
		sum            Summary
		verdict, class string
		fixHint        bool
	}{
		{"pass", Summary{Pass: 3}, "PASS", "pass", false},
		{"warn", Summary{Pass: 3, Warn: 1}, "PASS WITH WARNINGS", "warn", false},
		{"fail", Summary{Pass: 3, Warn: 1, Fail: 2}, "FAIL", "fail", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Report{Target: "pkg", Summary: tc.sum}
			var b bytes.Buffer
			if err := r.WriteHTML(&b); err != nil {
				t.Fatal(err)
			}
			html := b.String()
			banner := `<div class="banner ` + tc.class + `"><p class="verdict">` + tc.verdict + `</p>`
			if !strings.Contains(html, banner) {
				t.Errorf("no %q banner in\n%s", banner, html)
			}
			if got := strings.Contains(html, "each failure below says how to fix it"); got != tc.fixHint {
				t.Errorf("fix hint shown = %v, want %v", got, tc.fixHint)
			}
			r.Readiness = &devices.Matrix{}
			b.Reset()
			var text bytes.Buffer
			if err := r.WriteHTML(&b); err != nil || r.WriteText(&text) != nil {
				t.Fatal(err)
			}
			for name, out := range map[string]string{"HTML": b.String(), "text": text.String()} {
				if got := strings.Contains(out, readinessCaveat); got != tc.fixHint {
					t.Errorf("%s: readiness caveat shown = %v, want %v", name, got, tc.fixHint)
				}
			}
			if !strings.Contains(html, "prefers-color-scheme:dark") {
				t.Error("the report has no dark colour scheme")
			}
		})
	}
}
