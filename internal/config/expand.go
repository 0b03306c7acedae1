package config

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
)

// placeholder matches ${NAME}, ${NAME:-default} and ${file:/path}. A bare
// "$purchase" is not a placeholder, so event types need no escaping.
var placeholder = regexp.MustCompile(`\$\{(file:[^}]+|[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?)\}`)

// expandString replaces the placeholders in s. Errors name the variable or
// file, never its value.
func expandString(s string) (string, error) {
	var firstErr error
	out := placeholder.ReplaceAllStringFunc(s, func(m string) string {
		inner := m[2 : len(m)-1]
		if path, ok := strings.CutPrefix(inner, "file:"); ok {
			b, err := os.ReadFile(path)
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("read secret file %s: %w", path, err)
			}
			return strings.TrimRight(string(b), "\r\n")
		}
		name, def, hasDef := strings.Cut(inner, ":-")
		v, set := os.LookupEnv(name)
		if v != "" {
			return v
		}
		if !hasDef && firstErr == nil {
			firstErr = fmt.Errorf("environment variable %s is not set", name)
			if set {
				firstErr = fmt.Errorf("environment variable %s is empty", name)
			}
		}
		return def
	})
	return out, firstErr
}

// expand applies placeholder expansion to every string in the source, bento,
// http and log sections (not to rules: expressions are code, not config),
// then reads source.dsn_file.
func (c *Config) expand(loc locator) Errors {
	var errs Errors
	for _, sec := range []struct {
		path string
		v    any
	}{{"source", &c.Source}, {"bento", &c.Bento}, {"http", &c.HTTP}, {"log", &c.Log}} {
		walkStrings(reflect.ValueOf(sec.v).Elem(), sec.path, func(path string, s string) string {
			out, err := expandString(s)
			if err != nil {
				errs = append(errs, loc.at(path, "", err.Error()))
			}
			return out
		})
	}
	if c.Source.DSNFile != "" && c.Source.DSN == "" {
		b, err := os.ReadFile(c.Source.DSNFile)
		if err != nil {
			errs = append(errs, loc.at("source.dsn_file", "", fmt.Sprintf("read dsn_file: %v", err)))
		}
		c.Source.DSN = strings.TrimSpace(string(b))
	}
	return errs
}

// walkStrings calls f for every settable string (struct fields by yaml
// name, map values, slice elements) under v and stores its result.
func walkStrings(v reflect.Value, path string, f func(path, s string) string) {
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			v.SetString(f(path, v.String()))
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			field := v.Type().Field(i)
			name, opts, _ := strings.Cut(field.Tag.Get("yaml"), ",")
			if name == "-" || !field.IsExported() {
				continue
			}
			sub := path
			if !strings.Contains(opts, "inline") {
				sub = path + "." + name
			}
			walkStrings(v.Field(i), sub, f)
		}
	case reflect.Map:
		if v.Type().Elem().Kind() != reflect.String {
			return
		}
		for _, k := range v.MapKeys() {
			v.SetMapIndex(k, reflect.ValueOf(f(path+"."+k.String(), v.MapIndex(k).String())).Convert(v.Type().Elem()))
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			walkStrings(v.Index(i), fmt.Sprintf("%s[%d]", path, i), f)
		}
	}
}

// withoutExpanded drops the problems of fields whose expansion already
// failed: "required" after "environment variable X is not set" says the
// same thing twice.
func withoutExpanded(errs, expandErrs Errors) Errors {
	failed := map[string]bool{}
	for _, e := range expandErrs {
		failed[e.Field] = true
	}
	out := errs[:0:0]
	for _, e := range errs {
		if !failed[e.Field] {
			out = append(out, e)
		}
	}
	return out
}
