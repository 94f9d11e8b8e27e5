package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"satchel/app/jobs"
	"satchel/app/services"
	"satchel/engine/drm"
	"satchel/engine/media"
	"satchel/packaging"
)

func init() {
	register(&command{
		name:    "package",
		summary: "Segment MP4 renditions to CMAF, encrypt (cenc/cbcs) and write DASH, HLS, single-file MP4 and CPIX.",
		usage: "satchel package --in FILE... --out DIR [--drm widevine,playready,fairplay,clearkey] [--scheme cenc|cbcs|both]\n" +
			"        [--formats dash,hls,mp4] [--segment 4s] [--key TYPE=KID:KEY ...] [--keys CPIX] [--keyset NAME]\n" +
			"        [--audio FILE[:LANG[:NAME[:ROLE]]] ...] [--subtitles FILE[:LANG[:NAME[:forced,sdh]]] ...]\n" +
			"        [--skip-unsupported] [--policy FILE|NAME] [--clear-lead 0s] [--overwrite] [--json] [--workspace DIR]\n" +
			"        [--one-key] [--content-id ID] [--per-track-pssh] [--piff] [--smooth] [--no-trick-play]\n" +
			"   or: satchel package --master MASTER [--ladder PRESET|FILE] [--codec …] [--strategy …] [--quality]\n" +
			"        [--renditions DIR] --out DIR [the package flags above]   (encode the ladder first: satchel help encode)\n\n" +
			"Every audio and subtitle (mov_text/tx3g, wvtt) track of the --in files is packaged; identical copies\n" +
			"(ladder rungs carrying the same audio) once. --audio adds the audio tracks of another file, e.g.\n" +
			"  --audio fr.m4a:fr:Français:dub   --audio director.m4a:en:Director's commentary:commentary\n" +
			"(ROLE: main, alternate, dub, commentary, description). --subtitles adds an SRT or WebVTT file, e.g.\n" +
			"  --subtitles en.srt:en   --subtitles en-sdh.vtt:en:English SDH:sdh   --subtitles signs.srt:en::forced\n" +
			"LANG is BCP 47 or ISO 639-2 (en, fr, pt-BR, fra). A track that cannot be packaged (unsupported codec)\n" +
			"fails the run; --skip-unsupported leaves it out with a warning. Generated keys are saved as a key set in the\n" +
			"workspace. --key ALL=KID:KEY (or --one-key to generate it) protects every track with one key.\n" +
			"Every PSSH lists every key ID, so one license request returns every key (ExoPlayer's one offline key set);\n" +
			"--per-track-pssh names only each track's key. Video gets HLS I-frame playlists and a DASH trick-mode\n" +
			"AdaptationSet (--no-trick-play leaves them out); --piff adds the PIFF 1.1 boxes to the single-file downloads.\n" +
			"--smooth adds a Smooth Streaming client manifest (cenc/manifest.ismc): the cenc segments are written once under\n" +
			"Smooth names (QualityLevels(BITRATE)/Fragments(STREAM=TIME)) with PIFF boxes and shared by the MPD and HLS;\n" +
			"it needs the cenc scheme, PlayReady and one key for every track (generated when no key is given).",
		run: runPackage,
	})
}

// packageOutput is the --json document of `satchel package`.
type packageOutput struct {
	OutDir     string          `json:"out_dir"`
	Schemes    []drm.Scheme    `json:"schemes"`
	Systems    []drm.System    `json:"systems"`
	Keys       []keyView       `json:"keys"`
	KeySet     string          `json:"key_set,omitempty"`
	Files      []string        `json:"files"`
	Renditions []renditionView `json:"renditions"`
	Warnings   []string        `json:"warnings,omitempty"`
	Notes      []string        `json:"notes,omitempty"`
	Seconds    float64         `json:"seconds"`
	// Encode is the encode's result for `--master` (the ladder encoded first).
	Encode *services.EncodeResult `json:"encode,omitempty"`
}

type renditionView struct {
	ID        string     `json:"id"`
	Kind      media.Kind `json:"kind"`
	Codecs    string     `json:"codecs"`
	Bandwidth int64      `json:"bandwidth"`
	Segments  int        `json:"segments"`
	KID       string     `json:"kid,omitempty"`
	Language  string     `json:"language,omitempty"`
	Name      string     `json:"name,omitempty"`
	Channels  int        `json:"channels,omitempty"`
	Role      media.Role `json:"role,omitempty"`
	Default   bool       `json:"default,omitempty"`
	Forced    bool       `json:"forced,omitempty"`
	SDH       bool       `json:"sdh,omitempty"`
}

