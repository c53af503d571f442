// Command gputrain trains neural networks on any GPU through WebGPU compute
// shaders, with a float64 CPU reference backend.
//
// Usage:
//
//	gputrain [train] [flags]    train an MLP (default: the built-in real digits; --csv FILE --target COLUMN: a table)
//	gputrain solve [flags]      solve A·x = y by gradient descent
//	gputrain regress [flags]    linear regression by gradient descent
//	gputrain eval [flags]       evaluate a saved model
//	gputrain predict [flags]    predict with a saved model
//	gputrain devices            list WebGPU adapters
//	gputrain check [flags]      the conformance suite on a device
//	gputrain download mnist     fetch MNIST into the cache folder
//	gputrain bench [flags]      batch-size benchmarks
//
// Run "gputrain help COMMAND" for a command's flags. Usage errors exit with
// status 2, runtime failures with status 1, and a command stopped by Ctrl-C
// (SIGINT) or SIGTERM with status 130.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// usageError is a mistake in the command line: it exits with status 2 and
// prints the command's usage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// env is what a command runs with; tests substitute buffers for the streams.
type env struct {
	ctx    context.Context
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	name    string
	summary string
	run     func(e *env, args []string) error
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line args and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{ctx: ctx, stdout: stdout, stderr: stderr}
	name := "train"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if name == "help" || name == "-h" || name == "--help" {
		if len(args) > 0 {
			if c, ok := commands[args[0]]; ok {
				_ = c.run(e, []string{"-h"})
				return 0
			}
			fmt.Fprintf(stderr, "gputrain help: unknown command %q\n", sanitize(args[0]))
			printUsage(stderr)
			return 2
		}
		printUsage(stdout)
		return 0
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "gputrain: unknown command %q\n", name)
		printUsage(stderr)
		return 2
	}
	err := c.run(e, args)
	var ue *usageError
	var xe *exitError
	switch {
	case errors.As(err, &xe):
		return xe.code
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		// Ctrl-C or SIGTERM: every command that a signal stops exits 130,
		// as a shell reports a process killed by SIGINT.
		fmt.Fprintf(stderr, "gputrain %s: interrupted (%v)\n", name, err)
		return 130
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "gputrain %s: %s\n", name, sanitize(ue.msg))
		fmt.Fprintf(stderr, "Run 'gputrain help %s' for usage.\n", name)
		return 2
	default:
		fmt.Fprintf(stderr, "gputrain %s: %s\n", name, sanitize(err.Error()))
		return 1
	}
}

// sanitize returns s with every character a terminal would act on (C0 and
// C1 controls, DEL; a newline and a tab excepted) written as a Go escape,
// e.g. \x1b: a name read from a file (a column, a class, a cell) never
// reaches the terminal as an escape code.
func sanitize(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !isControl(r):
			b.WriteRune(r)
		case r < 0x80:
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			fmt.Fprintf(&b, "\\u%04x", r)
		}
	}
	return b.String()
}

func isControl(r rune) bool {
	return r != '\n' && r != '\t' && (r < 0x20 || r == 0x7F || (r >= 0x80 && r < 0xA0))
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "gputrain trains neural networks on any GPU through WebGPU (float64 CPU reference included).")
	fmt.Fprintln(w, "\nUsage: gputrain [command] [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nWith no command, gputrain trains (see 'gputrain help train').")
}

// newFlags returns a flag set for command name whose parse errors become
// usage errors and whose usage goes to e.stderr.
func newFlags(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: gputrain %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args, turning flag errors into usage errors and rejecting
// stray arguments.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}
