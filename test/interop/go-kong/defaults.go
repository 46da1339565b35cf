package main

// Defaults as decK derives them from the server's schemas (go-kong's utils.go, reimplemented here
// because 0.15 predates them):
//
//   - entity defaults (gdr's defaulter): GET /schemas/{services,routes,upstreams,targets,
//     consumer_group_plugins}; a 404 means "no defaults"; Kong's `fields` are flattened to
//     {name: default-or-null} (records recursively), decoded into the go-kong struct (a default of
//     the wrong JSON type is fatal) and merged under what the file set;
//   - plugin defaults: GET /schemas/plugins/{name}, the `config` record filled field by field with
//     go-kong's rules (fillConfigRecord), `protocols` from the schema, `enabled` true.

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"

	"github.com/kong/go-kong/kong"
)

// Schemas caches the schemas fetched during one command, as gdr's schema caches do (one fetch per
// entity type and per plugin name).
type Schemas struct {
	s       *Session
	entity  map[string]map[string]interface{} // nil value: the server answered 404
	plugins map[string]map[string]interface{}
}

func NewSchemas(s *Session) *Schemas {
	return &Schemas{s: s, entity: map[string]map[string]interface{}{}, plugins: map[string]map[string]interface{}{}}
}

// Entity is GET /schemas/{entity}; (nil, nil) when the server has none (404), which the defaulter
// skips.
func (sc *Schemas) Entity(entity string) (map[string]interface{}, error) {
	if schema, ok := sc.entity[entity]; ok {
		return schema, nil
	}
	var schema map[string]interface{}
	if _, err := sc.s.Raw("GET", "/schemas/"+entity, nil, nil, &schema); err != nil {
		if statusOf(err) == 404 {
			sc.entity[entity] = nil
			return nil, nil
		}
		return nil, fatalf("get defaults for %s: %v", entity, err)
	}
	sc.entity[entity] = schema
	return schema, nil
}

// Plugin is GET /schemas/plugins/{name}; unlike entity schemas a 404 is fatal ("failed getting
// schema"), for diff, sync, apply and reset alike.
func (sc *Schemas) Plugin(name string) (map[string]interface{}, error) {
	if schema, ok := sc.plugins[name]; ok {
		return schema, nil
	}
	var schema map[string]interface{}
	if _, err := sc.s.Raw("GET", "/schemas/plugins/"+name, nil, nil, &schema); err != nil {
		return nil, fatalf("failed getting schema: %v", err)
	}
	sc.plugins[name] = schema
	return schema, nil
}

// fieldEntries returns the (name, definition) pairs of a Kong `fields` array, in order. Each element
// is an object with a single key.
func fieldEntries(fields interface{}) []fieldEntry {
	list, _ := fields.([]interface{})
	out := make([]fieldEntry, 0, len(list))
	for _, item := range list {
		m, ok := item.(map[string]interface{})
		if !ok {
			continue
		}
		for name, def := range m {
			d, _ := def.(map[string]interface{})
			out = append(out, fieldEntry{name: name, def: d})
			break
		}
	}
	return out
}

type fieldEntry struct {
	name string
	def  map[string]interface{}
}

// flattenDefaults turns Kong's `fields` into {name: default}; records are flattened recursively and
// a field without default becomes an explicit null (which decodes to "unset").
func flattenDefaults(schema map[string]interface{}) map[string]interface{} {
	out := map[string]interface{}{}
	for _, f := range fieldEntries(schema["fields"]) {
		if f.def["type"] == "record" {
			out[f.name] = flattenDefaults(f.def)
			continue
		}
		if d, ok := f.def["default"]; ok {
			out[f.name] = d
		} else {
			out[f.name] = nil
		}
	}
	return out
}

// FillEntityDefaults fills the nil fields of entity (a pointer to a go-kong struct) from the
// entity schema; fields the file set are kept (mergo.Merge without override, as gdr does).
func (sc *Schemas) FillEntityDefaults(entityType string, entity interface{}) error {
	schema, err := sc.Entity(entityType)
	if err != nil || schema == nil {
		return err
	}
	raw, err := json.Marshal(flattenDefaults(schema))
	if err != nil {
		return err
	}
	defaults := reflect.New(reflect.TypeOf(entity).Elem())
	if err := json.Unmarshal(raw, defaults.Interface()); err != nil {
		return fatalf("get defaults for %s: unmarshal entity with defaults: %v", entityType, err)
	}
	mergeUnset(reflect.ValueOf(entity).Elem(), defaults.Elem())
	return nil
}

