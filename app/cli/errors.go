package cli

import (
	"errors"
	"fmt"

	"satchel/app/services"
	"satchel/internal/field"
)

// flagFor names the flag (or argument) that sets each request field, so a *field.Error from
// the services or below reads in the CLI's own words.
var flagFor = map[string]string{
	"inputs":           "--in",
	"out_dir":          "--out",
	"segment_duration": "--segment",
	"clear_lead":       "--clear-lead",
	"schemes":          "--scheme",
	"formats":          "--formats",
	"systems":          "--drm",
	"keys":             "--key",
	"key_set":          "--keyset",
	"cpix_file":        "--keys",
	"policy":           "--policy",
	"policy_file":      "--policy",
	"concurrency":      "--concurrency",
	"target":           "--to",
	"src_dir":          "DIR",
	"sas_expiry":       "--sas-expiry",
	"block_size":       "--block-size",
	"path":             "PATH",
	"license_url":      "--license-url",
	"sources":          "--source",
	"content_dir":      "--content",
	"name":             "--name",
	"track_types":      "--types",
	"content_id":       "--content-id",
	"piff":             "--piff",
	"smooth":           "--smooth",
	"package":          "PKG",
	"scenario":         "--scenario",
	"device":           "--device",
	"devices":          "--device",
	// satchel encode; the encode part of satchel package --master is "encode.<field>".
	"ladder":                  "--ladder",
	"ladder_file":             "--ladder",
	"codec":                   "--codec",
	"speed":                   "--speed",
	"strategy":                "--strategy",
	"encode.master":           "--master",
	"encode.ladder":           "--ladder",
	"encode.ladder_file":      "--ladder",
	"encode.codec":            "--codec",
	"encode.speed":            "--speed",
	"encode.strategy":         "--strategy",
	"encode.out_dir":          "--renditions",
	"encode.segment_duration": "--segment",
}

// flagProblem phrases a *field.Error with the flag that sets the field.
func flagProblem(err error) (string, bool) {
	var fe *field.Error
	if !errors.As(err, &fe) {
		return "", false
	}
	name, ok := flagFor[fe.Field]
	if !ok {
		return "", false
	}
	if fe.Value == "" {
		return fmt.Sprintf("%s: %s", name, fe.Reason), true
	}
	return fmt.Sprintf("%s %s: %s", name, fe.Value, fe.Reason), true
}

// remedy words each services.Remedy for the command line.
var remedy = map[services.Remedy]string{
	services.RemedyCloseOther:   "close the Satchel app (or the other satchel command) or pass --workspace DIR",
	services.RemedyNewOutput:    "choose a new folder with --out or pass --overwrite",
	services.RemedyGiveKey:      "pass it with --key KID:KEY or --keys CPIX",
	services.RemedyListKeySets:  "see `satchel keys list`",
	services.RemedyListPolicies: "see `satchel policy list` or `satchel policy presets`",
	services.RemedyCheckName:    "check the name",
	services.RemedyRepeat:       "run the same command again to finish (unchanged files are skipped)",
	services.RemedyGiveCredentials: "set AZURE_STORAGE_CONNECTION_STRING" +
		" (or AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY)," +
		" or pass --connection-string or --sas-url",
	services.RemedySelectAssets: "give the renditions with --in",
	services.RemedySmallerRung:  "remove that rung or make it smaller, or use --ladder auto (never larger than the master)",
	services.RemedyFixLadder:    "correct the ladder (`satchel help encode` shows the ladder file format)",
	services.RemedyOtherMaster:  "give a video file ffmpeg reads (MOV/ProRes, MXF, MKV, MP4)",
	services.RemedyInstallTool: "install ffmpeg with libx264, libx265 and libsvtav1 (scripts/deps.sh installs Debian's)" +
		" or choose another --codec",
}

// explain adds what to do, in the CLI's words, to the typed errors of the lower layers.
func explain(err error) string {
	if r, ok := remedy[services.RemedyFor(err)]; ok {
		return err.Error() + "; " + r
	}
	return err.Error()
}
