// Package safetensors reads and writes tensors in the safetensors format
// (https://github.com/huggingface/safetensors), which gputrain uses for
// checkpoints.
//
// A file is an 8-byte little-endian unsigned header length N, N bytes of
// JSON, then the tensor data, little-endian:
//
//	{"__metadata__": {"key": "value"},
//	 "name": {"dtype": "F32", "shape": [rows, cols], "data_offsets": [begin, end]}, ...}
//
// Offsets count bytes from the start of the data section. Only the F32 and
// F64 dtypes are supported. In memory a Tensor always holds float64 values;
// its DType says how they are stored in the file. Reading keeps each tensor's
// dtype and is exact for both (a float32 converts to float64 without loss), so
// a Write/Read round trip of an F64 tensor is bit-exact, and of an F32 tensor
// rounds each value to the nearest float32 once. Every other dtype is
// rejected.
//
// Write produces tensors sorted by name, the header padded with spaces to a
// multiple of 8 bytes as the reference implementation does, and replaces the
// target file atomically.
//
// Reading never trusts the file: the header length, the offsets and the
// shapes are checked against the real size of the file before anything is
// allocated from them (so the memory a read takes is bounded by twice the
// file's size), tensors must tile the data section exactly (no gaps, no
// overlaps, nothing left over, as the specification requires), and every
// error names the file and the tensor or field at fault.
package safetensors

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/gputrain/gputrain/internal/atomicfile"
)

// MaxHeaderSize is the largest JSON header Read and Decode accept (100 MB,
// the reference implementation's limit).
const MaxHeaderSize = 100_000_000

// maxHeaderSize is MaxHeaderSize, lowered by tests.
var maxHeaderSize uint64 = MaxHeaderSize

// metadataKey is the reserved header key of the free-form metadata.
const metadataKey = "__metadata__"

// ErrFormat is matched (with errors.Is) by every error that reports a
// malformed file.
var ErrFormat = errors.New("malformed safetensors file")

// DType is how a tensor's elements are stored in a file.
type DType string

// The dtypes this package reads and writes.
const (
	F32 DType = "F32" // IEEE 754 binary32, little-endian; the default
	F64 DType = "F64" // IEEE 754 binary64, little-endian
)

// size returns the bytes per element of d ("" meaning F32), or 0 if d is
// not supported.
func (d DType) size() uint64 {
	switch d {
	case F32, "":
		return 4
	case F64:
		return 8
	}
	return 0
}

// Tensor is a named tensor. Data holds the elements in row-major order; its
// length is the product of Shape (1 for an empty shape, a scalar). DType is
// how Data is stored in a file: F32 (also when empty), which Write rounds
// each value to the nearest float32 for, or F64, stored exactly. Read and
// Decode set it to the dtype found in the file.
type Tensor struct {
	Name  string
	Shape []int
	DType DType
	Data  []float64
}

// File is the content of a safetensors file: its tensors, sorted by name,
// and its metadata (nil when the file has none).
type File struct {
	Tensors  []Tensor
	Metadata map[string]string
}

// Tensor returns the tensor called name, or nil.
func (f *File) Tensor(name string) *Tensor {
	for i := range f.Tensors {
		if f.Tensors[i].Name == name {
			return &f.Tensors[i]
		}
	}
	return nil
}

// formatError reports a malformed file; it matches ErrFormat.
type formatError struct{ msg string }

func (e *formatError) Error() string        { return e.msg }
func (e *formatError) Is(target error) bool { return target == ErrFormat }

func errorf(format string, args ...any) error {
	return &formatError{msg: fmt.Sprintf(format, args...)}
}

// numel returns the number of elements of shape, or an error if a dimension
// is negative or the product overflows limit.
func numel(shape []int, limit uint64) (uint64, error) {
	n := uint64(1)
	for i, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("dimension %d is %d", i, d)
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > limit {
			return 0, fmt.Errorf("shape %v holds more than %d elements", shape, limit)
		}
		n = lo
	}
	return n, nil
}

