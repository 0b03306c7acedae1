package config

import (
	"fmt"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// ruleAt is the name of the rule whose entry in the rules list holds line,
// or "" when line is outside the rules: a decoding error (an unknown
// field) then names its rule like every other rule error.
func ruleAt(file *ast.File, line int) string {
	name := ""
	for i := 0; line > 0; i++ {
		node := nodeAt(file, fmt.Sprintf("$.rules[%d]", i))
		if node == nil || node.GetToken().Position.Line > line {
			break
		}
		name = ""
		if n := nodeAt(file, fmt.Sprintf("$.rules[%d].name", i)); n != nil {
			name = n.GetToken().Value
		}
	}
	return name
}

func nodeAt(file *ast.File, path string) ast.Node {
	p, err := yaml.PathString(path)
	if err != nil {
		return nil
	}
	node, err := p.FilterFile(file)
	if err != nil {
		return nil
	}
	return node
}
