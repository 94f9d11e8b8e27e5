package media

import (
	"fmt"
	"strings"
)

// Role is what an audio or text track is for, in the DASH Role vocabulary
// (urn:mpeg:dash:role:2011, ISO/IEC 23009-1 Table 22); HLS expresses the same through
// DEFAULT, AUTOSELECT, FORCED and CHARACTERISTICS.
type Role string

// The roles Satchel signals.
const (
	RoleMain        Role = "main"        // the main audio (the default in its group)
	RoleAlternate   Role = "alternate"   // another language or mix of the main programme
	RoleDub         Role = "dub"         // a dubbed language version
	RoleCommentary  Role = "commentary"  // commentary: never chosen automatically
	RoleDescription Role = "description" // audio description for the visually impaired
	RoleSubtitle    Role = "subtitle"    // subtitles (text)
	RoleCaption     Role = "caption"     // captions / SDH for the deaf and hard of hearing (text)
	RoleForced      Role = "forced-subtitle"
)

// AudioRoles lists the roles an audio track can be given.
var AudioRoles = []Role{RoleMain, RoleAlternate, RoleDub, RoleCommentary, RoleDescription}

// ParseAudioRole parses an audio role name (case-insensitive); "" gives "" (derived later).
func ParseAudioRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if r == "" {
		return "", nil
	}
	for _, v := range AudioRoles {
		if r == v {
			return r, nil
		}
	}
	return "", fmt.Errorf("unknown audio role %q: use main, alternate, dub, commentary or description", s)
}