// keyView shows a key's IDs in every notation (key material only on request).
type keyView struct {
	TrackType       string `json:"track_type"`
	KID             string `json:"kid"`
	KIDHex          string `json:"kid_hex"`
	KIDBase64       string `json:"kid_base64"`
	PlayReadyBase64 string `json:"kid_playready_le_base64"`
	Key             string `json:"key,omitempty"`
}

func viewKey(k drm.ContentKey, withKey bool) keyView {
	v := keyView{TrackType: k.TrackType, KID: k.KID.String(), KIDHex: k.KID.Hex(), KIDBase64: k.KID.Base64(),
		PlayReadyBase64: k.KID.PlayReadyBase64()}
	if withKey {
		v.Key = k.KeyHex()
	}
	return v
}

// packageFlags are the flags of `satchel package`, with defaults from the services.
type packageFlags struct {
	ins, keySpecs                   stringList
	audioSpecs, subSpecs            stringList
	skipUnsupported                 bool
	out, systems, scheme, formats   string
	cpix, keyset, policy            string
	prURL, ckURL, fpURI, wvProvider string
	segment, clearLead              time.Duration
	concurrency                     int
	overwrite, showKeys, asJSON     bool
	oneKey, perTrackPSSH, piff      bool
	noTrickPlay, smooth             bool
	contentID                       string
	workspace                       *string
	enc                             encodeFlags // --master and the encode options
}

func (f *packageFlags) addFlags(e *env) (*packageFlags, func([]string) ([]string, error)) {
	def := services.DefaultPackageRequest()
	fs := newFlags(e, commands["package"])
	fs.Var(&f.ins, "in", "source MP4 rendition (repeatable; positional arguments work too)")
	fs.Var(&f.audioSpecs, "audio",
		"audio file FILE[:LANG[:NAME[:ROLE]]] packaged beside the inputs' audio (repeatable)")
	fs.Var(&f.subSpecs, "subtitles", "SRT or WebVTT file FILE[:LANG[:NAME[:forced,sdh]]] (repeatable)")
	fs.BoolVar(&f.skipUnsupported, "skip-unsupported", false,
		"leave out tracks that cannot be packaged (with a warning) instead of failing")
	fs.StringVar(&f.out, "out", "", "output folder (written atomically: temp folder renamed when complete)")
	fs.StringVar(&f.systems, "drm", joinNames(def.Systems), "DRM systems to signal (comma-separated, or all)")
	fs.StringVar(&f.scheme, "scheme", "both", "encryption scheme: cenc, cbcs or both")
	fs.StringVar(&f.formats, "formats", joinNames(def.Formats),
		"outputs: dash, hls, mp4 (single-file download per rendition)")
	fs.DurationVar(&f.segment, "segment", def.SegmentDuration,
		"target CMAF fragment duration (cut at the nearest sync sample)")
	fs.Var(&f.keySpecs, "key",
		"explicit key TYPE=KID:KEY (TYPE AUDIO, SD, HD, UHD, or ALL for every track; repeatable); others are generated")
	fs.BoolVar(&f.oneKey, "one-key", false, "generate one key for every track (ALL) instead of one per track type")
	fs.StringVar(&f.contentID, "content-id", "",
		"title ID: CPIX contentId and Widevine PSSH content_id (default: the output folder name)")
	fs.BoolVar(&f.perTrackPSSH, "per-track-pssh", false,
		"each track's PSSH names only its own key (one license request per key) instead of every key ID")
	fs.BoolVar(&f.piff, "piff", false, "add PIFF 1.1 boxes to the single-file downloads (PlayReady/Smooth offline)")
	fs.BoolVar(&f.smooth, "smooth", false,
		"add a Smooth Streaming client manifest (cenc/manifest.ismc) over the cenc segments (PlayReady, one key)")
	fs.BoolVar(&f.noTrickPlay, "no-trick-play", false, "leave out HLS I-frame playlists and DASH trick-mode tracks")
	fs.StringVar(&f.cpix, "keys", "", "take keys from a CPIX document")
	fs.StringVar(&f.keyset, "keyset", "", "take keys from a key set in the workspace")
	fs.StringVar(&f.policy, "policy", "",
		"offline policy: a JSON file (Satchel or AMS content key policy) or a policy name in the workspace")
	fs.DurationVar(&f.clearLead, "clear-lead", 0,
		"leave segments starting before this unencrypted (seig-signalled), e.g. 4s")
	fs.BoolVar(&f.overwrite, "overwrite", false, "replace an existing non-empty output folder")
	fs.IntVar(&f.concurrency, "concurrency", 0,
		"renditions packaged in parallel (0 = the workspace setting, whose 0 is one per CPU)")
	fs.StringVar(&f.prURL, "playready-la-url", "", "PlayReady LA_URL written into the WRMHEADER")
	fs.StringVar(&f.ckURL, "clearkey-la-url", "",
		"ClearKey license URL for dashif:laurl (e.g. http://127.0.0.1:8787/clearkey)")
	fs.StringVar(&f.fpURI, "fairplay-uri", def.FairPlayKeyURI, "FairPlay skd:// base URI (KID hex is appended)")
	fs.StringVar(&f.wvProvider, "widevine-provider", "", "Widevine PSSH provider field")
	fs.BoolVar(&f.showKeys, "show-keys", false, "include content keys (secret) in the output")
	fs.BoolVar(&f.asJSON, "json", false, "print one JSON document; progress as JSON lines on stderr")
	f.workspace = workspaceFlag(fs)
	f.enc.addFlags(fs, true)
	return f, func(args []string) ([]string, error) { return parse(fs, args) }
}

