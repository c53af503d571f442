// Package shaders holds gputrain's WGSL compute shaders, one operation per
// file, embedded into the binary with go:embed.
//
// Every shader follows one binding convention: binding 0 of group 0 is a
// uniform block named p that holds the operation's sizes and scalars (the
// host mirrors each shader's struct Params as a Go struct, in package gpu's
// params.go, and copies its bytes), and bindings 1, 2, ... are the storage buffers, in the
// order the shader's header comment lists. Entry points are named main.
//
// WebGPU on these drivers has no override constants, so a shader that is
// specialised at compile time (matmul's tile sizes and operand layouts)
// writes its parameters as {{NAME}} placeholders that the host fills in.
package shaders

import (
	"embed"
	"fmt"
	"sort"
	"strings"
)

//go:embed *.wgsl
var files embed.FS

// Source returns the WGSL of the named shader (the file name without
// ".wgsl") with each {{KEY}} placeholder replaced by consts[KEY]. It returns
// an error if the shader does not exist or a placeholder is left unfilled.
func Source(name string, consts map[string]string) (string, error) {
	b, err := files.ReadFile(name + ".wgsl")
	if err != nil {
		return "", fmt.Errorf("shaders: no shader %q: %w", name, err)
	}
	src := fill(string(b), consts)
	// A line "//!include NAME" is replaced by the snippet NAME.wgsl: WGSL has
	// no includes, and the reductions and activations are shared. NAME may
	// itself be built from placeholders (matmul picks its tile loads so).
	for {
		i := strings.Index(src, "//!include ")
		if i < 0 {
			break
		}
		end := strings.IndexByte(src[i:], '\n')
		if end < 0 {
			end = len(src) - i
		}
		inc := strings.TrimSpace(src[i+len("//!include ") : i+end])
		part, err := files.ReadFile(inc + ".wgsl")
		if err != nil {
			return "", fmt.Errorf("shaders: %s includes %q: %w", name, inc, err)
		}
		src = src[:i] + fill(string(part), consts) + src[i+end:]
	}
	if i := strings.Index(src, "{{"); i >= 0 {
		end := strings.Index(src[i:], "}}")
		if end < 0 {
			end = len(src) - i - 2
		}
		return "", fmt.Errorf("shaders: %s: placeholder %s not filled", name, src[i:i+end+2])
	}
	return src, nil
}

// fill replaces each {{KEY}} placeholder of src by consts[KEY].
func fill(src string, consts map[string]string) string {
	keys := make([]string, 0, len(consts))
	for k := range consts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		src = strings.ReplaceAll(src, "{{"+k+"}}", consts[k])
	}
	return src
}

// Names lists the embedded shaders, leaving out the snippets (files whose
// name starts with "_") that shaders include.
func Names() []string {
	entries, _ := files.ReadDir(".")
	var names []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "_") {
			names = append(names, strings.TrimSuffix(e.Name(), ".wgsl"))
		}
	}
	return names
}
