package main

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"reflect"
	"slices"
	"strings"
)

// writeJSON writes v as one line of JSON to w, as json.Encoder.Encode
// does, except that every number that is NaN or infinite (a metric of a
// diverged or degenerate run, a loss that overflowed) is written as null,
// the rule of package jsonnum: JSON has no NaN, and the output is valid
// JSON on every command and exit path. Types that carry figures that may
// be missing (nn.EpochStats, sweep.Num, the commands' own results) write
// them through jsonnum; writeJSON is the net under every other value, and
// every command's --json goes through it.
func writeJSON(w io.Writer, v any) error {
	b, err := marshalFinite(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// marshalFinite is json.Marshal with non-finite numbers written as null.
func marshalFinite(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	var ue *json.UnsupportedValueError
	if err == nil || !asUnsupported(err, &ue) {
		return b, err
	}
	return json.Marshal(finiteTree(reflect.ValueOf(v)))
}

func asUnsupported(err error, target **json.UnsupportedValueError) bool {
	for e := err; e != nil; {
		if ue, ok := e.(*json.UnsupportedValueError); ok {
			*target = ue
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

var marshalerType = reflect.TypeFor[json.Marshaler]()

// finiteTree returns what encoding/json would write for v, as values it
// can write, with nil for each non-finite float: objects keep their field
// order (orderedObject), a json.Marshaler's output is kept as it is.
func finiteTree(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	if v.Type().Implements(marshalerType) && !(v.Kind() == reflect.Pointer && v.IsNil()) {
		b, err := v.Interface().(json.Marshaler).MarshalJSON()
		if err == nil {
			return json.RawMessage(b)
		}
	}
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil
		}
		return v.Interface()
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return finiteTree(v.Elem())
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return v.Interface() // []byte: base64, as json writes it
		}
		fallthrough
	case reflect.Array:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = finiteTree(v.Index(i))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		out := map[string]any{}
		it := v.MapRange()
		for it.Next() {
			k := it.Key()
			if k.Kind() != reflect.String {
				return v.Interface() // not in gputrain's outputs: as json writes it
			}
			out[k.String()] = finiteTree(it.Value())
		}
		return out
	case reflect.Struct:
		var obj orderedObject
		structFields(v, &obj, map[string]bool{})
		return obj
	}
	return v.Interface()
}

// structFields appends the JSON fields of struct v to obj, in order, by
// encoding/json's rules for what gputrain's outputs use: exported fields,
// tags with a name, omitempty and "-", and embedded structs whose fields
// are promoted unless the outer struct names the same key (seen).
func structFields(v reflect.Value, obj *orderedObject, seen map[string]bool) {
	t := v.Type()
	// The outer struct's own keys win over promoted ones.
	own := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		if name, _, ok := jsonField(f); ok && !(f.Anonymous && f.Tag.Get("json") == "") {
			own[name] = true
		}
	}
	for i := range t.NumField() {
		f := t.Field(i)
		fv := v.Field(i)
		if f.Anonymous && f.Tag.Get("json") == "" {
			if fv.Kind() == reflect.Pointer {
				if fv.IsNil() {
					continue
				}
				fv = fv.Elem()
			}
			if fv.Kind() == reflect.Struct {
				inner := map[string]bool{}
				for k := range seen {
					inner[k] = true
				}
				for k := range own {
					inner[k] = true
				}
				structFields(fv, obj, inner)
				continue
			}
		}
		name, omitEmpty, ok := jsonField(f)
		if !ok || seen[name] {
			continue
		}
		if omitEmpty && isEmpty(fv) {
			continue
		}
		obj.set(name, finiteTree(fv))
	}
}

// jsonField returns the key of field f and whether it is omitempty; ok is
// false for a field json leaves out.
func jsonField(f reflect.StructField) (name string, omitEmpty, ok bool) {
	if !f.IsExported() && !f.Anonymous {
		return "", false, false
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "", false, false
	}
	name, opts, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name, slices.Contains(strings.Split(opts, ","), "omitempty"), true
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	case reflect.Struct:
		return false // json never omits a struct
	}
	return v.IsZero()
}

// orderedObject is a JSON object whose keys keep their order.
type orderedObject []keyValue

type keyValue struct {
	key   string
	value any
}

// set adds key, or replaces its value where the object has it already.
func (o *orderedObject) set(key string, value any) {
	for i := range *o {
		if (*o)[i].key == key {
			(*o)[i].value = value
			return
		}
	}
	*o = append(*o, keyValue{key, value})
}

func (o orderedObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, kv := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(kv.key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(kv.value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
