package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/bits"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// IDX magic numbers (big-endian uint32 at the start of each file).
const (
	idxImagesMagic = 2051
	idxLabelsMagic = 2049
)

// The four files of the MNIST layout, without the optional ".gz" suffix.
const (
	TrainImagesFile = "train-images-idx3-ubyte"
	TrainLabelsFile = "train-labels-idx1-ubyte"
	TestImagesFile  = "t10k-images-idx3-ubyte"
	TestLabelsFile  = "t10k-labels-idx1-ubyte"
)

// idxFiles lists the MNIST-layout files in the order LoadIDX needs them.
var idxFiles = []string{TrainImagesFile, TrainLabelsFile, TestImagesFile, TestLabelsFile}

// maxDeflateRatio bounds how many bytes one compressed byte can expand to
// (DEFLATE's limit is about 1032:1). It caps allocations made from an IDX
// header inside a gzip file before the body has been read.
const maxDeflateRatio = 1032

// fashionClassNames names the ten Fashion-MNIST classes.
var fashionClassNames = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// digitClassNames names the ten digit classes.
var digitClassNames = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// idxStream opens path and returns a reader of its decompressed content, a
// bound on how many decompressed bytes the file can hold, and a closer.
// Gzip is detected by the magic bytes 1f 8b, not by the file name.
func idxStream(path string) (io.Reader, int64, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("data: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, nil, fmt.Errorf("data: %w", err)
	}
	if st.IsDir() {
		f.Close()
		return nil, 0, nil, fmt.Errorf("data: %s: is a directory, not an IDX file", path)
	}
	size := st.Size()
	if size == 0 {
		f.Close()
		return nil, 0, nil, fmt.Errorf("data: %s: empty file", path)
	}
	br := bufio.NewReaderSize(f, 1<<16)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, 0, nil, fmt.Errorf("data: %s: corrupt gzip: %w", path, err)
		}
		limit := size * maxDeflateRatio
		return zr, limit, func() error { zr.Close(); return f.Close() }, nil
	}
	return br, size, f.Close, nil
}

// readIDX reads an IDX file whose magic must be want, with dims uint32
// dimensions after the magic, and returns the dimensions and the body. The
// body must hold exactly the product of the dimensions in bytes.
func readIDX(path string, want uint32, dims int, what string) ([]uint32, []byte, error) {
	r, limit, closeFn, err := idxStream(path)
	if err != nil {
		return nil, nil, err
	}
	defer closeFn()
	hdrLen := 4 + 4*dims
	hdr := make([]byte, hdrLen)
	n, err := io.ReadFull(r, hdr)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			if n == 0 {
				return nil, nil, fmt.Errorf("data: %s: empty file (no IDX header)", path)
			}
			if n >= 4 {
				if m := binary.BigEndian.Uint32(hdr); m != want {
					return nil, nil, magicError(path, m, want, what)
				}
			}
			return nil, nil, fmt.Errorf("data: %s: header: truncated: %d of %d bytes", path, n, hdrLen)
		}
		return nil, nil, corruptError(path, "header", err)
	}
	if m := binary.BigEndian.Uint32(hdr); m != want {
		return nil, nil, magicError(path, m, want, what)
	}
	d := make([]uint32, dims)
	total := uint64(1)
	overflow := false
	for i := range d {
		d[i] = binary.BigEndian.Uint32(hdr[4+4*i:])
		hi, lo := bits.Mul64(total, uint64(d[i]))
		if hi != 0 {
			overflow = true
		}
		total = lo
	}
	avail := uint64(max(limit-int64(hdrLen), 0))
	if overflow || total > avail {
		// The header claims more than the file can hold: read what is there
		// (bounded by the file's own size) to report it.
		got, rerr := io.Copy(io.Discard, io.LimitReader(r, int64(avail)+1))
		if rerr != nil {
			return nil, nil, corruptError(path, "body", rerr)
		}
		return nil, nil, bodyError(path, d, what, got)
	}
	// total <= avail: the file (or its compressed form, at the maximum
	// deflate ratio) could hold it. For gzip, grow while reading rather than
	// trusting the header for the whole allocation.
	initial := total
	if _, isRaw := r.(*bufio.Reader); !isRaw {
		// Start from a typical ratio (MNIST images compress about 5:1) and
		// let readBounded grow the buffer as data arrives.
		initial = min(total, uint64(max(limit/maxDeflateRatio*8, 1<<20)))
	}
	body, err := readBounded(r, int(total), int(initial))
	if err != nil {
		return nil, nil, corruptError(path, "body", err)
	}
	if uint64(len(body)) < total {
		return nil, nil, bodyError(path, d, what, int64(len(body)))
	}
	var extra [1]byte
	n, err = io.ReadFull(r, extra[:])
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, corruptError(path, "body", err)
	}
	if n > 0 {
		return nil, nil, fmt.Errorf("data: %s: body: trailing data: header says %s but the body holds more than %d bytes", path, describe(d, what), total)
	}
	return d, body, nil
}

// readBounded reads up to total bytes from r, starting with a buffer of
// capacity initial and growing it as data actually arrives, so a header that
// lies about the size cannot make it allocate much more than was read.
func readBounded(r io.Reader, total, initial int) ([]byte, error) {
	buf := make([]byte, 0, initial)
	for len(buf) < total {
		if len(buf) == cap(buf) {
			grow := min(max(cap(buf), 1<<16), total-len(buf))
			buf = append(buf, make([]byte, grow)...)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), total)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

func magicError(path string, got, want uint32, what string) error {
	other := ""
	switch got {
	case idxImagesMagic:
		other = " (an images file)"
	case idxLabelsMagic:
		other = " (a labels file)"
	}
	return fmt.Errorf("data: %s: header: wrong magic %d%s, want %d for an IDX %s file", path, got, other, want, what)
}

func corruptError(path, field string, err error) error {
	if errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "flate") {
		return fmt.Errorf("data: %s: %s: corrupt gzip: %w", path, field, err)
	}
	return fmt.Errorf("data: %s: %s: %w", path, field, err)
}

