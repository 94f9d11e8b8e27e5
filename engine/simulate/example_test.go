package simulate_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"time"

	"satchel/engine/drm"
	"satchel/engine/license"
	"satchel/engine/policy"
	"satchel/engine/simulate"
)

// ExampleDevice_Run simulates the classic rental on a device that talks to the real license
// handler, and prints every play decision.
func ExampleDevice_Run() {
	key, _ := drm.RandomContentKey(drm.TrackSD)
	preset, _ := simulate.PresetByName(simulate.PresetRental)
	pol := preset.Policy()
	srv := &license.Server{Keys: license.StaticKeys{key}, Policy: func() *policy.Policy { return pol },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	sc, _ := simulate.ParseScenario("download@0,play@day2+20h,play@+47h,play@+49h")
	content, _ := simulate.NewContent([]drm.ContentKey{key}, []drm.System{drm.PlayReady, drm.FairPlay})
	dev := &simulate.Device{ID: "tablet", Client: license.NewClient(ts.URL, "")}
	tl, err := dev.Run(context.Background(), sc, content)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, lane := range tl.Lanes {
		for _, m := range lane.Marks {
			fmt.Printf("%s %s: %s\n", lane.System.Title(), m.At.Label(), strings.TrimSpace(string(m.Outcome)+" "+string(m.Clock)))
		}
	}
	// Output:
	// PlayReady day 2, 20:00: plays
	// PlayReady day 4, 19:00: plays
	// PlayReady day 4, 21:00: refused playready-first-play-expiration
	// FairPlay day 2, 20:00: plays
	// FairPlay day 4, 19:00: plays
	// FairPlay day 4, 21:00: refused fairplay-playback-duration
}
