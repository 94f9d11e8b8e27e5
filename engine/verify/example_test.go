package verify_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"satchel/engine/drm"
	"satchel/engine/verify"
)

// Verify a published package over HTTP with its content key: segments on a CDN host are
// fetched because that host is allowed, every sample is decoded, and the whole run is bounded.
func ExampleVerify() {
	key, err := drm.ParseKeySpec("10203040506070809000a0b0c0d0e0f0:00112233445566778899aabbccddeeff")
	if err != nil {
		panic(err)
	}
	rep, err := verify.Verify(context.Background(), verify.Input{
		Path:       "https://media.example.com/show1/manifest.mpd",
		Keys:       []drm.ContentKey{key},
		Full:       true,
		AllowHosts: []string{"cdn.example.com"},
		Limits:     verify.Limits{MaxTime: 10 * time.Minute},
	})
	if err != nil {
		fmt.Println("cannot verify:", err)
		return
	}
	_ = rep.WriteText(os.Stdout)
	for _, t := range rep.Inventory.Tracks {
		fmt.Println(t.File, t.Kind, t.Scheme, t.Decode)
	}
}
