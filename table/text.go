package table

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// cp1252 maps the bytes 0x80–0x9F of Windows-1252 to their characters;
// the other bytes of Windows-1252 (and of Latin-1, which it extends) are
// the Unicode code points of the same number. Five bytes are undefined
// and map to themselves (C1 controls), as WHATWG's decoder does.
var cp1252 = [32]rune{
	'€', 0x81, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0x8D, 'Ž', 0x8F,
	0x90, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0x9D, 'ž', 'Ÿ',
}

// decodeText returns s as UTF-8: as it is when it is valid UTF-8, else
// decoded as Windows-1252 (a superset of Latin-1 for printable text, the
// encoding of spreadsheets exported on Western European systems), and
// whether it was decoded. A file is decoded cell by cell, the same way
// every time it is read, so that a model trained on a Latin-1 table stores
// the same names and categories that evaluating on that table reads.
func decodeText(s string) (string, bool) {
	if utf8.ValidString(s) {
		return s, false
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/2)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x80:
			b.WriteByte(c)
		case c < 0xA0:
			b.WriteRune(cp1252[c-0x80])
		default:
			b.WriteRune(rune(c))
		}
	}
	return b.String(), true
}

// maxListed is the most names an error lists before it counts the rest.
const maxListed = 20

// listNames joins names for a message, the first maxListed of them and
// then a count of the rest ("… and 9,990 more"), each quoted as Go
// quotes a string when it holds a character a terminal would act on.
func listNames(names []string) string {
	shown := names
	if len(shown) > maxListed {
		shown = shown[:maxListed]
	}
	parts := make([]string, len(shown))
	for i, n := range shown {
		parts[i] = printable(n)
	}
	s := strings.Join(parts, ", ")
	if rest := len(names) - len(shown); rest > 0 {
		s += fmt.Sprintf(", … and %s more", thousands(rest))
	}
	return s
}

// printable returns s as it is when every character prints, else quoted
// with Go's escapes (%q), so that no control character (an escape code)
// reaches a terminal.
func printable(s string) string {
	for _, r := range s {
		if r < 0x20 || r == 0x7F || (r >= 0x80 && r < 0xA0) || r == utf8.RuneError {
			return fmt.Sprintf("%q", s)
		}
	}
	return s
}

// thousands writes n with commas between groups of three digits.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