// mergeUnset copies into dst every field of src that dst leaves at its zero value (nil pointer,
// empty slice or map), recursing into struct pointers both have.
func mergeUnset(dst, src reflect.Value) {
	for i := 0; i < dst.NumField(); i++ {
		d, s := dst.Field(i), src.Field(i)
		if !d.CanSet() {
			continue
		}
		switch d.Kind() {
		case reflect.Ptr:
			if d.IsNil() {
				if !s.IsNil() {
					d.Set(s)
				}
			} else if d.Elem().Kind() == reflect.Struct && !s.IsNil() {
				mergeUnset(d.Elem(), s.Elem())
			}
		case reflect.Slice, reflect.Map:
			if d.Len() == 0 && s.Len() > 0 {
				d.Set(s)
			}
		}
	}
}

// fillOpts are go-kong's FillRecordOptions: decK sends plugins filled with auto fields only, and
// compares copies filled with both.
type fillOpts struct {
	defaults bool
	auto     bool
}

// configSchema is the element of the plugin schema's `fields` whose key is `config`.
func configSchema(schema map[string]interface{}) (map[string]interface{}, error) {
	for _, f := range fieldEntries(schema["fields"]) {
		if f.name == "config" {
			return f.def, nil
		}
	}
	return nil, fmt.Errorf("no 'config' field found in schema")
}

// defaultProtocols is the first `fields[].protocols.default` of the plugin schema.
func defaultProtocols(schema map[string]interface{}) []*string {
	for _, f := range fieldEntries(schema["fields"]) {
		if f.name != "protocols" {
			continue
		}
		list, ok := f.def["default"].([]interface{})
		if !ok {
			continue
		}
		out := []*string{}
		for _, p := range list {
			out = append(out, kong.String(fmt.Sprint(p)))
		}
		return out
	}
	return nil
}

// FillPlugin fills plugin.Config from the schema, then protocols and enabled, as
// fillConfigRecordDefaultsAutoFields does.
func FillPlugin(plugin *kong.Plugin, schema map[string]interface{}, opts fillOpts) error {
	cfgSchema, err := configSchema(schema)
	if err != nil {
		return err
	}
	if plugin.Config == nil {
		plugin.Config = kong.Configuration{}
	}
	plugin.Config = fillRecord(cfgSchema, plugin.Config, nil, opts)
	if plugin.Protocols == nil {
		plugin.Protocols = defaultProtocols(schema)
	}
	if plugin.Enabled == nil {
		plugin.Enabled = kong.Bool(true)
	}
	return nil
}

// shorthandTargets maps each deprecated (shorthand) field the config uses to the paths of the fields
// it replaces, so those are not filled with a default that would contradict it.
func shorthandTargets(schema map[string]interface{}, config map[string]interface{}) map[string][][]string {
	out := map[string][][]string{}
	for _, f := range fieldEntries(schema["shorthand_fields"]) {
		if _, used := config[f.name]; !used {
			continue
		}
		var paths [][]string
		if dep, ok := f.def["deprecation"].(map[string]interface{}); ok {
			if repl, ok := dep["replaced_with"].([]interface{}); ok {
				for _, r := range repl {
					if rm, ok := r.(map[string]interface{}); ok {
						paths = append(paths, stringList(rm["path"]))
					}
				}
			}
		}
		if len(paths) == 0 {
			if tb, ok := f.def["translate_backwards"]; ok {
				paths = append(paths, stringList(tb))
			}
		}
		if len(paths) > 0 {
			out[f.name] = paths
		}
	}
	return out
}

