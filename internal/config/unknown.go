package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// unknownFields reports every key of the file that no field of Config
// takes, each with its line, rule and path. Strict decoding stops at the
// first unknown key, which hid every other problem behind it; this pass
// walks the whole AST against Config's type instead, so the keys are
// collected with the other validation errors and decoding itself can be
// lenient. The walk never panics on any AST the parser makes (FuzzParse);
// should it, that is an error naming the file, like a panic of the parser.
func unknownFields(name string, file *ast.File) (_ Errors, err error) {
	defer recoverYAML(name, &err)
	if len(file.Docs) == 0 || file.Docs[0].Body == nil {
		return nil, nil
	}
	u := &unknownWalk{name: name, file: file}
	u.walk(file.Docs[0].Body, reflect.TypeFor[Config](), "")
	return u.errs, nil
}

type unknownWalk struct {
	name string
	file *ast.File
	errs Errors
}

// walk checks node against type t at path ("rules[2].event").
func (u *unknownWalk) walk(node ast.Node, t reflect.Type, path string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if a, ok := node.(*ast.AnchorNode); ok {
		node = a.Value
	}
	switch t.Kind() {
	case reflect.Struct:
		u.walkStruct(node, t, path)
	case reflect.Slice, reflect.Array:
		if seq, ok := node.(*ast.SequenceNode); ok {
			for i, v := range seq.Values {
				u.walk(v, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
			}
		}
	case reflect.Map:
		for _, kv := range entries(node) {
			if kv.Key != nil && !kv.Key.IsMergeKey() {
				u.walk(kv.Value, t.Elem(), join(path, keyName(kv.Key)))
			}
		}
	}
}

// walkStruct reports the keys of a mapping that t has no field for. A
// merge key (<<: *x) is left to the decoder: its keys are written where
// the anchor is.
func (u *unknownWalk) walkStruct(node ast.Node, t reflect.Type, path string) {
	fields := yamlFields(t)
	for _, kv := range entries(node) {
		if kv.Key == nil || kv.Key.IsMergeKey() {
			continue
		}
		key := keyName(kv.Key)
		ft, ok := fields[key]
		if !ok {
			line := kv.Key.GetToken().Position.Line
			msg := fmt.Sprintf("unknown field %q", key)
			if near := nearest(key, fields); near != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", near)
			}
			u.errs = append(u.errs, &Error{File: u.name, Line: line, Rule: ruleAt(u.file, line), Field: join(path, key), Msg: msg})
			continue
		}
		u.walk(kv.Value, ft, join(path, key))
	}
}

// yamlFields maps each YAML key of struct t to its field's type, as the
// decoder names them: the tag's name, else the lower-cased field name;
// inline structs' keys are the struct's own; "-" and unexported fields
// take no key.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if (f.PkgPath != "" && !f.Anonymous) || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if slices.Contains(strings.Split(opts, ","), "inline") {
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// entries are a mapping's key-value pairs; a one-pair mapping may come as
// the pair alone.
func entries(node ast.Node) []*ast.MappingValueNode {
	switch n := node.(type) {
	case *ast.MappingNode:
		return n.Values
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{n}
	case *ast.AnchorNode:
		return entries(n.Value)
	}
	return nil
}

func keyName(k ast.MapKeyNode) string {
	if mk, ok := k.(*ast.MappingKeyNode); ok && mk.Value != nil && mk.Value.GetToken() != nil {
		return mk.Value.GetToken().Value
	}
	return k.GetToken().Value
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// nearest is the known key within two edits of key, if one is.
func nearest(key string, fields map[string]reflect.Type) string {
	best, bestD := "", 3
	for k := range fields {
		if d := editDistance(key, k); d < bestD || (d == bestD && k < best) {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Damerau (optimal string alignment) distance, so a
// swapped pair of letters ("detials") counts as one edit.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
