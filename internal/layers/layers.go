// Package layers states Satchel's import rule and checks an import graph against it:
//
//	main → ui, app/cli → app/services → app/{jobs,store,publish}, packaging → engine/* → internal/*
//
// Imports point down only; only ui may depend on the GUI toolkit (fyne.io), directly or not;
// and the adapters (ui, app/cli) leave every operation to app/services. The test in this
// package runs the checks on the module (`go list`); `make check` runs it. Nothing here is
// used at run time.
package layers

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"sort"
	"strings"
)

// Rule places the packages matching Pattern on a level: 0 is the top (main). Pattern is an
// import path, or a path ending in "/..." for every package below it; such a group may import
// its own members (engine/verify imports engine/probe).
type Rule struct {
	Pattern string
	Level   int
}

// Rules is Satchel's layer table.
var Rules = []Rule{
	{"satchel", 0}, // main
	{"satchel/ui", 1},
	{"satchel/app/cli", 1},
	{"satchel/app/services", 2},
	{"satchel/app/jobs", 3},
	{"satchel/app/store", 3},
	{"satchel/app/publish", 3},
	{"satchel/packaging", 3},
	{"satchel/engine/...", 4},
	{"satchel/internal/...", 5},
	{"satchel/assets", 5}, // embedded data (icon, demo player)
	{"bootlog", 5},        // internal/bootlog, a module of its own (see its package comment)
}

// Toolkit is the import path prefix of the GUI toolkit, and ToolkitUsers the packages that
// may depend on it: the GUI, and main, which links the GUI.
const Toolkit = "fyne.io/"

// ToolkitUsers are the packages allowed to depend on Toolkit.
var ToolkitUsers = []string{"satchel/ui", "satchel"}

// Package is one node of an import graph (the fields of `go list -json` used here).
type Package struct {
	ImportPath string
	Imports    []string // direct imports
	Deps       []string // every package imported, recursively
}

// match returns the rule of path and whether the rule is a group.
func match(rules []Rule, path string) (Rule, bool, bool) {
	for _, r := range rules {
		if prefix, group := strings.CutSuffix(r.Pattern, "/..."); group {
			if path == prefix || strings.HasPrefix(path, prefix+"/") {
				return r, true, true
			}
		} else if path == r.Pattern {
			return r, false, true
		}
	}
	return Rule{}, false, false
}

// project reports whether path belongs to Satchel (its module or a rule).
func project(rules []Rule, path string) bool {
	_, _, ok := match(rules, path)
	return ok || path == "satchel" || strings.HasPrefix(path, "satchel/")
}

// Check returns one message per violation in pkgs: a package missing from rules, an import
// that points up or sideways, or a dependency on the toolkit outside users.
func Check(pkgs []Package, rules []Rule, users []string) []string {
	var out []string
	for _, p := range pkgs {
		from, fromGroup, ok := match(rules, p.ImportPath)
		if !ok {
			if project(rules, p.ImportPath) {
				out = append(out, fmt.Sprintf("%s is not in the layer table", p.ImportPath))
			}
			continue
		}
		for _, imp := range p.Imports {
			to, _, ok := match(rules, imp)
			if !ok {
				continue // the standard library and third-party modules
			}
			sameGroup := fromGroup && to.Pattern == from.Pattern
			if to.Level < from.Level || (to.Level == from.Level && !sameGroup) {
				out = append(out, fmt.Sprintf("%s (level %d) imports %s (level %d): imports must point down",
					p.ImportPath, from.Level, imp, to.Level))
			}
		}
		if !contains(users, p.ImportPath) {
			for _, d := range p.Deps {
				if strings.HasPrefix(d, Toolkit) {
					out = append(out, fmt.Sprintf("%s depends on %s: only %s may use the GUI toolkit",
						p.ImportPath, d, strings.Join(users, ", ")))
					break
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Operations are the calls that assemble an operation; only app/services makes them. The
// adapters call the services instead (services.Probe, StartPackage, …).
var Operations = map[string][]string{
	"satchel/packaging":      {"Package"},
	"satchel/engine/verify":  {"Verify"},
	"satchel/app/publish":    {"Publish", "SASURLs"},
	"satchel/engine/inspect": {"File", "Reader"},
	"satchel/engine/probe":   {"Probe", "Open", "CheckLadder"},
	"satchel/engine/devices": {"Evaluate"},
	"satchel/engine/encode":  {"Encode", "NewPlan", "ProbeMaster", "LoadLadder"},
}

// CheckCalls parses one Go source file of an adapter and returns one message per call of an
// operation in ops.
func CheckCalls(filename string, src any, ops map[string][]string) ([]string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filename, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	names := map[string]string{} // local package name → import path
	for _, imp := range f.Imports {
		path := strings.Trim(imp.Path.Value, `"`)
		if _, ok := ops[path]; !ok {
			continue
		}
		name := path[strings.LastIndex(path, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		names[name] = path
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		pkg, ok := sel.X.(*ast.Ident)
		if !ok {
			return true
		}
		if path, ok := names[pkg.Name]; ok && contains(ops[path], sel.Sel.Name) {
			out = append(out, fmt.Sprintf("%s: calls %s.%s; call app/services instead",
				fset.Position(call.Pos()), path, sel.Sel.Name))
		}
		return true
	})
	return out, nil
}
