package archtest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// maxFuncLines is the longest a function in non-test code may be, counted from the line
// of its func keyword to the line of its closing brace (docs/architecture.md, "Lint").
const maxFuncLines = 80

// TestNoLongFunctions parses every non-test, non-generated .go file of the repository
// (testdata and nested tool modules under it excluded) and fails naming each function,
// method or function literal longer than maxFuncLines.
func TestNoLongFunctions(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	long, files, err := longFunctions(root, maxFuncLines)
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("parsed only %d files under %s: the walk is broken", files, root)
	}
	for _, l := range long {
		t.Errorf("%s", l)
	}
	if len(long) > 0 {
		t.Errorf("%d functions over %d lines: split them (STYLE: no function over %d lines in non-test code)",
			len(long), maxFuncLines, maxFuncLines)
	}
}

// longFunctions walks root and returns "file:line: name is N lines" for every function
// longer than limit, in walk order, with the number of files parsed.
func longFunctions(root string, limit int) (long []string, files int, err error) {
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || name == "vendor" || name == "node_modules" ||
				strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		if ast.IsGenerated(f) {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		long = append(long, longIn(fset, f, rel, limit)...)
		return nil
	})
	return long, files, err
}

// longIn lists the functions of f longer than limit. A function literal is reported on
// its own only when it is not inside a declared function (which already counts its lines).
func longIn(fset *token.FileSet, f *ast.File, rel string, limit int) []string {
	var out []string
	report := func(name string, n ast.Node) {
		start, end := fset.Position(n.Pos()).Line, fset.Position(n.End()).Line
		if lines := end - start + 1; lines > limit {
			out = append(out, fmt.Sprintf("%s:%d: %s is %d lines", rel, start, name, lines))
		}
	}
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			report(funcName(d), d)
		case *ast.GenDecl:
			ast.Inspect(d, func(n ast.Node) bool {
				if lit, ok := n.(*ast.FuncLit); ok {
					report("func literal", lit)
					return false
				}
				return true
			})
		}
	}
	return out
}

// funcName is "Name" or "Recv.Name" for a method.
func funcName(d *ast.FuncDecl) string {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return d.Name.Name
	}
	t := d.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	switch x := t.(type) {
	case *ast.IndexExpr:
		t = x.X
	case *ast.IndexListExpr:
		t = x.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name + "." + d.Name.Name
	}
	return d.Name.Name
}
