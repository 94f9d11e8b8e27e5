package ui

import (
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"satchel/app/services"
	"satchel/internal/field"
)

// fieldLabel names the form field that sets each request field, so a *field.Error from the
// services or below reads in the screens' own words.
var fieldLabel = map[string]string{
	"inputs":           "Ladder",
	"out_dir":          "Output folder",
	"segment_duration": "Segment duration",
	"clear_lead":       "Clear lead",
	"schemes":          "Schemes",
	"formats":          "Outputs",
	"systems":          "DRM systems",
	"keys":             "Key set",
	"key_set":          "Key set",
	"policy":           "Policy",
	"concurrency":      "Concurrency",
	"target":           "Destination",
	"src_dir":          "Package",
	"sas_expiry":       "SAS validity",
	"path":             "Target",
	"license_url":      "License server",
	"content_dir":      "Content",
	"name":             "Name",
	"track_types":      "Track types",
	"theme":            "Theme",
	"content_id":       "Content ID",
	"piff":             "PIFF download",
	"smooth":           "Smooth Streaming",
	"package":          "Package",
	"scenario":         "Scenario",
	"device":           "Device",
	"devices":          "Offline readiness",
	// the Assets screen's encoder; the encode part of a package request is "encode.<field>"
	"master":                  "Master",
	"ladder":                  "Ladder",
	"ladder_file":             "Ladder",
	"codec":                   "Codec",
	"speed":                   "Speed",
	"strategy":                "Strategy",
	"encode.master":           "Master",
	"encode.ladder":           "Ladder",
	"encode.codec":            "Codec",
	"encode.speed":            "Speed",
	"encode.strategy":         "Strategy",
	"encode.out_dir":          "Output folder (rungs)",
	"encode.segment_duration": "Segment duration",
}

// remedy words each services.Remedy for the screens.
var remedy = map[services.Remedy]string{
	services.RemedyCloseOther: "\n\nOnly one Satchel window or command can use a workspace at a time:" +
		" close the other one.",
	services.RemedyNewOutput:    "; choose a new output folder or tick “replace an existing package”",
	services.RemedyGiveKey:      "; choose the key set that holds it",
	services.RemedyListKeySets:  "; choose one from the list",
	services.RemedyListPolicies: "; choose one from the list",
	services.RemedyCheckName:    "; choose one from the list",
	services.RemedyRepeat:       "; press Publish again to finish (unchanged files are skipped)",
	services.RemedyGiveCredentials: "; enter a connection string or SAS URL, choose a saved target," +
		" or set AZURE_STORAGE_CONNECTION_STRING",
	services.RemedySelectAssets: "; tick at least one asset on the Assets screen",
	services.RemedySmallerRung:  "; lower that row's resolution, remove it, or pick the auto preset",
	services.RemedyFixLadder:    "; correct the row in the ladder editor",
	services.RemedyOtherMaster:  "; choose a video file ffmpeg reads (MOV/ProRes, MXF, MKV, MP4)",
	services.RemedyInstallTool:  "; install ffmpeg with libx264, libx265 and libsvtav1, or choose another codec",
}

// explain phrases err for a dialog or an inline message: field problems name the form
// field, and the typed errors of the lower layers say what to do on screen.
func explain(err error) string {
	var fe *field.Error
	if errors.As(err, &fe) {
		label, ok := fieldLabel[fe.Field]
		switch {
		case !ok:
			return err.Error()
		case fe.Value == "":
			return fmt.Sprintf("%s: %s", label, fe.Reason)
		}
		return fmt.Sprintf("%s %q: %s", label, fe.Value, fe.Reason)
	}
	return err.Error() + remedy[services.RemedyFor(err)]
}

// problemLabel shows what is wrong with a screen's request next to its button, in the
// screen's words; it takes no room when there is nothing to show.
type problemLabel struct{ *widget.Label }

func newProblemLabel() problemLabel {
	l := widget.NewLabel("")
	l.Wrapping = fyne.TextWrapWord
	l.Importance = widget.DangerImportance
	l.Hide()
	return problemLabel{l}
}

// set shows explain(err), or hides the label when err is nil.
func (p problemLabel) set(err error) {
	if err == nil {
		p.SetText("")
		p.Hide()
		return
	}
	p.SetText(explain(err))
	p.Show()
}

// firstLine shortens a message for a status label.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