// Encode returns the safetensors encoding of tensors (sorted by name, each
// stored as its DType says) and metadata, as Write stores it. name is used
// in errors. A header over MaxHeaderSize, which Read would refuse, is an
// error: nothing is encoded that this package cannot read back.
func Encode(name string, tensors []Tensor, metadata map[string]string) ([]byte, error) {
	sorted := slices.Clone(tensors)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	var hdr bytes.Buffer
	hdr.WriteByte('{')
	if len(metadata) > 0 {
		m, err := json.Marshal(metadata)
		if err != nil {
			return nil, fmt.Errorf("safetensors: %s: metadata: %w", name, err)
		}
		hdr.WriteString(`"` + metadataKey + `":`)
		hdr.Write(m)
	}
	var offset uint64
	for i, t := range sorted {
		switch {
		case t.Name == "":
			return nil, fmt.Errorf("safetensors: %s: tensor %d has an empty name", name, i)
		case t.Name == metadataKey:
			return nil, fmt.Errorf("safetensors: %s: tensor name %q is reserved", name, t.Name)
		case i > 0 && sorted[i-1].Name == t.Name:
			return nil, fmt.Errorf("safetensors: %s: tensor %q given twice", name, t.Name)
		}
		size := t.DType.size()
		if size == 0 {
			return nil, fmt.Errorf("safetensors: %s: tensor %q: dtype %q not supported (only F32 and F64)", name, t.Name, t.DType)
		}
		n, err := numel(t.Shape, math.MaxInt32)
		if err != nil {
			return nil, fmt.Errorf("safetensors: %s: tensor %q: shape: %w", name, t.Name, err)
		}
		if n != uint64(len(t.Data)) {
			return nil, fmt.Errorf("safetensors: %s: tensor %q: shape %v holds %d elements but data has %d", name, t.Name, t.Shape, n, len(t.Data))
		}
		if hdr.Len() > 1 {
			hdr.WriteByte(',')
		}
		k, _ := json.Marshal(t.Name)
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		s, _ := json.Marshal(shape)
		dt := t.DType
		if dt == "" {
			dt = F32
		}
		fmt.Fprintf(&hdr, `%s:{"dtype":"%s","shape":%s,"data_offsets":[%d,%d]}`, k, dt, s, offset, offset+size*n)
		offset += size * n
	}
	hdr.WriteByte('}')
	for hdr.Len()%8 != 0 {
		hdr.WriteByte(' ')
	}
	// Never write what Read refuses.
	if uint64(hdr.Len()) > maxHeaderSize {
		return nil, fmt.Errorf("safetensors: %s: the header (metadata and tensor list) would be %d bytes, over the %d-byte limit that readers, this one included, accept", name, hdr.Len(), maxHeaderSize)
	}
	out := make([]byte, 8, 8+hdr.Len()+int(offset))
	binary.LittleEndian.PutUint64(out, uint64(hdr.Len()))
	out = append(out, hdr.Bytes()...)
	for _, t := range sorted {
		if t.DType == F64 {
			for _, v := range t.Data {
				out = binary.LittleEndian.AppendUint64(out, math.Float64bits(v))
			}
			continue
		}
		for _, v := range t.Data {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(float32(v)))
		}
	}
	return out, nil
}

// Write stores tensors (sorted by name, each as its DType says) and metadata in a
// safetensors file at path. It writes a temporary file in the same folder,
// syncs it, renames it over path and syncs the folder, so path holds either
// its old content or the complete new file; on error the temporary file is
// removed and path is untouched. Tensor names must be unique and non-empty,
// and each tensor's Data must have the length its Shape says.
func Write(path string, tensors []Tensor, metadata map[string]string) (err error) {
	b, err := Encode(path, tensors, metadata)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(path, b); err != nil {
		return fmt.Errorf("safetensors: %s: %w", path, err)
	}
	return nil
}

// entry is one tensor of a parsed header.
type entry struct {
	name       string
	dtype      DType
	size       uint64 // bytes per element
	shape      []int
	begin, end uint64
}

// dtypeSizes lists the dtypes of the specification; only F32 and F64 are
// readable here.
var dtypeSizes = map[string]uint64{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "F8_E8M0": 1, "F4": 1, "F6_E2M3": 1, "F6_E3M2": 1,
	"I16": 2, "U16": 2, "F16": 2, "BF16": 2,
	"I32": 4, "U32": 4, "F32": 4, "C64": 8,
	"F64": 8, "I64": 8, "U64": 8,
}

