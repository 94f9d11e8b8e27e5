// Package assets embeds the files the binary ships: the application icon and the demo
// player page served by the embedded license server.
package assets

import (
	"embed"
	"io/fs"
)

//go:embed icon.png
var Icon []byte

//go:embed player
var player embed.FS

// Player returns the demo player's files (index.html, player.js).
func Player() fs.FS {
	sub, _ := fs.Sub(player, "player")
	return sub
}