// request turns the flags into the services request; only parsing happens here, every rule
// is checked by the request's Validate.
func (f *packageFlags) request() (services.PackageRequest, error) {
	req := services.DefaultPackageRequest()
	req.Inputs, req.OutDir, req.SegmentDuration, req.ClearLead = f.ins, f.out, f.segment, f.clearLead
	req.Overwrite, req.Concurrency, req.PlayReadyLAURL, req.ClearKeyLAURL = f.overwrite, f.concurrency, f.prURL, f.ckURL
	req.FairPlayKeyURI, req.WidevineProvider, req.KeySet, req.CPIXFile = f.fpURI, f.wvProvider, f.keyset, f.cpix
	var err error
	if req.Systems, err = drm.ParseSystems(f.systems); err != nil {
		return req, usagef("--drm: %v", err)
	}
	if req.Schemes, err = drm.ParseWrittenSchemes(f.scheme); err != nil {
		return req, usagef("--scheme: %v", err)
	}
	if req.Formats, err = packaging.ParseFormats(f.formats); err != nil {
		return req, usagef("--formats: %v", err)
	}
	if req.Keys, err = parseKeyFlags(f.keySpecs); err != nil {
		return req, err
	}
	for _, spec := range f.audioSpecs {
		a, err := parseAudioSpec(spec)
		if err != nil {
			return req, usagef("--audio %v", err)
		}
		req.Audio = append(req.Audio, a)
	}
	for _, spec := range f.subSpecs {
		st, err := parseSubtitleSpec(spec)
		if err != nil {
			return req, usagef("--subtitles %v", err)
		}
		req.Subtitles = append(req.Subtitles, st)
	}
	req.SkipUnsupported = f.skipUnsupported
	req.OneKey, req.ContentID, req.PerTrackInitData = f.oneKey, f.contentID, f.perTrackPSSH
	req.PIFF, req.NoTrickPlay, req.Smooth = f.piff, f.noTrickPlay, f.smooth
	req.Policy, req.PolicyFile = policyRef(f.policy)
	req.Encode, err = f.enc.packageRequest()
	return req, err
}

// policyRef reads --policy FILE|NAME: an existing file is a policy file, anything else the
// name of a workspace policy or preset.
func policyRef(arg string) (name, file string) {
	if arg == "" {
		return "", ""
	}
	if st, err := os.Stat(arg); err == nil && !st.IsDir() {
		return "", arg
	}
	return arg, ""
}