// parseHeader validates the JSON header hdr of a file whose data section is
// dataLen bytes long, and returns its tensors in data order plus the
// metadata. Nothing is allocated in proportion to claimed sizes.
func parseHeader(name string, hdr []byte, dataLen uint64) ([]entry, map[string]string, error) {
	trimmed := bytes.TrimRight(hdr, " ")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, nil, errorf("safetensors: %s: header: not a JSON object (does not start with '{'): not a safetensors file", name)
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return nil, nil, errorf("safetensors: %s: header: invalid JSON: %v", name, err)
	}
	var entries []entry
	var meta map[string]string
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, errorf("safetensors: %s: header: invalid JSON: %v", name, err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, nil, errorf("safetensors: %s: header: invalid JSON key %v", name, tok)
		}
		if seen[key] {
			return nil, nil, errorf("safetensors: %s: header: key %q appears twice", name, key)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, errorf("safetensors: %s: header: %q: invalid JSON: %v", name, key, err)
		}
		if key == metadataKey {
			if err := json.Unmarshal(raw, &meta); err != nil {
				return nil, nil, errorf("safetensors: %s: header: %s: want an object of string values: %v", name, metadataKey, err)
			}
			continue
		}
		e, err := parseEntry(name, key, raw, dataLen)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, errorf("safetensors: %s: header: invalid JSON: %v", name, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errorf("safetensors: %s: header: data after the JSON object", name)
	}
	// The tensors must tile the data section: sorted by offset, each starts
	// where the previous one ends, and the last ends at the end of the data.
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].begin != entries[j].begin {
			return entries[i].begin < entries[j].begin
		}
		return entries[i].end < entries[j].end
	})
	var at uint64
	for i, e := range entries {
		switch {
		case e.begin > at:
			return nil, nil, errorf("safetensors: %s: tensor %q: data_offsets [%d, %d] leave bytes %d..%d of the data unused", name, e.name, e.begin, e.end, at, e.begin)
		case e.begin < at:
			return nil, nil, errorf("safetensors: %s: tensor %q: data_offsets [%d, %d] overlap tensor %q", name, e.name, e.begin, e.end, entries[i-1].name)
		}
		at = e.end
	}
	if at != dataLen {
		return nil, nil, errorf("safetensors: %s: data: tensors cover %d bytes but the data section holds %d", name, at, dataLen)
	}
	return entries, meta, nil
}

// tensorInfo is a header entry as JSON.
type tensorInfo struct {
	DType       *string   `json:"dtype"`
	Shape       *[]int64  `json:"shape"`
	DataOffsets *[]uint64 `json:"data_offsets"`
}

func parseEntry(name, key string, raw json.RawMessage, dataLen uint64) (entry, error) {
	var ti tensorInfo
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&ti); err != nil {
		return entry{}, errorf("safetensors: %s: tensor %q: %v", name, key, err)
	}
	switch {
	case ti.DType == nil:
		return entry{}, errorf("safetensors: %s: tensor %q: no dtype", name, key)
	case ti.Shape == nil:
		return entry{}, errorf("safetensors: %s: tensor %q: no shape", name, key)
	case ti.DataOffsets == nil:
		return entry{}, errorf("safetensors: %s: tensor %q: no data_offsets", name, key)
	case len(*ti.DataOffsets) != 2:
		return entry{}, errorf("safetensors: %s: tensor %q: data_offsets has %d values, want 2", name, key, len(*ti.DataOffsets))
	}
	e := entry{name: key, dtype: DType(*ti.DType), begin: (*ti.DataOffsets)[0], end: (*ti.DataOffsets)[1]}
	size, known := dtypeSizes[*ti.DType]
	switch {
	case !known:
		return entry{}, errorf("safetensors: %s: tensor %q: unknown dtype %q", name, key, e.dtype)
	case e.dtype != F32 && e.dtype != F64:
		return entry{}, errorf("safetensors: %s: tensor %q: dtype %s not supported (only F32 and F64)", name, key, e.dtype)
	}
	e.size = size
	if e.begin > e.end || e.end > dataLen {
		return entry{}, errorf("safetensors: %s: tensor %q: data_offsets [%d, %d] out of range of the %d-byte data section", name, key, e.begin, e.end, dataLen)
	}
	e.shape = make([]int, len(*ti.Shape))
	for i, v := range *ti.Shape {
		if v < 0 {
			return entry{}, errorf("safetensors: %s: tensor %q: shape %v: dimension %d is negative", name, key, *ti.Shape, i)
		}
		if v > math.MaxInt32 {
			return entry{}, errorf("safetensors: %s: tensor %q: shape %v: dimension %d too large for this file", name, key, *ti.Shape, i)
		}
		e.shape[i] = int(v)
	}
	n, err := numel(e.shape, math.MaxInt64/size)
	if err != nil || n*size > dataLen {
		return entry{}, errorf("safetensors: %s: tensor %q: shape %v of %s holds more than the %d-byte data section can hold", name, key, e.shape, e.dtype, dataLen)
	}
	if n*size != e.end-e.begin {
		return entry{}, errorf("safetensors: %s: tensor %q: shape %v of %s needs %d bytes but data_offsets [%d, %d] span %d",
			name, key, e.shape, e.dtype, n*size, e.begin, e.end, e.end-e.begin)
	}
	return e, nil
}

