package i18n

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The functions whose argument at the given index is a message: an English
// fmt format (or a fixed text) that the api says in the reader's language.
// Keys are "errs.Name" for internal/errs, "pkg.name" for a package's own
// helpers (called bare or as a method), "Validator.Add" for the methods of
// an errs.Validator.
var messageArgs = map[string]int{
	"errs.Invalid":  1, // (field, format, args...)
	"errs.Rule":     2, // (field, code, format, args...)
	"errs.Refused":  1, // (field, detail)
	"errs.Refusal":  0, // a conversion: errs.Refusal("...")
	"errs.Msg":      0, // (format, args...)
	"errs.Problemf": 2, // (kind, code, format, args...)
	"errs.Fieldf":   1, // (field, format, args...)

	"Validator.Add":   1, // (field, format, args...)
	"Validator.Check": 2, // (ok, field, format, args...)

	"api.badRequest":  3, // (status, kind, field, detail)
	"api.badRequestf": 3, // (status, kind, field, format, args...)
	"api.newProblem":  2, // (status, kind, detail)

	// Helpers that pass a detail on to an errs.Problem: their callers
	// give the literal.
	"access.denied":               4,
	"billing.refuse":              2,
	"billing.refuseUnavailable":   1,
	"campaigns.errCampaignClosed": 0,
	"calendar.conflictProblem":    1,
	"billing.stripeRefusal":       1,
	"campaigns.csvError":          0,
	"api.newProblemf":             2,
	"api.sentinelProblem":         3,
}

// message is one message found in the sources.
type message struct {
	text string
	pos  string // file:line
}

// scan collects the messages of every non-test Go file of the module, and
// the places where a message is not a constant the test can read.
func scan(t *testing.T) (found []message, dynamic []string) {
	t.Helper()
	root := moduleRoot(t)
	fset := token.NewFileSet()
	byDir := map[string][]*ast.File{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "third_party" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		byDir[filepath.Dir(path)] = append(byDir[filepath.Dir(path)], f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for dir, files := range byDir {
		rel, _ := filepath.Rel(root, dir)
		rel = filepath.ToSlash(rel)
		if rel == "internal/errs" || rel == "internal/i18n" {
			continue // the definitions, which pass their parameters on
		}
		c := &collector{fset: fset, root: root, consts: packageConsts(files)}
		for _, f := range files {
			c.file(f)
		}
		found = append(found, c.found...)
		dynamic = append(dynamic, c.dynamic...)
	}
	return found, dynamic
}

func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}

// packageConsts maps the package-level string constants to their values.
func packageConsts(files []*ast.File) map[string]string {
	consts := map[string]string{}
	for _, f := range files {
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						if s, ok := stringLit(vs.Values[i], nil); ok {
							consts[name.Name] = s
						}
					}
				}
			}
		}
	}
	return consts
}

// stringLit is the value of a constant string expression: a literal, a
// constant of the package, or a sum of them.
func stringLit(e ast.Expr, consts map[string]string) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.Ident:
		s, ok := consts[e.Name]
		return s, ok
	case *ast.ParenExpr:
		return stringLit(e.X, consts)
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		a, ok1 := stringLit(e.X, consts)
		b, ok2 := stringLit(e.Y, consts)
		return a + b, ok1 && ok2
	}
	return "", false
}

type collector struct {
	fset       *token.FileSet
	root       string
	consts     map[string]string
	pkg        string
	validators map[string]bool // names declared as an errs.Validator in this file
	fn         *ast.FuncDecl   // the function being walked
	found      []message
	dynamic    []string
}

func (c *collector) file(f *ast.File) {
	c.pkg = f.Name.Name
	c.validators = validatorNames(f)
	for _, decl := range f.Decls {
		c.fn, _ = decl.(*ast.FuncDecl)
		ast.Inspect(decl, c.visit)
	}
}

// validatorNames lists the variables and parameters of f typed
// errs.Validator or *errs.Validator: their Add and Check take messages.
func validatorNames(f *ast.File) map[string]bool {
	names := map[string]bool{}
	isValidator := func(e ast.Expr) bool {
		if st, ok := e.(*ast.StarExpr); ok {
			e = st.X
		}
		return isErrs(e, "Validator")
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.ValueSpec:
			if n.Type != nil && isValidator(n.Type) {
				for _, id := range n.Names {
					names[id.Name] = true
				}
			}
		case *ast.Field:
			if isValidator(n.Type) {
				for _, id := range n.Names {
					names[id.Name] = true
				}
			}
		}
		return true
	})
	return names
}

// isErrs reports whether e is errs.name.
func isErrs(e ast.Expr, name string) bool {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != name {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	return ok && x.Name == "errs"
}

func (c *collector) visit(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.CallExpr:
		if i, ok := messageArgs[c.callee(n)]; ok && i < len(n.Args) {
			c.take(n.Args[i])
		}
	case *ast.CompositeLit:
		c.literal(n)
	case *ast.ValueSpec:
		if n.Type != nil && isErrs(n.Type, "Refusal") {
			for _, v := range n.Values {
				c.take(v)
			}
		}
	}
	return true
}