func describe(d []uint32, what string) string {
	if what == "images" && len(d) == 3 {
		return fmt.Sprintf("%d images of %dx%d", d[0], d[1], d[2])
	}
	return fmt.Sprintf("%d %s", d[0], what)
}

func bodyError(path string, d []uint32, what string, got int64) error {
	if what == "images" && len(d) == 3 {
		per := int64(d[1]) * int64(d[2])
		held := int64(0)
		if per > 0 {
			held = got / per
		}
		return fmt.Errorf("data: %s: header: image count %d (%dx%d) but body holds %d images (%d bytes; truncated file?)",
			path, d[0], d[1], d[2], held, got)
	}
	return fmt.Errorf("data: %s: header: label count %d but body holds %d labels (truncated file?)", path, d[0], got)
}

// ReadIDXImages reads an IDX images file (magic 2051), raw or gzip-compressed,
// and returns the image size, the number of images and their pixels, row-major,
// count*rows*cols bytes. The header is checked against what the file can hold
// before anything is allocated from it.
func ReadIDXImages(path string) (rows, cols, count int, pixels []byte, err error) {
	d, body, err := readIDX(path, idxImagesMagic, 3, "images")
	if err != nil {
		return 0, 0, 0, nil, err
	}
	if d[0] == 0 {
		return 0, 0, 0, nil, fmt.Errorf("data: %s: header: image count is 0", path)
	}
	if d[1] == 0 || d[2] == 0 {
		return 0, 0, 0, nil, fmt.Errorf("data: %s: header: image size %dx%d", path, d[1], d[2])
	}
	return int(d[1]), int(d[2]), int(d[0]), body, nil
}

// ReadIDXLabels reads an IDX labels file (magic 2049), raw or gzip-compressed,
// and returns one label per item. Every label must be a digit class 0..9.
func ReadIDXLabels(path string) ([]byte, error) {
	d, body, err := readIDX(path, idxLabelsMagic, 1, "labels")
	if err != nil {
		return nil, err
	}
	if d[0] == 0 {
		return nil, fmt.Errorf("data: %s: header: label count is 0", path)
	}
	for i, l := range body {
		if l > 9 {
			return nil, fmt.Errorf("data: %s: body: label %d (item %d) out of range 0..9", path, l, i)
		}
	}
	return body, nil
}

// findIDXFile returns the path of base or base+".gz" in dir (the raw file is
// preferred when both exist), or an error naming what is missing and listing
// what the directory holds.
func findIDXFile(dir, base string) (string, error) {
	for _, name := range []string{base, base + ".gz"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("data: %s: missing %s[.gz] (the folder holds: %s): %w", dir, base, listDir(dir), fs.ErrNotExist)
}

func listDir(dir string) string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Sprintf("(cannot list: %v)", err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if len(names) == 0 {
		return "nothing"
	}
	sort.Strings(names)
	if len(names) > 20 {
		names = append(names[:20], fmt.Sprintf("... (%d more)", len(names)-20))
	}
	return strings.Join(names, ", ")
}

// LoadIDX loads a data set in the MNIST layout from dir: the four files
// train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte
// and t10k-labels-idx1-ubyte, each raw or gzip-compressed (".gz"). Image
// pixels become Set.Pixels (Cols = rows*cols), labels become class indices
// (Outputs 1, Classes 10). Sets are named after the directory, e.g.
// "mnist train" and "mnist test".
func LoadIDX(dir string) (*Split, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("data: %s: not a directory", dir)
	}
	paths := make([]string, len(idxFiles))
	for i, base := range idxFiles {
		if paths[i], err = findIDXFile(dir, base); err != nil {
			return nil, err
		}
	}
	name := filepath.Base(filepath.Clean(dir))
	if abs, err := filepath.Abs(dir); err == nil {
		name = filepath.Base(abs)
	}
	var train, test *Set
	var trainErr, testErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		test, testErr = loadIDXSet(paths[2], paths[3], name+" test")
	}()
	train, trainErr = loadIDXSet(paths[0], paths[1], name+" train")
	wg.Wait()
	if trainErr != nil {
		return nil, trainErr
	}
	if testErr != nil {
		return nil, testErr
	}
	if train.Cols != test.Cols {
		return nil, fmt.Errorf("data: %s: training images have %d pixels but test images have %d", dir, train.Cols, test.Cols)
	}
	names := digitClassNames
	if strings.Contains(strings.ToLower(name), "fashion") {
		names = fashionClassNames
	}
	train.ClassNames = append([]string(nil), names...)
	test.ClassNames = append([]string(nil), names...)
	return &Split{Train: train, Test: test, Source: dir}, nil
}

func loadIDXSet(imagesPath, labelsPath, name string) (*Set, error) {
	rows, cols, count, pixels, err := ReadIDXImages(imagesPath)
	if err != nil {
		return nil, err
	}
	labels, err := ReadIDXLabels(labelsPath)
	if err != nil {
		return nil, err
	}
	if len(labels) != count {
		return nil, fmt.Errorf("data: %s: header: image count %d but %s: header: label count %d", imagesPath, count, labelsPath, len(labels))
	}
	s := &Set{
		Name:    name,
		Rows:    count,
		Cols:    rows * cols,
		Width:   cols,
		Height:  rows,
		Pixels:  pixels,
		Labels:  make([]float64, count),
		Outputs: 1,
		Classes: 10,
	}
	for i, l := range labels {
		s.Labels[i] = float64(l)
	}
	return s, nil
}
