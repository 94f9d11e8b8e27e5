package cli

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

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
			"        [--skip-unsupported] [--policy FILE|NAME] [--clear-lead 0s] [--overwrite] [--json] [--workspace DIR]\n\n" +
			"Every audio and subtitle (mov_text/tx3g, wvtt) track of the --in files is packaged; identical copies\n" +
			"(ladder rungs carrying the same audio) once. --audio adds the audio tracks of another file, e.g.\n" +
			"  --audio fr.m4a:fr:Français:dub   --audio director.m4a:en:Director's commentary:commentary\n" +
			"(ROLE: main, alternate, dub, commentary, description). --subtitles adds an SRT or WebVTT file, e.g.\n" +
			"  --subtitles en.srt:en   --subtitles en-sdh.vtt:en:English SDH:sdh   --subtitles signs.srt:en::forced\n" +
			"LANG is BCP 47 or ISO 639-2 (en, fr, pt-BR, fra). A track that cannot be packaged (unsupported codec)\n" +
			"fails the run; --skip-unsupported leaves it out with a warning.",
		run: runPackage,
	})
}

// packageOutput is the --json document of `satchel package`.
type packageOutput struct {
	OutDir     string          `json:"out_dir"`
	Schemes    []drm.Scheme    `json:"schemes"`
	Systems    []drm.System    `json:"systems"`
	Keys       []keyView       `json:"keys"`
	Files      []string        `json:"files"`
	Renditions []renditionView `json:"renditions"`
	Warnings   []string        `json:"warnings,omitempty"`
	Notes      []string        `json:"notes,omitempty"`
	Seconds    float64         `json:"seconds"`
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
	v := keyView{TrackType: k.TrackType, KID: k.KID.String(), KIDHex: k.KID.Hex(), KIDBase64: k.KID.Base64(), PlayReadyBase64: k.KID.PlayReadyBase64()}
	if withKey {
		v.Key = k.KeyHex()
	}
	return v
}