// callee names the function n calls, as messageArgs spells it.
func (c *collector) callee(n *ast.CallExpr) string {
	switch fn := n.Fun.(type) {
	case *ast.Ident:
		return c.pkg + "." + fn.Name
	case *ast.SelectorExpr:
		if x, ok := fn.X.(*ast.Ident); ok {
			if x.Name == "errs" {
				return "errs." + fn.Sel.Name
			}
			if c.validators[x.Name] {
				return "Validator." + fn.Sel.Name
			}
		}
		return c.pkg + "." + fn.Sel.Name
	}
	return ""
}

// literal takes the Detail of an errs.Problem and the Reason of an
// errs.FieldError written as composite literals.
func (c *collector) literal(n *ast.CompositeLit) {
	if at, ok := n.Type.(*ast.ArrayType); ok && isErrs(at.Elt, "FieldError") {
		for _, e := range n.Elts {
			if cl, ok := e.(*ast.CompositeLit); ok && cl.Type == nil {
				c.keyed(cl, "Reason")
			}
		}
		return
	}
	switch {
	case isErrs(n.Type, "Problem"):
		c.keyed(n, "Detail")
	case isErrs(n.Type, "FieldError"):
		c.keyed(n, "Reason")
	}
}

func (c *collector) keyed(n *ast.CompositeLit, key string) {
	for _, e := range n.Elts {
		if kv, ok := e.(*ast.KeyValueExpr); ok {
			if k, ok := kv.Key.(*ast.Ident); ok && k.Name == key {
				c.take(kv.Value)
			}
		}
	}
}

// take records the message e, or that it is not a constant.
func (c *collector) take(e ast.Expr) {
	pos := c.fset.Position(e.Pos())
	rel, _ := filepath.Rel(c.root, pos.Filename)
	where := fmt.Sprintf("%s:%d", filepath.ToSlash(rel), pos.Line)
	if s, ok := stringLit(e, c.consts); ok {
		c.found = append(c.found, message{text: s, pos: where})
		return
	}
	if call, ok := e.(*ast.CallExpr); ok && isErrs(call.Fun, "Verbatim") {
		return // another system's words, said as they are
	}
	if c.passedOn(e) {
		return
	}
	c.dynamic = append(c.dynamic, where)
}

// passedOn reports whether e is a parameter of a helper of messageArgs
// that e is inside: its callers' messages are collected instead.
func (c *collector) passedOn(e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	if !ok || c.fn == nil {
		return false
	}
	name := c.pkg + "." + c.fn.Name.Name
	if _, helper := messageArgs[name]; !helper {
		return false
	}
	for _, f := range c.fn.Type.Params.List {
		for _, p := range f.Names {
			if p.Name == id.Name {
				return true
			}
		}
	}
	return false
}

// TestCatalogueComplete is the check that every message exists in both
// languages: each message of the code (English) has its French, every
// message is a constant this test can read, and the catalogue holds no
// French for a message the code no longer has.
func TestCatalogueComplete(t *testing.T) {
	found, dynamic := scan(t)
	slices.Sort(dynamic)
	for _, where := range dynamic {
		t.Errorf("%s: the message is not a string literal or constant, so it cannot be translated: write the format as a literal (errs.Msg(\"…\", args) for a part of one), or mark another system's words with errs.Verbatim", where)
	}
	used := map[string]bool{}
	var missing []string
	for _, m := range found {
		used[m.text] = true
		if _, ok := french[m.text]; !ok {
			missing = append(missing, fmt.Sprintf("%s: no French for %q", m.pos, m.text))
		}
	}
	slices.Sort(missing)
	for _, m := range slices.Compact(missing) {
		t.Error(m)
	}
	for en := range french {
		if !used[en] {
			t.Errorf("stale French: %q is no message of the code", en)
		}
	}
	if len(found) < 300 {
		t.Errorf("found %d messages only: is the scan broken?", len(found))
	}
}

// TestMissingSkeleton prints, with -v and I18N_SKELETON=1, the catalogue
// entries the code lacks, as Go to fill in.
func TestMissingSkeleton(t *testing.T) {
	if os.Getenv("I18N_SKELETON") == "" {
		t.Skip("set I18N_SKELETON=1 to print the missing entries")
	}
	found, _ := scan(t)
	seen := map[string]bool{}
	slices.SortFunc(found, func(a, b message) int { return strings.Compare(a.pos, b.pos) })
	for _, m := range found {
		if _, ok := french[m.text]; ok || seen[m.text] {
			continue
		}
		seen[m.text] = true
		fmt.Printf("\t// %s\n\t%q: %q,\n", m.pos, m.text, m.text)
	}
}
