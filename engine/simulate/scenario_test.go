package simulate

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func h(n int) Offset { return Offset(n) * Hour }

func TestOffsetLabelAndString(t *testing.T) {
	cases := []struct {
		o            Offset
		label, short string
	}{
		{0, "day 1, 00:00", "0"},
		{h(44), "day 2, 20:00", "1d20h"},
		{h(91) + Offset(30*time.Minute), "day 4, 19:30", "3d19h30m"},
		{Offset(90 * time.Second), "day 1, 00:01:30", "1m30s"},
		{-h(3), "day 0, 21:00", "-3h"},
		{364 * Day, "day 365, 00:00", "364d"},
	}
	for _, c := range cases {
		t.Run(c.short, func(t *testing.T) {
			if got := c.o.Label(); got != c.label {
				t.Errorf("Label = %q, want %q", got, c.label)
			}
			if got := c.o.String(); got != c.short {
				t.Errorf("String = %q, want %q", got, c.short)
			}
			var back Offset
			if err := back.UnmarshalText([]byte(c.short)); err != nil || back != c.o {
				t.Errorf("UnmarshalText(%q) = %v, %v", c.short, back, err)
			}
		})
	}
}

func TestParseScenario(t *testing.T) {
	cases := []struct {
		name, spec, want string // want: the canonical compact form
	}{
		{"brief example", "download@0,play@day2+20h,play@+47h,play@+49h", "download@0,play@1d20h,play@3d19h,play@3d21h"},
		{"implicit download", "play@1h", "download@0,play@1h"},
		{"play for", "play@day2+20h for 2h,play@+47h", "download@0,play@1d20h for 2h,play@3d19h"},
		{"stop folds into play", "download@0,play@1h,stop@3h", "download@0,play@1h for 2h"},
		{"stop relative to first play", "download@0,play@day2,stop@+90m", "download@0,play@1d for 1h30m"},
		{"plus before any play is after the download", "download@2h,play@+1h", "download@2h,play@3h"},
		{"clock", "download@0,play@1h,clock@day3=-2d,play@day3+2h", "download@0,play@1h,clock@2d=-2d,play@2d2h"},
		{"clock forward", "clock@1h=+1d", "download@0,clock@1h=+1d"},
		{"iso durations", "download@0,play@PT48H,play@P3D", "download@0,play@2d,play@3d"},
		{"case and spaces", " Download@0 , PLAY@Day2 ", "download@0,play@1d"},
		{"preset", "rental", "download@0,play@1d20h for 2h,play@3d19h for 2h,play@3d21h"},
		{"json", `{"name":"x","events":[{"do":"download","at":"0"},{"do":"play","at":"day2+20h","for":"2h"},` +
			`{"do":"clock","at":"day3","shift":"-1d"},{"do":"play","at":"+49h"}]}`, "download@0,play@1d20h for 2h,clock@2d=-1d,play@3d21h"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sc, err := ParseScenario(c.spec)
			if err != nil {
				t.Fatal(err)
			}
			if got := sc.String(); got != c.want {
				t.Fatalf("got %s\nwant %s", got, c.want)
			}
			again, err := ParseScenario(sc.String())
			if err != nil || again.String() != sc.String() {
				t.Fatalf("canonical form does not round-trip: %v %s", err, again)
			}
		})
	}
}

func TestParseScenarioErrors(t *testing.T) {
	cases := []struct {
		name, spec string
		event      int
		want       string
	}{
		{"empty", "", 0, "no events"},
		{"no at", "download", 1, "ACTION@TIME"},
		{"unknown action", "watch@1h", 1, "download, play, stop or clock"},
		{"bad time", "play@tomorrow", 1, "not a duration"},
		{"bad day", "play@day0", 1, "the day must be a number from 1"},
		{"out of order", "download@0,play@2d,play@1d", 3, "time order"},
		{"stop without play", "download@0,stop@1h", 2, "no play is in progress"},
		{"stop after play with length", "play@1h for 1h,stop@3h", 2, "no play"},
		{"relative without anchor", "play@+1h,download@2h", 1, "there is none yet"},
		{"clock without shift", "clock@1h", 1, "needs a shift"},
		{"zero shift", "clock@1h=0", 1, "changes nothing"},
		{"download with shift", "download@0=+1h", 1, "only a time"},
		{"too long ago", "play@1000000d", 1, "100 years"},
		{"json unknown field", `{"events":[{"do":"play","when":"1h"}]}`, 0, "not a scenario JSON"},
		{"too many", strings.Repeat("play@1h,", 300) + "play@1h", 0, "at most"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseScenario(c.spec)
			var se *ScenarioError
			if !errors.As(err, &se) || se.Event != c.event || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want event %d containing %q", err, c.event, c.want)
			}
		})
	}
}

func TestPresetsParse(t *testing.T) {
	for _, p := range Presets() {
		t.Run(p.Name, func(t *testing.T) {
			sc, err := ParseScenario(p.Spec)
			if err != nil {
				t.Fatal(err)
			}
			if sc.Events[0].Action != ActionDownload || p.Policy() == nil || p.Title == "" || p.Description == "" {
				t.Fatalf("incomplete preset %+v", p)
			}
		})
	}
	if _, ok := PresetByName("nope"); ok {
		t.Fatal("unknown preset found")
	}
}

func FuzzParseScenario(f *testing.F) {
	for _, p := range Presets() {
		f.Add(p.Spec)
	}
	f.Add(`{"events":[{"do":"play","at":"day2+20h","for":"2h"},{"do":"clock","at":"+1h","shift":"-1d"}]}`)
	f.Add("play@day99999+99999d for 9999999h")
	f.Fuzz(func(t *testing.T, spec string) {
		sc, err := ParseScenario(spec)
		if err != nil {
			return
		}
		// An accepted scenario is ordered, in range, starts with a download and round-trips.
		var last Offset
		for _, e := range sc.Events {
			if e.At < last || e.At > maxOffset || e.For < 0 {
				t.Fatalf("bad event %+v in %q", e, spec)
			}
			last = e.At
		}
		if sc.Events[0].Action != ActionDownload && !hasDownload(sc) {
			t.Fatalf("no download in %q", spec)
		}
		again, err := ParseScenario(sc.String())
		if err != nil || again.String() != sc.String() {
			t.Fatalf("round trip of %q: %v %q", sc.String(), err, again.String())
		}
	})
}

func hasDownload(sc Scenario) bool {
	for _, e := range sc.Events {
		if e.Action == ActionDownload {
			return true
		}
	}
	return false
}