func runPackage(e *env, args []string) error {
	fs := newFlags(e, commands["package"])
	var ins, keySpecs, audioSpecs, subSpecs stringList
	fs.Var(&ins, "in", "source MP4 rendition (repeatable; positional arguments work too)")
	fs.Var(&audioSpecs, "audio", "audio file FILE[:LANG[:NAME[:ROLE]]] packaged beside the inputs' audio (repeatable)")
	fs.Var(&subSpecs, "subtitles", "SRT or WebVTT file FILE[:LANG[:NAME[:forced,sdh]]] (repeatable)")
	skipUnsupported := fs.Bool("skip-unsupported", false, "leave out tracks that cannot be packaged (with a warning) instead of failing")
	out := fs.String("out", "", "output folder (written atomically: temp folder renamed when complete)")
	systems := fs.String("drm", "widevine,playready,fairplay,clearkey", "DRM systems to signal (comma-separated, or all)")
	scheme := fs.String("scheme", "both", "encryption scheme: cenc, cbcs or both")
	formats := fs.String("formats", "dash,hls,mp4", "outputs: dash, hls, mp4 (single-file download per rendition)")
	segment := fs.Duration("segment", 4*time.Second, "target CMAF fragment duration (cut at the nearest sync sample)")
	fs.Var(&keySpecs, "key", "explicit key TYPE=KID:KEY (TYPE AUDIO, SD, HD or UHD; repeatable); others are generated")
	cpixFile := fs.String("keys", "", "take keys from a CPIX document")
	keyset := fs.String("keyset", "", "take keys from a key set in the workspace")
	policyArg := fs.String("policy", "", "offline policy: a JSON file (Satchel or AMS content key policy) or a policy name in the workspace")
	clearLead := fs.Duration("clear-lead", 0, "leave segments starting before this unencrypted (seig-signalled), e.g. 4s")
	overwrite := fs.Bool("overwrite", false, "replace an existing non-empty output folder")
	concurrency := fs.Int("concurrency", 0, "renditions packaged in parallel (0 = number of CPUs)")
	prURL := fs.String("playready-la-url", "", "PlayReady LA_URL written into the WRMHEADER")
	ckURL := fs.String("clearkey-la-url", "", "ClearKey license URL for dashif:laurl (e.g. http://127.0.0.1:8787/clearkey)")
	fpURI := fs.String("fairplay-uri", "skd://satchel", "FairPlay skd:// base URI (KID hex is appended)")
	wvProvider := fs.String("widevine-provider", "", "Widevine PSSH provider field")
	showKeys := fs.Bool("show-keys", false, "include content keys (secret) in the output")
	asJSON := fs.Bool("json", false, "print one JSON document; progress as JSON lines on stderr")
	wsDir := workspaceFlag(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	ins = append(ins, pos...)
	if len(ins) == 0 {
		return usagef("give at least one source MP4 with --in FILE")
	}
	if *out == "" {
		return usagef("give the output folder with --out DIR")
	}
	cfg := packaging.Config{
		Inputs: ins, OutDir: *out, SegmentDuration: *segment, ClearLead: *clearLead, Overwrite: *overwrite,
		Concurrency: *concurrency, PlayReadyLAURL: *prURL, ClearKeyLAURL: *ckURL, FairPlayKeyURI: *fpURI,
		WidevineProvider: *wvProvider, SkipUnsupported: *skipUnsupported,
	}
	for _, spec := range audioSpecs {
		a, err := parseAudioSpec(spec)
		if err != nil {
			return usagef("--audio %v", err)
		}
		cfg.Audio = append(cfg.Audio, a)
	}
	for _, spec := range subSpecs {
		st, err := parseSubtitleSpec(spec)
		if err != nil {
			return usagef("--subtitles %v", err)
		}
		cfg.Subtitles = append(cfg.Subtitles, st)
	}
	if cfg.Systems, err = drm.ParseSystems(*systems); err != nil {
		return usagef("%v", err)
	}
	if cfg.Schemes, err = drm.ParseWrittenSchemes(*scheme); err != nil {
		return usagef("--scheme: %v", err)
	}
	if cfg.Formats, err = packaging.ParseFormats(*formats); err != nil {
		return usagef("--formats: %v", err)
	}
	if *segment < 500*time.Millisecond || *segment > 30*time.Second {
		return usagef("--segment %s: use a duration between 0.5s and 30s (4s or 6s is usual)", *segment)
	}
	for _, s := range keySpecs {
		k, err := drm.ParseKeySpec(s)
		if err != nil {
			return &InputError{Err: err}
		}
		if k.TrackType == "" {
			return usagef("--key %q: give the track type, e.g. --key HD=KID:KEY (AUDIO, SD, HD, UHD)", s)
		}
		cfg.Keys = append(cfg.Keys, k)
	}
	if *cpixFile != "" {
		keys, err := keysFromCPIX(*cpixFile)
		if err != nil {
			return &InputError{Err: err}
		}
		cfg.Keys = append(cfg.Keys, keys...)
	}
	var warnings []string
	if *keyset != "" || (*policyArg != "" && !fileExists(*policyArg)) {
		svc, err := openWorkspace(e, *wsDir)
		if err != nil {
			return err
		}
		defer svc.Close()
		if *keyset != "" {
			keys, err := svc.KeySetKeys(*keyset)
			if err != nil {
				return &InputError{Err: err}
			}
			cfg.Keys = append(cfg.Keys, keys...)
		}
		if *policyArg != "" {
			p, err := svc.PolicyByName(*policyArg)
			if err != nil {
				return &InputError{Err: err}
			}
			if cfg.PolicyJSON, warnings, err = policyForPackage(p); err != nil {
				return &InputError{Err: err}
			}
		}
	} else if *policyArg != "" {
		p, err := readPolicyFile(*policyArg)
		if err != nil {
			return &InputError{Err: err}
		}
		if cfg.PolicyJSON, warnings, err = policyForPackage(p); err != nil {
			return &InputError{Err: err}
		}
	}
	if err := drm.CheckKeys(cfg.Keys); err != nil {
		return &InputError{Err: err}
	}
	for _, w := range warnings {
		fmt.Fprintln(e.stderr, "warning:", w)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// Packaging streams segment by segment; a soft heap limit makes the GC return segment
		// buffers promptly so memory stays flat whatever the input size.
		debug.SetMemoryLimit(48 << 20)
	}
	pp := newProgressPrinter(e.stderr, *asJSON)
	start := time.Now()
	res, err := packaging.Package(e.ctx, cfg, func(p packaging.Progress) {
		pp.Update(p.Rendition, p.Bytes, p.TotalBytes, "bytes", p.ETA, 0, p.Done)
	})
	var unsupported *packaging.UnsupportedTrackError
	if errors.As(err, &unsupported) {
		return &InputError{Err: fmt.Errorf("%w; transcode it, or pass --skip-unsupported to package the other tracks", err)}
	}
	if err != nil {
		return &InputError{Err: err}
	}
	doc := packageOutput{OutDir: res.OutDir, Schemes: cfg.Schemes, Systems: cfg.Systems, Files: res.Files,
		Warnings: append(warnings, res.Warnings...), Notes: res.Notes, Seconds: time.Since(start).Seconds()}
	for _, k := range res.Keys {
		doc.Keys = append(doc.Keys, viewKey(k, *showKeys))
	}
	for _, r := range res.Renditions {
		v := renditionView{ID: r.ID, Kind: r.Kind, Codecs: r.Codecs, Bandwidth: r.Bandwidth, Segments: len(r.Segments),
			Language: r.Language, Name: r.Name, Channels: r.Channels, Role: r.Role, Default: r.Default, Forced: r.Forced, SDH: r.SDH}
		if r.Encrypted() {
			v.KID = r.KID.String()
		}
		doc.Renditions = append(doc.Renditions, v)
	}
	if !*asJSON {
		for _, w := range res.Warnings {
			fmt.Fprintln(e.stderr, "warning:", w)
		}
		for _, n := range res.Notes {
			fmt.Fprintln(e.stderr, "note:", n)
		}
	}
	if *asJSON {
		return writeJSON(e.stdout, doc)
	}
	fmt.Fprintf(e.stdout, "Packaged %d renditions (%s; %s) into %s in %.1fs\n", len(doc.Renditions),
		*scheme, *systems, res.OutDir, doc.Seconds)
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
	return nil
}

// keysFromCPIX reads the content keys of a CPIX document.
func keysFromCPIX(path string) ([]drm.ContentKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read CPIX %s: %w", path, err)
	}
	defer f.Close()
	doc, err := drm.ReadCPIX(f)
	if err != nil {
		return nil, fmt.Errorf("read CPIX %s: %w", path, err)
	}
	if len(doc.Keys) == 0 {
		return nil, fmt.Errorf("CPIX %s holds no content keys", path)
	}
	return doc.Keys, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
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
