package docs_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// copiedMarker is the line before a ```go block copied from a program in
// the repository: the block must appear in that file line for line, so that
// the docs show code that builds (go test ./examples runs the programs).
var copiedMarker = regexp.MustCompile(`^<!-- copied from: (\S+) -->$`)

// TestCopiedSnippets checks every block marked as copied against its file.
func TestCopiedSnippets(t *testing.T) {
	for _, f := range docFiles(t) {
		text, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(text), "\n")
		for i, l := range lines {
			m := copiedMarker.FindStringSubmatch(strings.TrimSpace(l))
			if m == nil {
				continue
			}
			if i+1 >= len(lines) || strings.TrimSpace(lines[i+1]) != "```go" {
				t.Errorf("%s:%d: %s must be followed by a ```go block", f, i+1, m[0])
				continue
			}
			var block []string
			for j := i + 2; j < len(lines) && strings.TrimSpace(lines[j]) != "```"; j++ {
				block = append(block, lines[j])
			}
			src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(m[1])))
			if err != nil {
				t.Errorf("%s:%d: %v", f, i+1, err)
				continue
			}
			if !strings.Contains(string(src), strings.Join(block, "\n")+"\n") {
				t.Errorf("%s:%d: the ```go block is not, line for line, in %s (copy it again)", f, i+1, m[1])
			}
		}
	}
}
