package table

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
)

// MaxRowBytes is the longest row (record) a CSV file may have: a line, or
// the lines of a row whose quoted cells span several, 16 MiB. Reading a
// longer one stops with an *RowTooLongError, so that a file with no line
// end (a binary file, /dev/zero) is refused instead of being held in
// memory whole.
const MaxRowBytes = 16 << 20

// ErrRowTooLong is matched (with errors.Is) by a *RowTooLongError.
var ErrRowTooLong = errors.New("CSV row too long")

// RowTooLongError reports a row longer than the limit.
type RowTooLongError struct {
	Path  string
	Line  int // the file line the row starts on, from 1
	Limit int // bytes
}

func (e *RowTooLongError) Error() string {
	return fmt.Sprintf("data: %s: line %d: a row longer than %d bytes (%d MiB) without a line end outside quotes: not a CSV table (a binary file?), or a row too long to read",
		e.Path, e.Line, e.Limit, e.Limit>>20)
}

// Is makes errors.Is(err, ErrRowTooLong) true.
func (e *RowTooLongError) Is(target error) bool { return target == ErrRowTooLong }

// rowLimiter passes the bytes of a CSV file through and fails once a row,
// counted from one line end outside quotes to the next, exceeds limit
// bytes. Quotes toggle the state: an escaped "" toggles twice.
type rowLimiter struct {
	r       io.Reader
	path    string
	limit   int
	n       int // bytes of the current row
	line    int // the current file line, from 1
	start   int // the line the current row started on
	inQuote bool
	err     error
}

func (l *rowLimiter) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	for i, c := range p[:n] {
		switch c {
		case '"':
			l.inQuote = !l.inQuote
		case '\n':
			l.line++
			if !l.inQuote {
				l.n, l.start = 0, l.line
				continue
			}
		}
		l.n++
		if l.n > l.limit {
			l.err = &RowTooLongError{Path: l.path, Line: l.start, Limit: l.limit}
			return i, l.err
		}
	}
	return n, err
}

// NewCSVReader returns a csv.Reader of src (comma-separated, quotes as RFC
// 4180, rows of any number of fields) that stops with a *RowTooLongError
// at a row longer than MaxRowBytes; path names the file in that error.
func NewCSVReader(path string, src io.Reader) *csv.Reader {
	return newCSVReader(path, src, MaxRowBytes)
}

func newCSVReader(path string, src io.Reader, limit int) *csv.Reader {
	r := csv.NewReader(&rowLimiter{r: src, path: path, limit: limit, line: 1, start: 1})
	r.FieldsPerRecord = -1
	return r
}
