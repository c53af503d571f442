// Package enum gives an enum's String, validity check and parsing from one
// table of its names, so that each enum's names are written once.
package enum

import (
	"fmt"
	"strings"
)

// Names are the names of an enum's values, indexed by value:
//
//	var activationNames = enum.Names[Activation]{Identity: "identity", Sigmoid: "sigmoid"}
type Names[E ~uint8 | ~int] []string

// Valid reports whether v has a name.
func (n Names[E]) Valid(v E) bool { return int(v) >= 0 && int(v) < len(n) }

// String returns the name of v, or typ(v) (as "Activation(7)") for a value
// without one.
func (n Names[E]) String(v E, typ string) string {
	if n.Valid(v) {
		return n[v]
	}
	return fmt.Sprintf("%s(%d)", typ, int(v))
}

// Parse returns the value named s, in any case; ok is false for a name not in
// the table.
func (n Names[E]) Parse(s string) (v E, ok bool) {
	for i, name := range n {
		if strings.EqualFold(s, name) {
			return E(i), true
		}
	}
	return 0, false
}

// List returns the names separated by ", ", for messages.
func (n Names[E]) List() string { return strings.Join(n, ", ") }
