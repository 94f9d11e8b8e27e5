package cli

import (
	"fmt"
	"io"

	"satchel/app/services"
	"satchel/engine/policy"
)

func init() {
	register(&command{
		name:    "policy",
		summary: "Offline policies per DRM: presets, list, show, import (Satchel or AMS JSON), export, validate.",
		usage: "satchel policy presets | policy list | policy show NAME | policy import FILE [--name NAME]\n" +
			"        | policy export NAME [--ams] [--out FILE] | policy validate FILE|NAME [--streaming] | policy delete NAME\n" +
			"        [--json] [--workspace DIR]",
		run: runPolicy,
	})
}

func runPolicy(e *env, args []string) error {
	fs := newFlags(e, commands["policy"])
	name := fs.String("name", "", "name for the imported policy (default: the name in the file)")
	ams := fs.Bool("ams", false, "export as an AMS-style content key policy (options with configuration + restriction)")
	outFile := fs.String("out", "", "write to FILE instead of stdout (export)")
	streaming := fs.Bool("streaming", false, "validate for streaming only (default: offline download-and-play)")
	asJSON := fs.Bool("json", false, "print one JSON document")
	wsDir := workspaceFlag(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	sub, rest, err := subcommand("policy", pos, map[string]int{"presets": 0, "list": 0, "show": 1, "import": 1, "export": 1, "validate": 1, "delete": 1})
	if err != nil {
		return err
	}
	if sub == "presets" {
		ps := policy.Presets()
		if *asJSON {
			return writeJSON(e.stdout, ps)
		}
		for _, p := range ps {
			fmt.Fprintf(e.stdout, "%-38s %s\n", p.Name, p.Description)
		}
		return nil
	}
	if _, file := policyRef(rest[0]); sub == "validate" && file != "" {
		p, err := services.ReadPolicyFile(file)
		if err != nil {
			return &InputError{Err: err}
		}
		return printIssues(e, p, !*streaming, *asJSON)
	}
	svc, err := openWorkspace(e, *wsDir)
	if err != nil {
		return err
	}
	defer svc.Close()
	switch sub {
	case "list":
		ps, err := svc.Policies()
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(e.stdout, map[string]any{"policies": ps})
		}
		if len(ps) == 0 {
			fmt.Fprintln(e.stdout, "No policies yet; import one with `satchel policy import FILE` or use a preset in the app.")
		}
		for _, p := range ps {
			state := "streaming"
			if p.Offline() {
				state = "offline"
			}
			fmt.Fprintf(e.stdout, "%-38s %-9s %s\n", p.Name, state, p.Description)
		}
		return nil
	case "show", "export":
		p, err := svc.PolicyByName(rest[0])
		if err != nil {
			return &InputError{Err: err}
		}
		write := func(w io.Writer) error {
			if *ams {
				return policy.ExportAMS(w, p)
			}
			b, err := policy.MarshalPublic(p)
			if err != nil {
				return err
			}
			_, err = w.Write(append(b, '\n'))
			return err
		}
		if *outFile != "" {
			if err := writeFileAtomic(*outFile, write); err != nil {
				return &InputError{Err: err}
			}
			fmt.Fprintf(e.stderr, "wrote %s\n", *outFile)
			return nil
		}
		return write(e.stdout)
	case "import":
		p, err := services.ReadPolicyFile(rest[0])
		if err != nil {
			return &InputError{Err: err}
		}
		if *name != "" {
			p.Name = *name
		}
		if err := svc.SavePolicy(p); err != nil {
			return &InputError{Err: err}
		}
		fmt.Fprintf(e.stderr, "imported policy %q\n", p.Name)
		return printIssues(e, p, p.Offline(), *asJSON)
	case "validate":
		p, err := svc.PolicyByName(rest[0])
		if err != nil {
			return &InputError{Err: fmt.Errorf("%s is neither a policy file nor a policy in the workspace: %w", rest[0], err)}
		}
		return printIssues(e, p, !*streaming, *asJSON)
	case "delete":
		if err := svc.DeletePolicy(rest[0]); err != nil {
			return &InputError{Err: err}
		}
		fmt.Fprintf(e.stdout, "deleted policy %q\n", rest[0])
	}
	return nil
}

// printIssues prints the validation issues of p; errors make the command exit 1.
func printIssues(e *env, p *policy.Policy, offline, asJSON bool) error {
	issues := policy.Validate(p, offline)
	if asJSON {
		if issues == nil {
			issues = []policy.Issue{}
		}
		if err := writeJSON(e.stdout, map[string]any{"policy": p.Name, "offline": offline, "issues": issues}); err != nil {
			return err
		}
	} else {
		mode := "offline"
		if !offline {
			mode = "streaming"
		}
		if len(issues) == 0 {
			fmt.Fprintf(e.stdout, "Policy %q is valid for %s use.\n", p.Name, mode)
		}
		for _, is := range issues {
			fmt.Fprintf(e.stdout, "%-7s %s: %s\n", is.Severity, is.Field, is.Message)
			if is.Fix != "" {
				fmt.Fprintf(e.stdout, "        fix: %s\n", is.Fix)
			}
		}
	}
	if policy.HasErrors(issues) {
		return CheckFailed
	}
	return nil
}
