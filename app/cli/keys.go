package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"satchel/app/services"
	"satchel/engine/drm"
)

func init() {
	register(&command{
		name:    "keys",
		summary: "Manage key sets in the workspace: gen, list, show, import (CPIX), export (CPIX), delete.",
		usage: "satchel keys gen NAME [--types AUDIO,SD,HD,UHD] | keys list | keys show NAME [--show-keys]\n" +
			"        | keys import FILE --name NAME | keys export NAME [--out FILE] | keys delete NAME  [--json] [--workspace DIR]",
		run: runKeys,
	})
}

func runKeys(e *env, args []string) error {
	fs := newFlags(e, commands["keys"])
	types := fs.String("types", strings.Join(services.DefaultTrackTypes, ","),
		"track types to generate keys for (AUDIO, SD, HD, UHD)")
	name := fs.String("name", "", "key set name (import)")
	outFile := fs.String("out", "", "write the CPIX document to FILE instead of stdout (export)")
	showKeys := fs.Bool("show-keys", false, "print content keys (secret) too")
	asJSON := fs.Bool("json", false, "print one JSON document")
	wsDir := workspaceFlag(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	sub, rest, err := subcommand("keys", pos, map[string]int{"gen": 1, "list": 0, "show": 1, "import": 1, "export": 1, "delete": 1})
	if err != nil {
		return err
	}
	svc, err := openWorkspace(e, *wsDir)
	if err != nil {
		return err
	}
	defer svc.Close()
	printSet := func(name string, keys []drm.ContentKey) error {
		views := make([]keyView, len(keys))
		for i, k := range keys {
			views[i] = viewKey(k, *showKeys)
		}
		if *asJSON {
			return writeJSON(e.stdout, map[string]any{"name": name, "keys": views})
		}
		fmt.Fprintf(e.stdout, "Key set %q\n", name)
		for _, v := range views {
			fmt.Fprintf(e.stdout, "  %-5s KID %s  hex %s  base64 %s  PlayReady-LE %s", v.TrackType, v.KID, v.KIDHex, v.KIDBase64, v.PlayReadyBase64)
			if v.Key != "" {
				fmt.Fprintf(e.stdout, "  key %s", v.Key)
			}
			fmt.Fprintln(e.stdout)
		}
		return nil
	}
	switch sub {
	case "gen":
		var tt []string
		for _, t := range strings.Split(*types, ",") {
			if t = strings.ToUpper(strings.TrimSpace(t)); t != "" {
				tt = append(tt, t)
			}
		}
		ks, err := svc.GenerateKeySet(rest[0], tt)
		if err != nil {
			return &InputError{Err: err}
		}
		return printSet(ks.Name, ks.Keys)
	case "list":
		sets, err := svc.KeySets()
		if err != nil {
			return err
		}
		if *asJSON {
			type item struct {
				Name    string    `json:"name"`
				Created string    `json:"created"`
				Keys    []keyView `json:"keys"`
			}
			var items []item
			for _, s := range sets {
				it := item{Name: s.Name, Created: s.Created.Format("2006-01-02T15:04:05Z07:00")}
				for _, k := range s.Keys {
					it.Keys = append(it.Keys, viewKey(k, false))
				}
				items = append(items, it)
			}
			return writeJSON(e.stdout, map[string]any{"key_sets": items})
		}
		if len(sets) == 0 {
			fmt.Fprintln(e.stdout, "No key sets yet; create one with `satchel keys gen NAME`.")
		}
		for _, s := range sets {
			var kinds []string
			for _, k := range s.Keys {
				kinds = append(kinds, k.TrackType)
			}
			fmt.Fprintf(e.stdout, "%-24s %d keys (%s)  created %s\n", s.Name, len(s.Keys), strings.Join(kinds, ","), s.Created.Format("2006-01-02 15:04"))
		}
		return nil
	case "show":
		keys, err := svc.KeySetKeys(rest[0])
		if err != nil {
			return &InputError{Err: err}
		}
		return printSet(rest[0], keys)
	case "import":
		f, err := os.Open(rest[0])
		if err != nil {
			return &InputError{Err: fmt.Errorf("import %s: %w", rest[0], err)}
		}
		defer f.Close()
		ks, err := svc.ImportCPIX(f, *name)
		if err != nil {
			return &InputError{Err: fmt.Errorf("import %s: %w", rest[0], err)}
		}
		return printSet(ks.Name, ks.Keys)
	case "export":
		if *outFile == "" {
			return svc.ExportCPIX(rest[0], e.stdout)
		}
		err := writeFileAtomic(*outFile, func(w io.Writer) error { return svc.ExportCPIX(rest[0], w) })
		if err != nil {
			return &InputError{Err: err}
		}
		fmt.Fprintf(e.stderr, "wrote %s\n", *outFile)
		return nil
	case "delete":
		if err := svc.DeleteKeySet(rest[0]); err != nil {
			return &InputError{Err: err}
		}
		fmt.Fprintf(e.stdout, "deleted key set %q\n", rest[0])
	}
	return nil
}
