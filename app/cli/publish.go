package cli

import (
	"context"
	"fmt"
	"os"
	"time"

	"satchel/app/publish"
	"satchel/engine/verify"
	"satchel/internal/humanize"
)

func init() {
	register(&command{
		name:    "publish",
		summary: "Upload a packaged folder to Azure Blob Storage (or copy to a folder): content types, MD5, manifests last, CORS, SAS URLs.",
		usage: "satchel publish DIR --to azure://CONTAINER/PREFIX|DIR [--connection-string S | --sas-url URL]\n" +
			"        [--cors-origin ORIGIN] [--sas-expiry 24h] [--verify] [--concurrency 8] [--block-size 4MiB] [--json]\n" +
			"  Credentials default to $AZURE_STORAGE_CONNECTION_STRING or $AZURE_STORAGE_ACCOUNT + $AZURE_STORAGE_KEY.",
		run: runPublish,
	})
}

// publishOutput is the --json document of `satchel publish`.
type publishOutput struct {
	Report  *publish.Report `json:"report"`
	SAS     []publish.SAS   `json:"sas_urls,omitempty"`
	Verify  *verify.Report  `json:"verify,omitempty"`
	Seconds float64         `json:"seconds"`
}

func runPublish(e *env, args []string) error {
	fs := newFlags(e, commands["publish"])
	to := fs.String("to", "", "destination: azure://CONTAINER/PREFIX or a local folder")
	connStr := fs.String("connection-string", "", "Azure Storage connection string (default $AZURE_STORAGE_CONNECTION_STRING)")
	sasURL := fs.String("sas-url", "", "container SAS URL with write permission (instead of a connection string)")
	cors := fs.String("cors-origin", "", "set a CORS rule on the blob service for this player origin (e.g. https://player.example.com or *)")
	sasExpiry := fs.Duration("sas-expiry", 0, "print read-only SAS URLs for manifests and downloads, valid this long (e.g. 24h)")
	doVerify := fs.Bool("verify", false, "after publishing, fetch the published manifest over HTTP and run the checker on it")
	concurrency := fs.Int("concurrency", 8, "parallel uploads")
	blockSize := fs.Int64("block-size", 4<<20, "block size in bytes for block uploads")
	includeKeys := fs.Bool("include-keys", false, "also upload keys.cpix.xml and policy.json (normally kept private)")
	asJSON := fs.Bool("json", false, "print one JSON document; progress as JSON lines on stderr")
	_ = workspaceFlag(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give exactly one packaged folder to publish")
	}
	if *to == "" {
		return usagef("give the destination with --to azure://CONTAINER/PREFIX or --to DIR")
	}
	if st, err := os.Stat(pos[0]); err != nil || !st.IsDir() {
		return &InputError{Err: fmt.Errorf("publish %s: not a folder; give the output folder of `satchel package`", pos[0])}
	}
	target, err := publish.ParseTarget(*to)
	if err != nil {
		return usagef("--to: %v", err)
	}
	creds := publish.CredentialsFromEnv()
	if *connStr != "" {
		creds = publish.Credentials{ConnectionString: *connStr}
	}
	if *sasURL != "" {
		creds = publish.Credentials{SASURL: *sasURL}
	}
	pp := newProgressPrinter(e.stderr, *asJSON)
	opts := publish.Options{SrcDir: pos[0], Target: target, Creds: creds, Concurrency: *concurrency, BlockSize: *blockSize,
		CORSOrigin: *cors, IncludeKeys: *includeKeys,
		Progress: func(p publish.Progress) {
			pp.Update("publish", p.Bytes, p.TotalBytes, "bytes", 0, p.Rate, p.Files == p.TotalFiles && p.Bytes == p.TotalBytes)
		}}
	out := publishOutput{}
	if *doVerify {
		opts.Verify = func(ctx context.Context, manifestURL string) error {
			pp.Message("verifying %s", manifestURL)
			rep, err := verify.Verify(ctx, verify.Input{Path: manifestURL, Keys: nil})
			if err != nil {
				return err
			}
			out.Verify = rep
			return nil
		}
	}
	start := time.Now()
	rep, err := publish.Publish(e.ctx, opts)
	if err != nil {
		return &InputError{Err: err}
	}
	out.Report = rep
	if *sasExpiry > 0 {
		if out.SAS, err = publish.SASURLs(e.ctx, creds, target, rep.Published, *sasExpiry); err != nil {
			return &InputError{Err: err}
		}
	}
	out.Seconds = time.Since(start).Seconds()
	if *asJSON {
		if err := writeJSON(e.stdout, out); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(e.stdout, "Published %s to %s: %d uploaded, %d unchanged (skipped), %s in %.1fs\n",
			pos[0], rep.BaseURL, len(rep.Uploaded), len(rep.Skipped), humanize.Bytes(rep.Bytes), out.Seconds)
		if rep.CORSRule != nil {
			fmt.Fprintf(e.stdout, "CORS rule: %s\n", rep.CORSRule)
		}
		for _, s := range out.SAS {
			fmt.Fprintf(e.stdout, "SAS %s (until %s)\n  %s\n", s.Name, s.Expires.Format(time.RFC3339), s.URL)
		}
		if out.Verify != nil {
			fmt.Fprintln(e.stdout, "\nVerification of the published package:")
			if err := out.Verify.WriteText(e.stdout); err != nil {
				return err
			}
		}
	}
	if out.Verify != nil && out.Verify.Failed() {
		return CheckFailed
	}
	return nil
}
