package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// satchelTheme is Fyne's default theme with the colours that carry meaning made legible: every
// text colour meets WCAG AA (4.5:1) on the backgrounds it is drawn on and every control
// boundary 3:1 (contrast_test.go computes the ratios), in the light and the dark variant. The
// default theme draws unticked check boxes and entry borders at about 1.2:1, its success
// green is 1.6:1 on white and placeholder text 3.2:1. When variant is set it pins that variant;
// otherwise the system's is used.
type satchelTheme struct {
	fyne.Theme
	variant *fyne.ThemeVariant
}

// newTheme returns the theme, pinned to v when v is not nil.
func newTheme(v *fyne.ThemeVariant) fyne.Theme {
	return satchelTheme{Theme: theme.DefaultTheme(), variant: v}
}

// palette holds the colours Satchel replaces, per variant.
var palette = map[fyne.ThemeVariant]map[fyne.ThemeColorName]color.NRGBA{
	theme.VariantLight: {
		theme.ColorNameForeground:          {0x2b, 0x2b, 0x2e, 0xff},
		theme.ColorNamePlaceHolder:         {0x6a, 0x6a, 0x6e, 0xff},
		theme.ColorNameInputBorder:         {0x80, 0x80, 0x85, 0xff},
		theme.ColorNameDisabled:            {0x8a, 0x8a, 0x8e, 0xff},
		theme.ColorNamePrimary:             {0x1d, 0x5f, 0xd6, 0xff},
		theme.ColorNameForegroundOnPrimary: {0xff, 0xff, 0xff, 0xff},
		theme.ColorNameHyperlink:           {0x1d, 0x5f, 0xd6, 0xff},
		theme.ColorNameSuccess:             {0x1a, 0x7a, 0x36, 0xff},
		theme.ColorNameForegroundOnSuccess: {0xff, 0xff, 0xff, 0xff},
		theme.ColorNameWarning:             {0x9a, 0x4d, 0x00, 0xff},
		theme.ColorNameForegroundOnWarning: {0xff, 0xff, 0xff, 0xff},
		theme.ColorNameError:               {0xc0, 0x26, 0x26, 0xff},
		theme.ColorNameForegroundOnError:   {0xff, 0xff, 0xff, 0xff},
		theme.ColorNameScrollBar:           {0x00, 0x00, 0x00, 0x99},
	},
	theme.VariantDark: {
		theme.ColorNameForeground:          {0xf3, 0xf3, 0xf3, 0xff},
		theme.ColorNamePlaceHolder:         {0xa8, 0xa8, 0xac, 0xff},
		theme.ColorNameInputBorder:         {0x8a, 0x8a, 0x90, 0xff},
		theme.ColorNameDisabled:            {0x80, 0x80, 0x84, 0xff},
		theme.ColorNamePrimary:             {0x5b, 0x9c, 0xff, 0xff},
		theme.ColorNameForegroundOnPrimary: {0x10, 0x10, 0x12, 0xff},
		theme.ColorNameHyperlink:           {0x7a, 0xb0, 0xff, 0xff},
		theme.ColorNameSuccess:             {0x4a, 0xde, 0x80, 0xff},
		theme.ColorNameForegroundOnSuccess: {0x10, 0x10, 0x12, 0xff},
		theme.ColorNameWarning:             {0xfb, 0xbf, 0x24, 0xff},
		theme.ColorNameForegroundOnWarning: {0x10, 0x10, 0x12, 0xff},
		theme.ColorNameError:               {0xf8, 0x71, 0x71, 0xff},
		theme.ColorNameForegroundOnError:   {0x10, 0x10, 0x12, 0xff},
		theme.ColorNameScrollBar:           {0xff, 0xff, 0xff, 0x99},
	},
}

// Color implements fyne.Theme.
func (t satchelTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if t.variant != nil {
		v = *t.variant
	}
	if p, ok := palette[v]; ok {
		if c, ok := p[n]; ok {
			return c
		}
	}
	return t.Theme.Color(n, v)
}

// variantPtr returns a pointer to v (for newTheme).
func variantPtr(v fyne.ThemeVariant) *fyne.ThemeVariant { return &v }

// blend mixes c over bg at alpha a (0–1), opaque: the colour a translucent fill shows.
func blend(c, bg color.Color, a float64) color.NRGBA {
	cr, cg, cb, _ := c.RGBA()
	br, bgg, bb, _ := bg.RGBA()
	mix := func(x, y uint32) uint8 { return uint8((float64(x>>8)*a + float64(y>>8)*(1-a)) + 0.5) }
	return color.NRGBA{mix(cr, br), mix(cg, bgg), mix(cb, bb), 0xff}
}
