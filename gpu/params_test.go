package gpu

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/gputrain/gputrain/shaders"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kernelLayout is an opKernel seen by the tests: its shader and the Go type
// of its params.
type kernelLayout interface {
	layout() (shader, reflect.Type)
}

func (k opKernel[P]) layout() (shader, reflect.Type) { return k.shader, reflect.TypeFor[P]() }

// allKernels are the operations' kernels (params.go); TestParamsMatchShaders
// checks that they cover every shader.
var allKernels = []kernelLayout{
	kActGrad, kAdam, kBiasAct, kColumnSum, kCountCorrect, kFill, kGather, kGradNormSq,
	kGatherMatmulBiasAct, kMatmul, kMatmulActGrad, kMatmulBiasAct,
	kMatmulColumnSum, kMatmulColumnSumShared, kMomentum, kSGD, kSGDCompensated,
	kLoss[0], kLoss[1], kLoss[2],
}

// paramField is one scalar field of a uniform block: its name, WGSL type
// and byte offset. Padding is a field whose name starts with "_".
type paramField struct {
	name, typ string
	offset    uintptr
}

var paramsStruct = regexp.MustCompile(`(?s)struct\s+Params\s*\{(.*?)\}`)

// wgslParams parses the struct Params of WGSL source: its fields with the
// offsets WGSL gives them, and its size. Only the 4-byte scalars u32, i32
// and f32 are handled (all the shaders use).
func wgslParams(src string) ([]paramField, uintptr, error) {
	m := paramsStruct.FindAllStringSubmatch(src, -1)
	if len(m) != 1 {
		return nil, 0, fmt.Errorf("want one struct Params, found %d", len(m))
	}
	var body strings.Builder
	for _, line := range strings.Split(m[0][1], "\n") {
		line, _, _ = strings.Cut(line, "//")
		body.WriteString(line)
	}
	var fields []paramField
	var off uintptr
	for _, decl := range strings.Split(body.String(), ",") {
		if strings.TrimSpace(decl) == "" {
			continue
		}
		name, typ, ok := strings.Cut(decl, ":")
		if !ok {
			return nil, 0, fmt.Errorf("field %q: no type", decl)
		}
		name, typ = strings.TrimSpace(name), strings.TrimSpace(typ)
		switch typ {
		case "u32", "i32", "f32": // size 4, alignment 4
		default:
			return nil, 0, fmt.Errorf("field %s: type %s not handled by this test", name, typ)
		}
		fields = append(fields, paramField{name, typ, off})
		off += 4
	}
	return fields, off, nil
}

// goParams flattens the params struct t as the GPU reads it: embedded
// structs are inlined, and a blank field of n words is n padding fields.
func goParams(t reflect.Type, base uintptr) ([]paramField, error) {
	var fields []paramField
	for i := range t.NumField() {
		f := t.Field(i)
		off := base + f.Offset
		switch {
		case f.Anonymous && f.Type.Kind() == reflect.Struct:
			inner, err := goParams(f.Type, off)
			if err != nil {
				return nil, err
			}
			fields = append(fields, inner...)
		case f.Name == "_" && f.Type.Kind() == reflect.Array && f.Type.Elem().Kind() == reflect.Uint32:
			for j := range f.Type.Len() {
				fields = append(fields, paramField{"_", "u32", off + uintptr(4*j)})
			}
		default:
			typ, ok := map[reflect.Kind]string{reflect.Uint32: "u32", reflect.Int32: "i32", reflect.Float32: "f32"}[f.Type.Kind()]
			if !ok {
				return nil, fmt.Errorf("field %s: Go type %s has no WGSL scalar", f.Name, f.Type)
			}
			fields = append(fields, paramField{f.Name, typ, off})
		}
	}
	return fields, nil
}

// paramsMismatch compares the Go params type t with the shader's Params
// fields and size; it returns what differs, or "".
func paramsMismatch(t reflect.Type, wgsl []paramField, size uintptr) string {
	got, err := goParams(t, 0)
	if err != nil {
		return err.Error()
	}
	var diffs []string
	for i := range max(len(got), len(wgsl)) {
		switch {
		case i >= len(got):
			diffs = append(diffs, fmt.Sprintf("shader field %s (offset %d) missing in Go", wgsl[i].name, wgsl[i].offset))
		case i >= len(wgsl):
			diffs = append(diffs, fmt.Sprintf("Go field %s (offset %d) not in the shader", got[i].name, got[i].offset))
		default:
			g, w := got[i], wgsl[i]
			pad := g.name == "_" && strings.HasPrefix(w.name, "_")
			if (g.name != w.name && !pad) || g.typ != w.typ || g.offset != w.offset {
				diffs = append(diffs, fmt.Sprintf("field %d: Go %s %s at %d, shader %s %s at %d", i, g.name, g.typ, g.offset, w.name, w.typ, w.offset))
			}
		}
	}
	if t.Size() != size {
		diffs = append(diffs, fmt.Sprintf("size: Go %d bytes, shader %d", t.Size(), size))
	}
	return strings.Join(diffs, "; ")
}

