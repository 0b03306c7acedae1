package config

import (
	"fmt"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// parseYAML parses src into an AST. The YAML library panics on some inputs
// (a tag where a list is expected: `on: !x`, issue 15.11); a config file
// never needs a tag, so tags are refused with their line, and any other
// panic becomes an error naming the file instead of a crash.
func parseYAML(name string, src []byte) (file *ast.File, err error) {
	defer recoverYAML(name, &err)
	file, err = parser.ParseBytes(src, 0)
	if err != nil {
		return nil, Errors{yamlError(name, err)}
	}
	if errs := rejectTags(name, file); len(errs) > 0 {
		return nil, errs
	}
	return file, nil
}

// decodeYAML decodes the first document of file into cfg; its error, when
// there is one, is always Errors. Unknown keys are not its business
// without yaml.Strict(): unknownFields reports them all, beside every other
// problem (strict decoding stops at the first). With it, it backs up
// unknownFields, which checks a key where it is written: a key under an
// anchor that an alias or a merge key (<<: *x) brings to a place with no
// field for it is found by decoding strictly.
func decodeYAML(name string, file *ast.File, cfg *Config, opts ...yaml.DecodeOption) (err error) {
	defer recoverYAML(name, &err)
	if len(file.Docs) == 0 || file.Docs[0].Body == nil {
		return nil
	}
	if err := yaml.NodeToValue(file.Docs[0].Body, cfg, opts...); err != nil {
		e := yamlError(name, err)
		e.Rule = ruleAt(file, e.Line)
		return Errors{e}
	}
	return nil
}

// recoverYAML turns a panic inside the YAML library into an error.
func recoverYAML(name string, err *error) {
	if r := recover(); r != nil {
		*err = Errors{{File: name, Msg: fmt.Sprintf("the YAML library could not read this file (%v); check its syntax", r)}}
	}
}

// rejectTags reports every YAML tag (`!x`, `!!str`) in file with its line.
func rejectTags(name string, file *ast.File) Errors {
	var errs Errors
	for _, doc := range file.Docs {
		if doc.Body == nil {
			continue
		}
		for _, n := range ast.Filter(ast.TagType, doc.Body) {
			tok := n.GetToken()
			errs = append(errs, &Error{File: name, Line: tok.Position.Line,
				Msg: fmt.Sprintf("YAML tags such as %s are not supported: write the plain value", tok.Value)})
		}
	}
	return errs
}