func runPackage(e *env, args []string) error {
	f, parseArgs := new(packageFlags).addFlags(e)
	pos, err := parseArgs(args)
	if err != nil {
		return err
	}
	f.ins = append(f.ins, pos...)
	req, err := f.request()
	if err != nil {
		return err
	}
	if err := req.Validate(); err != nil {
		return err
	}
	start := time.Now()
	v, err := runOperation(e, *f.workspace, f.asJSON, func(svc *services.Service) (*jobs.Job, error) {
		return svc.StartPackage(e.ctx, req)
	})
	var unsupported *packaging.UnsupportedTrackError
	if errors.As(err, &unsupported) {
		return &InputError{Err: fmt.Errorf("%w; transcode it, or pass --skip-unsupported to package the other tracks", err)}
	}
	if err != nil {
		return err
	}
	res := v.(*services.PackageResult)
	doc := packageOutput{OutDir: res.OutDir, Schemes: req.Schemes, Systems: req.Systems, Files: res.Files,
		KeySet: res.KeySet, Notes: res.Notes, Seconds: time.Since(start).Seconds(), Encode: res.Encode}
	for _, w := range res.PolicyWarnings {
		doc.Warnings = append(doc.Warnings, w.String())
	}
	doc.Warnings = append(doc.Warnings, res.Result.Warnings...)
	for _, k := range res.Keys {
		doc.Keys = append(doc.Keys, viewKey(k, f.showKeys))
	}
	for _, r := range res.Renditions {
		v := renditionView{ID: r.ID, Kind: r.Kind, Codecs: r.Codecs, Bandwidth: r.Bandwidth, Segments: len(r.Segments),
			Language: r.Language, Name: r.Name, Channels: r.Channels, Role: r.Role, Default: r.Default, Forced: r.Forced, SDH: r.SDH}
		if r.Encrypted() {
			v.KID = r.KID.String()
		}
		doc.Renditions = append(doc.Renditions, v)
	}
	if !f.asJSON {
		// Policy warnings were printed with the job's messages.
		for _, w := range res.Result.Warnings {
			fmt.Fprintln(e.stderr, "warning:", w)
		}
		for _, n := range res.Notes {
			fmt.Fprintln(e.stderr, "note:", n)
		}
	}
	if f.asJSON {
		return writeJSON(e.stdout, doc)
	}
	printPackage(e, doc, f.scheme, f.systems)
	return nil
}

// printPackage prints the summary; policy warnings were printed with the job's messages.
func printPackage(e *env, doc packageOutput, scheme, systems string) {
	if doc.Encode != nil {
		printEncoded(e.stdout, doc.Encode)
	}
	fmt.Fprintf(e.stdout, "Packaged %d renditions (%s; %s) into %s in %.1fs\n", len(doc.Renditions),
		scheme, systems, doc.OutDir, doc.Seconds)
	for _, r := range doc.Renditions {
		fmt.Fprintf(e.stdout, "  %-14s %-5s %-22s %8d kb/s  %3d segments  %s\n", r.ID, r.Kind, r.Codecs, r.Bandwidth/1000, r.Segments, renditionNote(r))
	}
	fmt.Fprintln(e.stdout, "Keys (also in keys.cpix.xml):")
	for _, k := range doc.Keys {
		line := fmt.Sprintf("  %-5s KID %s  PlayReady %s", k.TrackType, k.KID, k.PlayReadyBase64)
		if k.Key != "" {
			line += "  key " + k.Key
		}
		fmt.Fprintln(e.stdout, line)
	}
	if doc.KeySet != "" {
		fmt.Fprintf(e.stdout, "Generated keys saved as key set %q (satchel keys show %q).\n", doc.KeySet, doc.KeySet)
	}
}

// joinNames joins the names of a typed closed set with commas (flag defaults).
func joinNames[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ",")
}

// renditionNote is the tail of a rendition's line: its key, or for audio and subtitles what a
// player's menu shows.
func renditionNote(r renditionView) string {
	var parts []string
	if r.Kind != media.Video {
		label := fmt.Sprintf("%q", r.Name)
		if r.Language != "" {
			label += " " + r.Language
		}
		if r.Channels > 0 {
			label += fmt.Sprintf(" %dch", r.Channels)
		}
		parts = append(parts, label)
		for _, f := range []struct {
			on   bool
			text string
		}{{r.Default, "default"}, {r.Forced, "forced"}, {r.SDH, "SDH"}, {r.Role != "", string(r.Role)}} {
			if f.on {
				parts = append(parts, f.text)
			}
		}
	}
	if r.KID != "" {
		parts = append(parts, "KID "+r.KID)
	} else {
		parts = append(parts, "clear")
	}
	return strings.Join(parts, "  ")
}
