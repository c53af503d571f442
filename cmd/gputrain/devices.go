package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/gputrain/gputrain/gpu"
)

func init() {
	register(&command{name: "devices", summary: "list WebGPU adapters with backend, type, driver and limits", run: runDevices})
}

func runDevices(e *env, args []string) error {
	fs := newFlags(e, "devices", "[--json]")
	asJSON := fs.Bool("json", false, "print one JSON object on stdout")
	if err := parse(fs, args); err != nil {
		return err
	}
	list := gpu.Adapters()
	best := ""
	if a, err := gpu.Select(list, "gpu"); err == nil {
		best = a.Name
	}
	if *asJSON {
		return writeJSON(e.stdout, map[string]any{"adapters": list, "best_hardware_gpu": best})
	}
	if len(list) == 0 {
		fmt.Fprintf(e.stdout, "No WebGPU adapter found (%s). --device cpu still works.\n", gpu.InstallHint)
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tADAPTER\tAPI\tTYPE\tMAX BINDING\tMAX BUFFER\tWG MEMORY\tWG INVOCATIONS\tKERNEL TIMING")
	for _, a := range list {
		timing := "no"
		if a.Timestamps {
			timing = "yes"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", a.Index, a.Name, a.API, a.Type,
			mib(a.Limits.MaxStorageBufferBindingSize), mib(a.Limits.MaxBufferSize),
			kib(uint64(a.Limits.MaxComputeWorkgroupStorageSize)), a.Limits.MaxComputeInvocationsPerWorkgroup, timing)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if best == "" {
		fmt.Fprintln(e.stdout, "\nNo hardware GPU: --device auto uses the CPU backend; --device software runs the shaders on a software adapter (for testing).")
	} else {
		fmt.Fprintf(e.stdout, "\n--device auto picks: %s\n", best)
	}
	return nil
}

func mib(b uint64) string { return fmt.Sprintf("%d MiB", b>>20) }
func kib(b uint64) string { return fmt.Sprintf("%d KiB", b>>10) }
