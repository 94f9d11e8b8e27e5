// Package cli is Satchel's headless command layer, an adapter like the GUI: each command
// parses its flags into the request struct app/services defines, makes one services call
// (running jobs through the same job runner the GUI uses, recorded in the same workspace)
// and renders the result and the job's events. It holds no media logic and assembles no
// operation of its own; it phrases errors with its own vocabulary (flag names).
//
// Exit status (DESIGN.md, "CLI contract"): 0 success, 1 a check failed, 2 usage or input error.
// `--json` makes a command print exactly one JSON document on stdout; progress goes to stderr
// (a bar on a terminal, JSON lines with --json).
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"satchel/engine/drm"
	"satchel/internal/version"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitFailed  = 1
	ExitUsage   = 2
	exitUnknown = 2
)

// env is what a command runs with.
type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	usage   string
	run     func(e *env, args []string) error
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

// UsageError is a command-line mistake: the command prints it with the usage and exits 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, a ...any) error { return &UsageError{Msg: fmt.Sprintf(format, a...)} }

// InputError marks a problem with the user's input (a file, a key, a folder): exit 2 with one
// clear sentence.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// CheckFailed means the command ran but a check failed (exit 1), e.g. verify found a failure.
var CheckFailed = errors.New("check failed")

// guiFlags are the flags the GUI accepts; anything else is a subcommand.
var guiFlags = map[string]bool{"--workspace": true, "-workspace": true, "--samples": true, "-samples": true}

// IsGUI reports whether args ask for the desktop app: no subcommand, only GUI flags.
func IsGUI(args []string) bool {
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, _, hasValue := strings.Cut(a, "=")
		if guiFlags[name] {
			if !hasValue {
				i++
			}
			continue
		}
		return false
	}
	return true
}

// Run executes the subcommand in args and returns the process exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				fmt.Fprintf(stdout, "usage: %s\n\n%s\n", c.usage, c.summary)
				return ExitOK
			}
		}
		printHelp(stdout)
		return ExitOK
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintln(stdout, "satchel", version.String())
		return ExitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "satchel: unknown command %q; run `satchel help` for the list\n", args[0])
		return ExitUsage
	}
	err := c.run(e, args[1:])
	return exitCode(stderr, c, err)
}

func exitCode(stderr io.Writer, c *command, err error) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if errors.Is(err, CheckFailed) {
		return ExitFailed
	}
	var ue *UsageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "satchel %s: %s\nusage: %s\n", c.name, ue.Msg, c.usage)
		return ExitUsage
	}
	if msg, ok := flagProblem(err); ok {
		fmt.Fprintf(stderr, "satchel %s: %s\nusage: %s\n", c.name, msg, c.usage)
		return ExitUsage
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "satchel %s: cancelled; no output was left behind\n", c.name)
		return ExitUsage
	}
	fmt.Fprintf(stderr, "satchel %s: %s\n", c.name, explain(err))
	return ExitUsage
}

func printHelp(w io.Writer) {
	fmt.Fprintf(w, "Satchel %s — offline DRM packaging, publishing and verification.\n\n", version.String())
	fmt.Fprintln(w, "Run with no command to open the desktop app (optionally --workspace DIR --samples DIR).")
	fmt.Fprintln(w, "\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun `satchel help COMMAND` for a command's flags. Exit status: 0 ok, 1 check failed, 2 usage or input error.")
}

// newFlags returns a FlagSet that reports errors instead of exiting, with the common flags.
func newFlags(e *env, c *command) *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: %s\n\n%s\n\nFlags:\n", c.usage, c.summary)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags allowing them to appear after positional arguments too
// (`satchel probe a.mp4 --json`).
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &UsageError{Msg: err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// writeJSON prints v as one indented JSON document.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// parseKeyFlags parses the values of repeated --key flags (KID:KEY or TYPE=KID:KEY).
func parseKeyFlags(specs []string) ([]drm.ContentKey, error) {
	keys := make([]drm.ContentKey, 0, len(specs))
	for _, s := range specs {
		k, err := drm.ParseKeySpec(s)
		if err != nil {
			return nil, &InputError{Err: fmt.Errorf("--key %q: %w", s, err)}
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// isTerminal reports whether w is a character device (progress bars only on terminals).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// subcommand splits pos into a subcommand of cmd and its arguments, checking the name and the
// argument count against need.
func subcommand(cmd string, pos []string, need map[string]int) (string, []string, error) {
	names := make([]string, 0, len(need))
	for n := range need {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(pos) == 0 {
		return "", nil, usagef("give a subcommand: %s", strings.Join(names, ", "))
	}
	sub, rest := pos[0], pos[1:]
	n, ok := need[sub]
	if !ok {
		return "", nil, usagef("unknown %s subcommand %q: use %s", cmd, sub, strings.Join(names, ", "))
	}
	if len(rest) != n {
		return "", nil, usagef("%s %s takes %d argument(s)", cmd, sub, n)
	}
	return sub, rest, nil
}