// TestParamsMatchShaders: every shader has exactly one kernel, and its Go
// params struct has the names, order, types, offsets and size of the
// shader's struct Params (from the embedded source, includes resolved). The
// tiled products' structs start with productHead, which product writes
// through, and every struct fits a params slot.
func TestParamsMatchShaders(t *testing.T) {
	seen := map[shader]bool{}
	for _, k := range allKernels {
		s, typ := k.layout()
		t.Run(s.String(), func(t *testing.T) {
			assert.False(t, seen[s], "shader listed twice")
			seen[s] = true
			key := kernelKey{shader: s}
			if s.product() {
				key.cfg = DefaultMatmul
				require.Positive(t, typ.NumField())
				f := typ.Field(0)
				assert.True(t, f.Anonymous && f.Type == reflect.TypeFor[productHead]() && f.Offset == 0,
					"%s starts with productHead", typ)
			}
			src, err := shaders.Source(s.String(), key.consts())
			require.NoError(t, err)
			fields, size, err := wgslParams(src)
			require.NoError(t, err)
			assert.Empty(t, paramsMismatch(typ, fields, size), "%s against %s.wgsl's Params", typ, s)
			assert.LessOrEqual(t, typ.Size(), uintptr(paramSlot))
		})
	}
	assert.Len(t, seen, int(numShaders), "every shader has a kernel")
}

// TestParamsMismatchFound: the comparison of TestParamsMatchShaders reports
// a struct that differs from the shader in each way it checks.
func TestParamsMismatchFound(t *testing.T) {
	src, err := shaders.Source("gather", nil)
	require.NoError(t, err)
	fields, size, err := wgslParams(src)
	require.NoError(t, err)
	require.Empty(t, paramsMismatch(reflect.TypeFor[gatherParams](), fields, size))
	tests := []struct {
		name string
		typ  reflect.Type
		want string
	}{
		{"renamed", reflect.TypeFor[struct {
			rows, cols, offset, srcRows, isBytes uint32
			scale                                float32
			strideDst, strideSrc, strideIdx      uint32
			_                                    [3]uint32
		}](), "Go isBytes u32 at 16, shader isByte u32 at 16"},
		{"swapped", reflect.TypeFor[struct {
			cols, rows, offset, srcRows, isByte uint32
			scale                               float32
			strideDst, strideSrc, strideIdx     uint32
			_                                   [3]uint32
		}](), "field 0: Go cols"},
		{"wrong type", reflect.TypeFor[struct {
			rows, cols, offset, srcRows, isByte, scale uint32
			strideDst, strideSrc, strideIdx            uint32
			_                                          [3]uint32
		}](), "Go scale u32 at 20, shader scale f32 at 20"},
		{"no padding", reflect.TypeFor[struct {
			rows, cols, offset, srcRows, isByte uint32
			scale                               float32
			strideDst, strideSrc, strideIdx     uint32
		}](), "size: Go 36 bytes, shader 48"},
		{"extra field", reflect.TypeFor[struct {
			rows, cols, offset, srcRows, isByte uint32
			scale                               float32
			strideDst, strideSrc, strideIdx     uint32
			_                                   [4]uint32
		}](), "Go field _ (offset 48) not in the shader"},
		{"not a scalar", reflect.TypeFor[struct {
			rows, cols, offset, srcRows, isByte uint32
			scale                               float64
		}](), "Go type float64 has no WGSL scalar"},
	}
	for _, tt := range tests {
		assert.Contains(t, paramsMismatch(tt.typ, fields, size), tt.want, tt.name)
	}
	_, _, err = wgslParams("struct Params { n: u32, v: vec4<f32>, }")
	assert.ErrorContains(t, err, "vec4<f32> not handled")
}

// TestParamBytes: a params struct's bytes are its fields as consecutive
// little-endian 32-bit words, as the shaders read them.
func TestParamBytes(t *testing.T) {
	p := gatherParams{rows: 1, cols: 2, offset: 3, srcRows: 0x01020304, isByte: 1, scale: 0.5, strideDst: 6, strideSrc: 7, strideIdx: 8}
	want := make([]byte, 48)
	for i, w := range []uint32{1, 2, 3, 0x01020304, 1, math.Float32bits(0.5), 6, 7, 8, 0, 0, 0} {
		putWord(want[4*i:], w)
	}
	assert.Equal(t, want, paramBytes(&p))
}
