//go:build ignore

// gen_icon draws Satchel's icon (a satchel with a key-hole) into icon.png.
// Run: go run gen_icon.go
package main

import (
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
)

func main() {
	const n = 512
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	bg := color.NRGBA{0x1f, 0x4e, 0x79, 0xff}
	bag := color.NRGBA{0xd9, 0x8c, 0x3a, 0xff}
	flap := color.NRGBA{0xb8, 0x6e, 0x25, 0xff}
	hole := color.NRGBA{0x1b, 0x1f, 0x24, 0xff}
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			fx, fy := float64(x), float64(y)
			// Rounded square background.
			dx := math.Max(math.Abs(fx-256)-200, 0)
			dy := math.Max(math.Abs(fy-256)-200, 0)
			if math.Hypot(dx, dy) > 48 {
				continue
			}
			c := bg
			// Handle: a ring above the bag.
			if r := math.Hypot(fx-256, fy-170); r > 60 && r < 84 && fy < 200 {
				c = bag
			}
			// Bag body.
			if fx > 116 && fx < 396 && fy > 190 && fy < 420 {
				c = bag
			}
			// Flap.
			if fx > 116 && fx < 396 && fy > 190 && fy < 290-0.0*fx {
				c = flap
			}
			// Key-hole: circle + slot.
			if math.Hypot(fx-256, fy-300) < 26 || (fx > 246 && fx < 266 && fy > 300 && fy < 360) {
				c = hole
			}
			img.Set(x, y, c)
		}
	}
	f, err := os.Create("icon.png")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		panic(err)
	}
}