func stringList(v interface{}) []string {
	list, _ := v.([]interface{})
	out := make([]string, 0, len(list))
	for _, x := range list {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// descend keeps the shorthand paths that go through field, without their first segment.
func descend(shorthands map[string][][]string, field string) map[string][][]string {
	out := map[string][][]string{}
	for name, paths := range shorthands {
		for _, p := range paths {
			if len(p) > 0 && p[0] == field {
				out[name] = append(out[name], p[1:])
			}
		}
	}
	return out
}

func replacedByShorthand(field string, shorthands map[string][][]string) bool {
	for _, paths := range shorthands {
		for _, p := range paths {
			if len(p) > 0 && p[0] == field {
				return true
			}
		}
	}
	return false
}

// fillRecord returns a copy of config with the fields of the record schema filled:
//   - a field present in config (even as null) is kept, except records (and arrays of records),
//     which are completed recursively;
//   - a record field is recursed into when it is required or given; the result is kept only when
//     filling defaults and it is not empty;
//   - an array/set of records that is given has each element completed;
//   - otherwise, when the field is to be filled (auto fields with opts.auto, the others with
//     opts.defaults), the record's own default for it, else the field's default, else null.
func fillRecord(schema map[string]interface{}, config map[string]interface{}, parent map[string][][]string, opts fillOpts) map[string]interface{} {
	res := deepCopyMap(config)
	recordDefault, hasRecordDefault := schema["default"].(map[string]interface{})
	shorthands := shorthandTargets(schema, config)
	for k, v := range parent {
		shorthands[k] = v
	}
	for _, f := range fieldEntries(schema["fields"]) {
		name, def := f.name, f.def
		if name == "config" {
			// A nested `config` record is filled from the whole config, as go-kong does.
			res = fillRecord(def, config, descend(shorthands, name), opts)
			continue
		}
		ftype, _ := def["type"].(string)
		elemType := ""
		if el, ok := def["elements"].(map[string]interface{}); ok {
			elemType, _ = el["type"].(string)
		}
		if v, present := config[name]; present {
			switch v.(type) {
			case map[string]interface{}:
				_, hasKeys := def["keys"]
				_, hasValues := def["values"]
				if hasKeys && hasValues {
					continue // an arbitrary map: fully set
				}
			case []interface{}:
				if elemType != "record" {
					continue // an array of scalars: fully set
				}
			default:
				continue // a scalar or null: set
			}
		}
		required, _ := def["required"].(bool)
		if ftype == "record" && (config[name] != nil || required) {
			sub, ok := config[name].(map[string]interface{})
			if !ok {
				sub = map[string]interface{}{} // null, or [] from a YAML `{}` written as a list
			}
			filled := fillRecord(def, sub, descend(shorthands, name), opts)
			if opts.defaults && len(filled) > 0 {
				res[name] = filled
			}
			continue
		}
		if replacedByShorthand(name, shorthands) {
			continue
		}
		if (ftype == "array" || ftype == "set") && elemType == "record" {
			if list, ok := config[name].([]interface{}); ok && len(list) > 0 {
				elemSchema, _ := def["elements"].(map[string]interface{})
				out := make([]interface{}, len(list))
				for i, item := range list {
					if m, ok := item.(map[string]interface{}); ok {
						out[i] = fillRecord(elemSchema, m, shorthands, opts)
					} else {
						out[i] = item
					}
				}
				res[name] = out
				continue
			}
		}
		auto, _ := def["auto"].(bool)
		if (auto && !opts.auto) || (!auto && !opts.defaults) {
			continue
		}
		if hasRecordDefault {
			if d, ok := recordDefault[name]; ok {
				res[name] = deepCopyValue(d)
				continue
			}
		}
		if d, ok := def["default"]; ok {
			res[name] = deepCopyValue(d)
		} else {
			res[name] = nil
		}
	}
	return res
}

func deepCopyMap(m map[string]interface{}) map[string]interface{} {
	out := make(map[string]interface{}, len(m))
	for k, v := range m {
		out[k] = deepCopyValue(v)
	}
	return out
}

func deepCopyValue(v interface{}) interface{} {
	switch x := v.(type) {
	case map[string]interface{}:
		return deepCopyMap(x)
	case kong.Configuration:
		return deepCopyMap(x)
	case []interface{}:
		out := make([]interface{}, len(x))
		for i, e := range x {
			out[i] = deepCopyValue(e)
		}
		return out
	default:
		return v
	}
}

// sortConfigArrays sorts the arrays of a plugin config the way gdr's comparison does
// (sortNestedArraysBasedOnSchema): every array except those the schema types as `array` (order
// matters there), elements compared as strings.
func sortConfigArrays(config map[string]interface{}, schema map[string]interface{}) map[string]interface{} {
	out := make(map[string]interface{}, len(config))
	for k, v := range config {
		fieldSchema := schemaOfField(schema, k)
		switch x := v.(type) {
		case []interface{}:
			out[k] = sortArray(x, fieldSchema)
		case map[string]interface{}:
			out[k] = sortConfigArrays(x, fieldSchema)
		default:
			out[k] = v
		}
	}
	return out
}

func sortArray(list []interface{}, schema map[string]interface{}) []interface{} {
	elemSchema, _ := schema["elements"].(map[string]interface{})
	out := make([]interface{}, len(list))
	for i, e := range list {
		switch x := e.(type) {
		case map[string]interface{}:
			out[i] = sortConfigArrays(x, elemSchema)
		case []interface{}:
			out[i] = sortArray(x, elemSchema)
		default:
			out[i] = e
		}
	}
	if t, _ := schema["type"].(string); schema == nil || t != "array" {
		sort.SliceStable(out, func(i, j int) bool { return sortKey(out[i]) < sortKey(out[j]) })
	}
	return out
}

func sortKey(v interface{}) string {
	switch x := v.(type) {
	case string:
		return x
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// schemaOfField finds a field's definition among `fields` or `shorthand_fields`.
func schemaOfField(schema map[string]interface{}, name string) map[string]interface{} {
	if schema == nil {
		return nil
	}
	for _, key := range []string{"fields", "shorthand_fields"} {
		for _, f := range fieldEntries(schema[key]) {
			if f.name == name {
				return f.def
			}
		}
	}
	return nil
}