// decodeValues converts the little-endian bytes b of dtype e.dtype to
// float64, exactly.
func decodeValues(e entry, b []byte, dst []float64) {
	if e.dtype == F64 {
		for i := range dst {
			dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		}
		return
	}
	for i := range dst {
		dst[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])))
	}
}

// splitPrefix checks the 8-byte length prefix against the total size and
// returns the header length.
func splitPrefix(name string, prefix []byte, total uint64) (uint64, error) {
	if total < 8 || len(prefix) < 8 {
		return 0, errorf("safetensors: %s: %d bytes, too short for the 8-byte header length: not a safetensors file", name, total)
	}
	n := binary.LittleEndian.Uint64(prefix)
	switch {
	case n > maxHeaderSize:
		return 0, errorf("safetensors: %s: header length %d exceeds the %d-byte limit: not a safetensors file", name, n, maxHeaderSize)
	case n > total-8:
		return 0, errorf("safetensors: %s: header length %d exceeds the %d bytes after it: truncated or not a safetensors file", name, n, total-8)
	case n < 2:
		return 0, errorf("safetensors: %s: header length %d too short for a JSON object: not a safetensors file", name, n)
	}
	return n, nil
}

func finish(entries []entry, meta map[string]string) *File {
	f := &File{Tensors: make([]Tensor, len(entries)), Metadata: meta}
	for i, e := range entries {
		f.Tensors[i] = Tensor{Name: e.name, Shape: e.shape, DType: e.dtype, Data: make([]float64, (e.end-e.begin)/e.size)}
	}
	return f
}

func sortByName(f *File) {
	sort.Slice(f.Tensors, func(i, j int) bool { return f.Tensors[i].Name < f.Tensors[j].Name })
}

// Decode parses a safetensors file held in b, with the same checks as Read;
// name is used in errors. The result does not share memory with b.
func Decode(name string, b []byte) (*File, error) {
	n, err := splitPrefix(name, b, uint64(len(b)))
	if err != nil {
		return nil, err
	}
	entries, meta, err := parseHeader(name, b[8:8+n], uint64(len(b))-8-n)
	if err != nil {
		return nil, err
	}
	data := b[8+n:]
	f := finish(entries, meta)
	for i, e := range entries {
		decodeValues(e, data[e.begin:e.end], f.Tensors[i].Data)
	}
	sortByName(f)
	return f, nil
}

// Read reads the safetensors file at path. Tensors come back sorted by name,
// each with the DType it has in the file and its values exactly. The header is checked against the
// file's size before any tensor is allocated, so a corrupt or hostile file
// yields an error naming the file and the tensor or field, never a huge
// allocation or a panic.
func Read(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("safetensors: %s: not a regular file", path)
	}
	size := uint64(st.Size())
	r := bufio.NewReaderSize(fh, 1<<16)
	var prefix [8]byte
	if _, err := io.ReadFull(r, prefix[:min(size, 8)]); err != nil {
		return nil, truncated(path, "header length", err)
	}
	n, err := splitPrefix(path, prefix[:], size)
	if err != nil {
		return nil, err
	}
	hdr := make([]byte, n)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, truncated(path, "header", err)
	}
	entries, meta, err := parseHeader(path, hdr, size-8-n)
	if err != nil {
		return nil, err
	}
	f := finish(entries, meta)
	buf := make([]byte, 1<<16)
	for i, e := range entries {
		dst := f.Tensors[i].Data
		per := int(e.size)
		for len(dst) > 0 {
			k := min(len(dst), len(buf)/per)
			if _, err := io.ReadFull(r, buf[:k*per]); err != nil {
				return nil, truncated(path, fmt.Sprintf("tensor %q", e.name), err)
			}
			decodeValues(e, buf[:k*per], dst[:k])
			dst = dst[k:]
		}
	}
	sortByName(f)
	return f, nil
}

func truncated(path, field string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errorf("safetensors: %s: %s: file truncated (it shrank while being read)", path, field)
	}
	return fmt.Errorf("safetensors: %s: %s: %w", path, field, err)
}

// String describes a tensor briefly, e.g. `fc1.weight [128 784]`.
func (t Tensor) String() string {
	dims := make([]string, len(t.Shape))
	for i, d := range t.Shape {
		dims[i] = fmt.Sprint(d)
	}
	return fmt.Sprintf("%s [%s]", t.Name, strings.Join(dims, " "))
}
