package manifest

import (
	"fmt"
	"path"
	"strings"

	"satchel/engine/drm"
)

// The names of a Satchel package's files, relative to its root. packaging writes them;
// verify, publish and the license server read them.
const (
	// FileMPD is the DASH manifest of the first scheme (cenc when both are written).
	FileMPD = "manifest.mpd"
	// FileHLSMaster is the HLS multivariant playlist (cbcs when both schemes are written).
	FileHLSMaster = "master.m3u8"
	// FileHLSMedia is the name of each rendition's media playlist, inside its folder.
	FileHLSMedia = "playlist.m3u8"
	// FileHLSIFrames is the name of each video rendition's HLS I-frame playlist, inside its
	// folder (byte ranges into the rendition's segments).
	FileHLSIFrames = "iframes.m3u8"
	// FileInit is the name of each rendition's CMAF init segment, inside its folder.
	FileInit = "init.mp4"
	// FileKeys is the CPIX document with the content keys in the clear: private, never published.
	FileKeys = "keys.cpix.xml"
	// FilePolicy is the offline policy written beside the manifests: private, never published.
	FilePolicy = "policy.json"
	// DirDownload holds one single-file MP4 per rendition for progressive download.
	DirDownload = "download"
	// DirText holds the subtitle renditions, one folder each, shared by every scheme (subtitles
	// are never encrypted): init.mp4 and wvtt segments for DASH, WebVTT segments for HLS.
	DirText = "text"
	// FileSmooth is the Smooth Streaming client manifest, in the cenc scheme's folder: the cenc
	// renditions' segments sit beside it at SmoothFragmentPath names, which its Url patterns,
	// the MPD and the HLS playlists all point to.
	FileSmooth = "cenc/manifest.ismc"
)

// FileMPDFor is the DASH manifest name of scheme when it is not the first scheme written
// ("manifest_cbcs.mpd").
func FileMPDFor(scheme drm.Scheme) string { return "manifest_" + string(scheme) + ".mpd" }

// FileHLSMasterFor is the HLS multivariant playlist name of scheme when it is not the one
// FileHLSMaster holds ("master_cenc.m3u8").
func FileHLSMasterFor(scheme drm.Scheme) string { return "master_" + string(scheme) + ".m3u8" }

// SegmentName is the file name of media segment n (1-based) inside a rendition folder.
func SegmentName(n int) string { return fmt.Sprintf("seg_%05d.m4s", n) }

// TrickDir is the folder of a video rendition's trick-play track (DASH trick mode) beside the
// rendition's folder dir ("cenc/240p" → "cenc/240p_trick"): its own init.mp4 and one segment
// (SegmentName) per segment of the rendition, each holding that segment's I-frame alone.
func TrickDir(dir string) string { return dir + "_trick" }

// TextSegmentName is the file name of WebVTT segment n (1-based) inside a text rendition folder.
func TextSegmentName(n int) string { return fmt.Sprintf("seg_%05d.vtt", n) }

// IsPrivate reports whether a file of a package (path relative to its root, any depth, '/' or
// OS separators) holds secrets or policy that must never be published or served.
func IsPrivate(rel string) bool {
	base := path.Base(strings.ReplaceAll(rel, "\\", "/"))
	return base == FileKeys || base == FilePolicy
}
