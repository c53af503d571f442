// Package docs_test keeps the documentation true: it runs the commands that
// README.md, BENCHMARKS.md and the guides in this folder mark as runnable,
// against a gputrain binary built from this tree, and checks that their
// links lead somewhere.
//
// A runnable block is a ```sh fence on the line after the marker
//
//	<!-- runnable -->
//
// Every line of it is one gputrain command (a trailing "# comment" is
// allowed). The commands of one file run in order in one scratch folder, in
// which examples/ is the repository's, so that one command may read what an
// earlier one wrote. A command that needs what this machine lacks is skipped
// with a message: a GPU (--device gpu or an API), a software adapter
// (--device software; a failure when GPUTRAIN_REQUIRE_GPU=1), a data set that
// is not installed (--data mnist, fashion-mnist), the network (download), or
// a file that a skipped command would have written.
//
// A ```go block on the line after <!-- example: Example_name --> must be the
// body of that Example in example_test.go, which go test compiles and runs.
package docs_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/gputrain/gputrain/data"
)

// marker is the line before a runnable ```sh block.
const marker = "<!-- runnable -->"

// commandTimeout bounds one command: every runnable command takes seconds
// on a 2-core CPU; the limit leaves room for a busy machine and lavapipe.
const commandTimeout = 3 * time.Minute

// root is the repository's root folder, the parent of this package's.
const root = ".."

// command is one runnable line of a document.
type command struct {
	file string // path relative to root
	line int    // 1-based
	text string // as written, comment removed
	args []string
}

func (c command) String() string { return fmt.Sprintf("%s:%d", c.file, c.line) }

// docFiles lists the documents whose commands and links are checked.
func docFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"README.md", "BENCHMARKS.md"}
	guides, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range guides {
		rel, err := filepath.Rel(root, g)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, rel)
	}
	return files
}

// runnable extracts the runnable commands of one document.
func runnable(file string, text []byte) ([]command, error) {
	var cmds []command
	lines := strings.Split(string(text), "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != marker {
			continue
		}
		if i+1 >= len(lines) || strings.TrimSpace(lines[i+1]) != "```sh" {
			return nil, fmt.Errorf("%s:%d: %s must be followed by a ```sh block", file, i+1, marker)
		}
		closed := false
		for j := i + 2; j < len(lines); j++ {
			l := strings.TrimSpace(lines[j])
			if l == "```" {
				closed, i = true, j
				break
			}
			l = stripComment(l)
			if l == "" {
				continue
			}
			args, err := split(l)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %v", file, j+1, err)
			}
			if args[0] != "gputrain" {
				return nil, fmt.Errorf("%s:%d: a runnable block holds gputrain commands only, not %q", file, j+1, l)
			}
			cmds = append(cmds, command{file: file, line: j + 1, text: l, args: args[1:]})
		}
		if !closed {
			return nil, fmt.Errorf("%s:%d: runnable block not closed", file, i+1)
		}
	}
	return cmds, nil
}

// stripComment removes a shell comment: a # at the start or after a space,
// outside quotes.
func stripComment(l string) string {
	var quote rune
	for i, r := range l {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
		case r == '#' && (i == 0 || l[i-1] == ' '):
			return strings.TrimSpace(l[:i])
		}
	}
	return l
}

// split splits a command line into words as a shell would for the simple
// lines the docs hold: spaces separate, quotes group and are removed.
func split(l string) ([]string, error) {
	var words []string
	var cur strings.Builder
	var quote rune
	inWord := false
	for _, r := range l {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case strings.ContainsRune("|&;<>$`\\*?", r):
			return nil, fmt.Errorf("%q: shell syntax (%c) is not allowed in a runnable command", l, r)
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("%q: unclosed quote", l)
	}
	if inWord {
		words = append(words, cur.String())
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("empty command")
	}
	return words, nil
}

// flagValue returns the value of --name (or -name) in args: "--name v" or
// "--name=v".
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		for _, p := range []string{"--" + name, "-" + name} {
			if a == p && i+1 < len(args) {
				return args[i+1], true
			}
			if v, ok := strings.CutPrefix(a, p+"="); ok {
				return v, true
			}
		}
	}
	return "", false
}

// machine is what this machine has, as gputrain devices reports it.
type machine struct {
	Adapters []struct {
		Name string `json:"name"`
		API  string `json:"api"`
		Type string `json:"type"`
	} `json:"adapters"`
	BestHardwareGPU string `json:"best_hardware_gpu"`
}

