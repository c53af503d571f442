//go:build unix

package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// slurmSweepArgs is the sweep the Slurm test runs: 2 learning rates × 2
// seeds over the built-in digits, four trials, one per array task.
var slurmSweepArgs = []string{"sweep", "--device", "cpu", "--lr", "0.003,0.01", "--seeds", "2", "--hidden", "32", "--epochs", "3"}

// TestSweepSlurm starts a real single-node Slurm cluster (.ci/slurm.sh,
// munged + slurmctld + slurmd in a temporary folder), builds gputrain,
// submits the sweep as 'sbatch --array=0-3' (each task finds its shard in
// SLURM_ARRAY_TASK_ID/COUNT and writes it with --out), waits, merges the
// four files and checks that the merged table and results equal a
// single-process sweep's. It is skipped, with a message, where Slurm is
// not installed or not run as root, except under CI=true, where that is a
// failure (.ci/run installs Slurm).
func TestSweepSlurm(t *testing.T) {
	need := func(why string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true: the Slurm test cannot be skipped: %s (.ci/run installs slurmctld slurmd slurm-client munge and runs it as root)", why)
		}
		t.Skipf("Slurm test skipped: %s (install slurmctld slurmd slurm-client munge and run as root; see docs/sweep.md)", why)
	}
	for _, bin := range []string{"slurmctld", "slurmd", "munged", "sbatch", "squeue"} {
		if _, err := exec.LookPath(bin); err != nil {
			if _, err := os.Stat(filepath.Join("/usr/sbin", bin)); err != nil {
				need(bin + " is not installed")
			}
		}
	}
	if os.Geteuid() != 0 {
		need("the single-node cluster runs its daemons and jobs as root")
	}
	script, err := filepath.Abs("../../.ci/slurm.sh")
	require.NoError(t, err)
	dir, err := os.MkdirTemp("", "gputrain-slurm-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })

	bin := filepath.Join(dir, "gputrain")
	t0 := time.Now()
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	t.Logf("built gputrain in %.1fs", time.Since(t0).Seconds())

	env := append(os.Environ(), "SLURMCTLD_PORT="+freePort(t), "SLURMD_PORT="+freePort(t), "SLURM_CONF="+filepath.Join(dir, "etc", "slurm.conf"))
	start := time.Now()
	cmd := exec.Command("bash", script, "start", dir)
	cmd.Env = env
	out, err = cmd.CombinedOutput()
	require.NoError(t, err, "starting the cluster: %s", out)
	t.Logf("cluster up in %.1fs", time.Since(start).Seconds())
	t.Cleanup(func() {
		t0 := time.Now()
		cmd := exec.Command("bash", script, "stop", dir)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("stopping the cluster: %v: %s", err, out)
		}
		t.Logf("cluster stopped in %.1fs", time.Since(t0).Seconds())
	})

	results := filepath.Join(dir, "results")
	require.NoError(t, os.MkdirAll(results, 0o755))
	job := filepath.Join(dir, "sweep.sbatch")
	require.NoError(t, os.WriteFile(job, []byte(sbatchScript(bin, results)), 0o755))
	submit := exec.Command("sbatch", "--parsable", "--array=0-3", job)
	submit.Env = env
	out, err = submit.CombinedOutput()
	require.NoError(t, err, "sbatch: %s", out)
	jobID, _, _ := strings.Cut(strings.TrimSpace(string(out)), ";")
	t.Logf("submitted array job %s", jobID)

	deadline := time.Now().Add(5 * time.Minute)
	for {
		q := exec.Command("squeue", "-h", "-j", jobID, "-t", "PD,R,CG,S,CF", "-o", "%i")
		q.Env = env
		out, err := q.CombinedOutput()
		if err == nil && strings.TrimSpace(string(out)) == "" {
			break
		}
		if err != nil && strings.Contains(string(out), "Invalid job id") {
			break
		}
		require.True(t, time.Now().Before(deadline), "array job %s not done after 5 minutes: %s", jobID, out)
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("array job done %.1fs after the cluster came up", time.Since(start).Seconds())

	var files []string
	for i := range 4 {
		f := filepath.Join(results, fmt.Sprintf("shard-%d.json", i))
		if _, err := os.Stat(f); err != nil {
			log, _ := os.ReadFile(filepath.Join(results, fmt.Sprintf("task-%d.log", i)))
			t.Fatalf("array task %d wrote no %s; its log:\n%s", i, f, log)
		}
		var shard struct {
			Shard  struct{ Index, Count int } `json:"shard"`
			Trials []json.RawMessage          `json:"trials"`
		}
		b, _ := os.ReadFile(f)
		require.NoError(t, json.Unmarshal(b, &shard), f)
		assert.Equal(t, i, shard.Shard.Index, "%s: shard index from SLURM_ARRAY_TASK_ID", f)
		assert.Equal(t, 4, shard.Shard.Count, "%s: shard count from SLURM_ARRAY_TASK_COUNT", f)
		assert.Len(t, shard.Trials, 1, "%s: one trial per task", f)
		files = append(files, f)
	}

	// The merged table equals the single-process sweep's.
	code, merged, stderr := gputrain(t, append([]string{"sweep", "merge"}, files...)...)
	require.Equal(t, 0, code, stderr)
	code, single, stderr := gputrain(t, slurmSweepArgs...)
	require.Equal(t, 0, code, stderr)
	mergedTable, singleTable := tableBlock(merged), tableBlock(single)
	require.NotEmpty(t, singleTable)
	assert.Equal(t, singleTable, mergedTable, "merged table\n%s\nsingle-process table\n%s", merged, single)
	assert.Equal(t, 4, strings.Count(singleTable, "\n"), "a header, two configurations and the note:\n%s", singleTable)

	// And so do the results, trial by trial, figure by figure.
	code, mergedJSON, stderr := gputrain(t, append([]string{"sweep", "merge", "--json"}, files...)...)
	require.Equal(t, 0, code, stderr)
	code, singleJSON, stderr := gputrain(t, append(slurmSweepArgs, "--json")...)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, resultsWithoutRuns(t, singleJSON), resultsWithoutRuns(t, mergedJSON))
}

// sbatchScript is the job script of the Slurm test: docs/sweep.md's
// example with this test's paths.
func sbatchScript(bin, results string) string {
	return fmt.Sprintf(`#!/bin/bash
#SBATCH --job-name=gputrain-sweep
#SBATCH --output=%[2]s/task-%%a.log
#SBATCH --cpus-per-task=1
set -euo pipefail
exec %[1]s %[3]s --out %[2]s/shard-${SLURM_ARRAY_TASK_ID}.json
`, bin, results, strings.Join(slurmSweepArgs, " "))
}

// freePort returns a TCP port no one listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}
