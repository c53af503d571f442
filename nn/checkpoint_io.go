package nn

// TODO(lead): package safetensors had not landed when nn was written. This
// file is a minimal local adapter holding the safetensors layout nn needs
// (F32/F64, little-endian, atomic write). Once safetensors.Write/Read exist,
// replace writeCheckpoint and readCheckpoint by calls to them; nothing else
// in nn touches the file format.

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
)

type stEntry struct {
	DType   string `json:"dtype"`
	Shape   []int  `json:"shape"`
	Offsets [2]int `json:"data_offsets"`
}

// writeCheckpoint writes ts and meta as a safetensors file at path through
// a temporary file in the same folder renamed into place.
func writeCheckpoint(path string, ts map[string]ckTensor, meta map[string]string, f64 bool) error {
	names := make([]string, 0, len(ts))
	for n := range ts {
		names = append(names, n)
	}
	sort.Strings(names)
	dt, size := "F32", 4
	if f64 {
		dt, size = "F64", 8
	}
	header := map[string]any{"__metadata__": meta}
	var body []byte
	for _, n := range names {
		t := ts[n]
		start := len(body)
		for _, v := range t.Data {
			if f64 {
				body = binary.LittleEndian.AppendUint64(body, math.Float64bits(v))
			} else {
				body = binary.LittleEndian.AppendUint32(body, math.Float32bits(float32(v)))
			}
		}
		header[n] = stEntry{DType: dt, Shape: t.Shape, Offsets: [2]int{start, start + size*len(t.Data)}}
	}
	hj, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("encoding the header: %w", err)
	}
	for len(hj)%8 != 0 {
		hj = append(hj, ' ')
	}
	buf := binary.LittleEndian.AppendUint64(nil, uint64(len(hj)))
	buf = append(append(buf, hj...), body...)

	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if _, err := tmp.Write(buf); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// readCheckpoint reads a safetensors file of F32 or F64 tensors.
func readCheckpoint(path string) (map[string]ckTensor, map[string]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if len(raw) < 8 {
		return nil, nil, fmt.Errorf("not a safetensors file: %w", io.ErrUnexpectedEOF)
	}
	hl := binary.LittleEndian.Uint64(raw)
	if hl > uint64(len(raw)-8) {
		return nil, nil, fmt.Errorf("not a safetensors file: header of %d bytes in a file of %d", hl, len(raw))
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(raw[8:8+hl], &header); err != nil {
		return nil, nil, fmt.Errorf("safetensors header: %w", err)
	}
	body := raw[8+hl:]
	meta := map[string]string{}
	ts := map[string]ckTensor{}
	for name, v := range header {
		if name == "__metadata__" {
			if err := json.Unmarshal(v, &meta); err != nil {
				return nil, nil, fmt.Errorf("safetensors metadata: %w", err)
			}
			continue
		}
		var e stEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return nil, nil, fmt.Errorf("safetensors entry %s: %w", name, err)
		}
		n := 1
		for _, d := range e.Shape {
			n *= d
		}
		size := map[string]int{"F32": 4, "F64": 8}[e.DType]
		if size == 0 {
			return nil, nil, fmt.Errorf("tensor %s has dtype %s, want F32 or F64", name, e.DType)
		}
		a, b := e.Offsets[0], e.Offsets[1]
		if a < 0 || b > len(body) || b-a != n*size {
			return nil, nil, errors.New("tensor " + name + " has bad data offsets")
		}
		t := ckTensor{Shape: e.Shape, Data: make([]float64, n)}
		for i := range t.Data {
			p := body[a+i*size:]
			if size == 8 {
				t.Data[i] = math.Float64frombits(binary.LittleEndian.Uint64(p))
			} else {
				t.Data[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(p)))
			}
		}
		ts[name] = t
	}
	return ts, meta, nil
}