// lacks says what the command needs that this machine does not have, or "".
func (m machine) lacks(c command) string {
	if len(c.args) > 0 && c.args[0] == "download" {
		return "downloads need the network"
	}
	if dev, ok := flagValue(c.args, "device"); ok {
		for _, d := range strings.Split(dev, ",") {
			switch d {
			case "", "auto", "cpu":
			case "gpu":
				if m.BestHardwareGPU == "" {
					return "--device gpu needs a hardware GPU; this machine has none"
				}
			case "software":
				soft := false
				for _, a := range m.Adapters {
					soft = soft || a.Type == "cpu"
				}
				if !soft {
					return "--device software needs a software adapter (apt-get install mesa-vulkan-drivers)"
				}
			default: // an API
				has := false
				for _, a := range m.Adapters {
					has = has || a.API == d
				}
				if !has {
					return fmt.Sprintf("--device %s: no %s adapter on this machine", d, d)
				}
			}
		}
	}
	if set, ok := flagValue(c.args, "data"); ok && (set == "mnist" || set == "fashion-mnist") {
		if _, err := data.Resolve(set); err != nil {
			return fmt.Sprintf("--data %s is not installed here: %v", set, err)
		}
	}
	return ""
}

// build compiles gputrain once into dir.
func build(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "gputrain")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/gputrain")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/gputrain: %v\n%s", err, out)
	}
	return bin
}

// TestRunnableCommands runs every command marked runnable in the docs.
func TestRunnableCommands(t *testing.T) {
	var all [][]command
	total := 0
	for _, f := range docFiles(t) {
		text, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		cmds, err := runnable(f, text)
		if err != nil {
			t.Fatal(err)
		}
		if len(cmds) > 0 {
			all = append(all, cmds)
			total += len(cmds)
		}
	}
	if total == 0 {
		t.Fatal("no runnable commands found: the README's tour should have some")
	}

	tmp := t.TempDir()
	bin := build(t, tmp)
	examples, err := filepath.Abs(filepath.Join(root, "examples"))
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(),
		"GPUTRAIN_TUNE_CACHE="+filepath.Join(tmp, "autotune.json"),
		"GPUTRAIN_CHECK_CACHE="+filepath.Join(tmp, "checks.json"))

	var m machine
	out, err := exec.Command(bin, "devices", "--json").Output()
	if err == nil {
		err = json.Unmarshal(out, &m)
	}
	if err != nil {
		t.Logf("gputrain devices --json: %v (taking this machine to have no adapter)", err)
	}
	required := os.Getenv("GPUTRAIN_REQUIRE_GPU") == "1"

	for _, cmds := range all {
		t.Run(cmds[0].file, func(t *testing.T) {
			work := t.TempDir()
			if err := os.Symlink(examples, filepath.Join(work, "examples")); err != nil {
				t.Fatal(err)
			}
			skipped := map[string]string{} // outputs of skipped commands
			for _, c := range cmds {
				t.Run(fmt.Sprint(c.line), func(t *testing.T) {
					for _, a := range c.args {
						if why, ok := skipped[a]; ok {
							noteOutputs(c, skipped, why)
							t.Skipf("%s: %s: needs %s, which a skipped command writes (%s)", c, c.text, a, why)
						}
					}
					if why := m.lacks(c); why != "" {
						noteOutputs(c, skipped, why)
						if required && strings.Contains(why, "software adapter") {
							t.Fatalf("%s: %s: %s (GPUTRAIN_REQUIRE_GPU=1)", c, c.text, why)
						}
						t.Skipf("%s: %s: %s", c, c.text, why)
					}
					ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
					defer cancel()
					cmd := exec.CommandContext(ctx, bin, c.args...)
					cmd.Dir, cmd.Env = work, env
					var outb bytes.Buffer
					cmd.Stdout, cmd.Stderr = &outb, &outb
					start := time.Now()
					err := cmd.Run()
					if ctx.Err() != nil {
						err = fmt.Errorf("no result within %v", commandTimeout)
					}
					if err != nil {
						t.Fatalf("%s: %s: %v\n%s", c, c.text, err, tail(outb.String(), 40))
					}
					t.Logf("%s: %s: ok in %.1fs", c, c.text, time.Since(start).Seconds())
				})
			}
		})
	}
}

// noteOutputs records the files a skipped command would have written:
// --save, --out and --plot, and bench's --csv (elsewhere --csv is an input).
func noteOutputs(c command, skipped map[string]string, why string) {
	for _, f := range []string{"save", "out", "plot", "csv"} {
		if f == "csv" && c.args[0] != "bench" {
			continue
		}
		if v, ok := flagValue(c.args, f); ok {
			skipped[v] = c.String() + " skipped: " + why
		}
	}
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"…"}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

