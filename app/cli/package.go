package cli

import (
	"fmt"
	"os"
	"runtime/debug"
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
			"        [--policy FILE|NAME] [--clear-lead 0s] [--overwrite] [--json] [--workspace DIR]",
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
	Seconds    float64         `json:"seconds"`
}

type renditionView struct {
	ID        string     `json:"id"`
	Kind      media.Kind `json:"kind"`
	Codecs    string     `json:"codecs"`
	Bandwidth int64      `json:"bandwidth"`
	Segments  int        `json:"segments"`
	KID       string     `json:"kid"`
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
	var ins, keySpecs stringList
	fs.Var(&ins, "in", "source MP4 rendition (repeatable; positional arguments work too)")
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
		WidevineProvider: *wvProvider,
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
	if err != nil {
		return &InputError{Err: err}
	}
	doc := packageOutput{OutDir: res.OutDir, Schemes: cfg.Schemes, Systems: cfg.Systems, Files: res.Files,
		Warnings: warnings, Seconds: time.Since(start).Seconds()}
	for _, k := range res.Keys {
		doc.Keys = append(doc.Keys, viewKey(k, *showKeys))
	}
	for _, r := range res.Renditions {
		doc.Renditions = append(doc.Renditions, renditionView{ID: r.ID, Kind: r.Kind, Codecs: r.Codecs, Bandwidth: r.Bandwidth, Segments: len(r.Segments), KID: r.KID.String()})
	}
	if *asJSON {
		return writeJSON(e.stdout, doc)
	}
	fmt.Fprintf(e.stdout, "Packaged %d renditions (%s; %s) into %s in %.1fs\n", len(doc.Renditions),
		*scheme, *systems, res.OutDir, doc.Seconds)
	for _, r := range doc.Renditions {
		fmt.Fprintf(e.stdout, "  %-8s %-5s %-22s %8d kb/s  %3d segments  KID %s\n", r.ID, r.Kind, r.Codecs, r.Bandwidth/1000, r.Segments, r.KID)
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