func TestRunnableParsing(t *testing.T) {
	doc := "x\n" + marker + "\n```sh\ngputrain --a \"2,0;0,4\" --y '4,8'   # comment\n\ngputrain solve#x\n```\n"
	cmds, err := runnable("d.md", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(cmds) != 2 || cmds[0].line != 4 || strings.Join(cmds[0].args, "|") != "--a|2,0;0,4|--y|4,8" ||
		strings.Join(cmds[1].args, "|") != "solve#x" {
		t.Fatalf("got %+v", cmds)
	}
	for _, bad := range []string{
		marker + "\n```text\ngputrain\n```\n",
		marker + "\n```sh\nls -l\n```\n",
		marker + "\n```sh\ngputrain --x $HOME\n```\n",
		marker + "\n```sh\ngputrain solve\n",
	} {
		if _, err := runnable("d.md", []byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// link matches a markdown link or image target: ](target).
var link = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestLinks checks that every relative link of the docs names a file that
// exists and, where it names a heading of a markdown file, that heading.
func TestLinks(t *testing.T) {
	for _, f := range docFiles(t) {
		text, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(text))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for n := 1; sc.Scan(); n++ {
			for _, mm := range link.FindAllStringSubmatch(sc.Text(), -1) {
				target := mm[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				path, anchor, _ := strings.Cut(target, "#")
				dest := filepath.Join(root, f)
				if path != "" {
					dest = filepath.Join(root, filepath.Dir(f), path)
				}
				if _, err := os.Stat(dest); err != nil {
					t.Errorf("%s:%d: link %s: %v", f, n, target, err)
					continue
				}
				if anchor != "" && strings.HasSuffix(dest, ".md") {
					md, err := os.ReadFile(dest)
					if err != nil {
						t.Fatal(err)
					}
					if !hasAnchor(md, anchor) {
						t.Errorf("%s:%d: link %s: no heading with anchor #%s in %s", f, n, target, anchor, dest)
					}
				}
			}
		}
	}
}

// TestNoSharedPaths: the docs name no file outside the repository that a
// fresh clone lacks.
func TestNoSharedPaths(t *testing.T) {
	for _, f := range docFiles(t) {
		text, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		for n, l := range strings.Split(string(text), "\n") {
			if strings.Contains(l, "../shared") {
				t.Errorf("%s:%d: names ../shared, which a clone of the repository does not have: %s", f, n+1, l)
			}
		}
	}
}

// hasAnchor reports whether a markdown document has a heading whose
// GitHub anchor is anchor: lower case, spaces as hyphens, punctuation other
// than hyphens and underscores removed.
func hasAnchor(md []byte, anchor string) bool {
	for _, l := range strings.Split(string(md), "\n") {
		h, ok := strings.CutPrefix(l, "#")
		if !ok {
			continue
		}
		h = strings.TrimLeft(h, "#")
		if slug(strings.TrimSpace(h)) == anchor {
			return true
		}
	}
	return false
}

func slug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestSlug(t *testing.T) {
	for h, want := range map[string]string{
		"Verified on first use":                                 "verified-on-first-use",
		"`gputrain check`: does this device compute correctly?": "gputrain-check-does-this-device-compute-correctly",
		"On a GPU":                  "on-a-gpu",
		"Tables: `--csv`":           "tables---csv",
		"Seed preset: 64-128-128-1": "seed-preset-64-128-128-1",
	} {
		if got := slug(h); got != want {
			t.Errorf("slug(%q) = %q, want %q", h, got, want)
		}
	}
}

// exampleMarker is the line before a ```go block that must be, line for
// line, the body of the named Example function in example_test.go (without
// its Output comment), so that the code the docs show compiles and runs.
var exampleMarker = regexp.MustCompile(`^<!-- example: (Example\w*) -->$`)

// TestGoSnippets checks every marked Go block against its Example.
func TestGoSnippets(t *testing.T) {
	bodies := exampleBodies(t, "example_test.go")
	found := 0
	for _, f := range docFiles(t) {
		text, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(text), "\n")
		for i, l := range lines {
			m := exampleMarker.FindStringSubmatch(strings.TrimSpace(l))
			if m == nil {
				continue
			}
			found++
			if i+1 >= len(lines) || strings.TrimSpace(lines[i+1]) != "```go" {
				t.Errorf("%s:%d: %s must be followed by a ```go block", f, i+1, m[0])
				continue
			}
			var block []string
			for j := i + 2; j < len(lines) && strings.TrimSpace(lines[j]) != "```"; j++ {
				block = append(block, lines[j])
			}
			want, ok := bodies[m[1]]
			if !ok {
				t.Errorf("%s:%d: no function %s in docs/example_test.go", f, i+1, m[1])
				continue
			}
			if got := strings.Join(block, "\n"); got != want {
				t.Errorf("%s:%d: the ```go block differs from %s in docs/example_test.go (update one from the other)\n--- doc:\n%s\n--- example:\n%s", f, i+1, m[1], got, want)
			}
		}
	}
	if found == 0 {
		t.Fatal("no Go block is marked as an example: the README's should be")
	}
}

// exampleBodies returns the body of each Example function of file, one tab
// of indentation removed, without its Output comment.
func exampleBodies(t *testing.T, file string) map[string]string {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	af, err := parser.ParseFile(fset, file, src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range af.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || !strings.HasPrefix(fn.Name.Name, "Example") || fn.Body == nil {
			continue
		}
		body := string(src[fset.Position(fn.Body.Lbrace).Offset+1 : fset.Position(fn.Body.Rbrace).Offset])
		if i := strings.Index(body, "\t// Output:"); i >= 0 {
			body = body[:i]
		}
		var lines []string
		for _, l := range strings.Split(strings.Trim(body, "\n"), "\n") {
			lines = append(lines, strings.TrimPrefix(l, "\t"))
		}
		out[fn.Name.Name] = strings.TrimRight(strings.Join(lines, "\n"), "\n\t ")
	}
	return out
}
