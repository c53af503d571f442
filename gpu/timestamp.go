package gpu

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/cogentcore/webgpu/wgpu"
)

// Kernel time from timestamp queries
//
// With Options.Timestamps on an adapter that has WebGPU's "timestamp-query"
// feature, every compute pass writes a GPU timestamp when it begins and one
// when it ends (WGPUComputePassTimestampWrites; the binding leaves these
// out, so such passes begin through cgo.go). The sum of end−begin over the
// passes is the GPU time spent in kernels, the barriers between them
// included and the host's recording, submits and waits excluded.
//
// Each pass takes two slots of one query set of tsQueries slots. When a
// command buffer is finished, the slots its passes used are resolved and
// copied into a mappable buffer in the same command buffer; the host reads
// that buffer only when Sync has waited for the queue anyway, so timing adds
// one small readback per Sync and none per dispatch or step. A resolve must
// start at a 256-byte boundary, so each command buffer's slots start at a
// multiple of tsBlock; when the slots run out before a Sync, the backend
// waits for the queue and reads them early (Stats.TimestampDrains counts
// these waits) rather than drop passes.
//
// Ticks and nanoseconds: the wgpu inside wgpu-native v22 resolves raw
// ticks, which the Vulkan timestampPeriod (or its DX12/Metal counterpart)
// turns into nanoseconds (gfx-rs/wgpu#6719; wgpu normalised them only
// later, in gfx-rs/wgpu#7343), and wgpu-native v22 has no
// wgpuQueueGetTimestampPeriod to ask for that period (it came with
// gfx-rs/wgpu-native#534). Open therefore measures the period:
// two empty timed passes submitted calibrateSleep apart give ticks against
// host nanoseconds, and a measurement whose error bounds cover a period that
// drivers commonly report (see knownPeriods) snaps to it. On lavapipe the
// calibration measures 1 ns per tick to within a few percent, and the
// kernel time of long work comes within a few percent of its wall time (see
// TestTimestampCalibration and TestKernelTime).

const (
	// tsQueries is the size of the query set: wgpu's maximum
	// (QUERY_SET_MAX_QUERIES).
	tsQueries = 4096
	// tsBlock is the query-slot alignment of a resolve: 256 bytes of
	// 8-byte timestamps.
	tsBlock = 32
)

// knownPeriods are Vulkan timestampPeriod values (ns per tick) that common
// drivers report: 1 (a nanosecond clock: NVIDIA, lavapipe), 10 and 40 (100
// MHz and 25 MHz counters, AMD), 52.083 and 83.333 (19.2 MHz and 12 MHz
// counters, Intel). A calibration whose error bounds include one of them
// uses it; otherwise the measured value is used as it is.
var knownPeriods = []float64{1, 10, 40, 1e3 / 19.2, 1e3 / 12}

// hasTimestampQuery reports whether an adapter has timestamp queries; tests
// replace it to take the path of adapters that do not.
var hasTimestampQuery = adapterHasTimestamps

// calibrateSleep is the host time between the two calibration passes.
var calibrateSleep = 20 * time.Millisecond

// timer is the timestamp state of a Backend with Options.Timestamps.
type timer struct {
	set     *querySet
	resolve *wgpu.Buffer // QueryResolve | CopySrc
	read    *wgpu.Buffer // MapRead | CopyDst
	host    []byte

	next  uint32   // next free query slot
	encLo uint32   // first slot of the open command encoder
	pairs []uint32 // first slot of every timed pass not yet read back
	encAt int      // pairs[encAt:] belong to the open command encoder
	skip  int      // pairs[:skip] were recorded before ResetKernelTime

	period    float64 // nanoseconds per tick
	measured  float64 // the period as calibrated, before snapping
	ns        float64 // kernel nanoseconds since the last reset
	wrapped   uint64  // pairs dropped because end < begin (counter reset)
	calibrate bool    // read raw ticks instead of summing (during Open)
}

// newTimer creates the query set and buffers. The device must have been
// opened with wgpu.FeatureNameTimestampQuery.
func newTimer(dev *wgpu.Device) (*timer, error) {
	t := &timer{host: make([]byte, 8*tsQueries)}
	var err error
	t.set, err = createQuerySet(dev, "timestamps", tsQueries)
	if err != nil {
		return nil, err
	}
	t.resolve, err = dev.CreateBuffer(&wgpu.BufferDescriptor{Label: "timestamps resolve", Size: 8 * tsQueries,
		Usage: wgpu.BufferUsageQueryResolve | wgpu.BufferUsageCopySrc})
	if err != nil {
		t.release()
		return nil, err
	}
	t.read, err = dev.CreateBuffer(&wgpu.BufferDescriptor{Label: "timestamps read", Size: 8 * tsQueries,
		Usage: wgpu.BufferUsageMapRead | wgpu.BufferUsageCopyDst})
	if err != nil {
		t.release()
		return nil, err
	}
	return t, nil
}

func (t *timer) release() {
	if t.read != nil {
		t.read.Release()
	}
	if t.resolve != nil {
		t.resolve.Release()
	}
	if t.set != nil {
		t.set.Release()
	}
	*t = timer{}
}

// full reports whether a pass begun now would find no free slots.
func (t *timer) full() bool { return t.next+2 > tsQueries }

// reset forgets every slot; the pairs not read back are dropped.
func (t *timer) reset() {
	t.next, t.encLo, t.encAt, t.skip = 0, 0, 0, 0
	t.pairs = t.pairs[:0]
}

// beginPass begins a compute pass on the open encoder, timed when the
// backend records timestamps. The caller has made room (see dispatch).
func (b *Backend) beginPass() {
	t := b.ts
	if t == nil {
		b.pass = b.enc.BeginComputePass(nil)
		return
	}
	if t.full() {
		// dispatch drains the slots before it gets here; should it ever
		// not, the pass runs untimed rather than overflow the query set.
		b.pass = b.enc.BeginComputePass(nil)
		return
	}
	i := t.next
	p := beginTimedPass(b.enc, t.set, i, i+1)
	if p == nil {
		panic("gpu: wgpu-native returned no compute pass")
	}
	t.next += 2
	t.pairs = append(t.pairs, i)
	b.pass = p
	b.stats.TimedPasses++
}

// resolveTimestamps records, at the end of the open encoder, the resolve of
// the slots its passes used and their copy into the mappable buffer. flush
// calls it after the last pass has ended.
func (b *Backend) resolveTimestamps() {
	t := b.ts
	if t == nil || t.next == t.encLo {
		return
	}
	lo, n := t.encLo, t.next-t.encLo
	if err := resolveQuerySet(b.enc, t.set, lo, n, t.resolve, 8*uint64(lo)); err != nil {
		b.fail(fmt.Errorf("gpu: resolve timestamps: %w", err))
	}
	if err := b.enc.CopyBufferToBuffer(t.resolve, 8*uint64(lo), t.read, 8*uint64(lo), 8*uint64(n)); err != nil {
		b.fail(fmt.Errorf("gpu: copy timestamps: %w", err))
	}
}

// endEncoderTimestamps moves the slot window past the encoder that flush
// has just finished; submitted says whether its command buffer reached the
// queue (if not, its passes never ran and their slots hold nothing).
func (b *Backend) endEncoderTimestamps(submitted bool) {
	t := b.ts
	if t == nil || t.next == t.encLo {
		return
	}
	if !submitted {
		t.pairs = t.pairs[:t.encAt]
		t.skip = min(t.skip, len(t.pairs))
	}
	t.next = (t.next + tsBlock - 1) / tsBlock * tsBlock
	t.encLo, t.encAt = t.next, len(t.pairs)
}

// drainTimestamps submits recorded work, waits for it and reads the
// timestamps back, freeing every slot. dispatch calls it when a pass would
// find no slot before the next Sync.
func (b *Backend) drainTimestamps() {
	b.flush()
	if b.err == nil && !b.lost {
		b.wait()
	}
	b.collectTimestamps()
	b.stats.TimestampDrains++
}

// collectTimestamps reads back the timestamps of every submitted pass and
// adds their durations to the kernel time. The queue must be idle (after
// wait) unless a device error is pending, in which case the pairs are
// dropped unread.
func (b *Backend) collectTimestamps() {
	t := b.ts
	if t == nil || b.enc != nil {
		return
	}
	defer t.reset()
	if t.skip == len(t.pairs) || b.err != nil || b.lost {
		return // nothing to count, or nothing safe to read
	}
	n := t.pairs[len(t.pairs)-1] + 2
	if err := readMapped(b.dev, t.read, t.host[:8*n]); err != nil {
		// The buffer may be left mapped, and a submit that copies into a
		// mapped buffer aborts the process: stop timing.
		b.fail(fmt.Errorf("gpu: read timestamps: %w", err))
		t.release()
		b.ts = nil
		return
	}
	b.stats.TimestampReads++
	if t.calibrate {
		return
	}
	for _, i := range t.pairs[t.skip:] {
		begin := binary.LittleEndian.Uint64(t.host[8*i:])
		end := binary.LittleEndian.Uint64(t.host[8*i+8:])
		if end < begin {
			t.wrapped++
			continue
		}
		t.ns += float64(end-begin) * t.period
	}
}

// tick returns timestamp slot i as last read back.
func (t *timer) tick(i uint32) uint64 { return binary.LittleEndian.Uint64(t.host[8*i:]) }

// calibrateTimestamps measures the timestamp period (see the comment at the
// top of this file). It returns an error when the timestamps make no sense
// (the backend then reports kernel time as unavailable).
func (b *Backend) calibrateTimestamps() error {
	t := b.ts
	t.calibrate = true
	defer func() { t.calibrate = false }()
	sleep := calibrateSleep
	for attempt := 0; ; attempt++ {
		var mid, half [2]float64 // host midpoint and half-width of each pass, ns
		origin := time.Now()
		for k := range 2 {
			if k == 1 {
				time.Sleep(sleep)
			}
			b.encoder()
			if b.enc == nil {
				return b.takeErr()
			}
			b.beginPass()
			b.endPass()
			s := time.Since(origin)
			b.flush()
			b.wait()
			c := time.Since(origin)
			mid[k], half[k] = float64(s+c)/2, float64(c-s)/2
		}
		if err := b.takeErr(); err != nil {
			t.reset()
			return err
		}
		// The two passes took slots 0-1 and tsBlock..tsBlock+1.
		pairs := append([]uint32(nil), t.pairs...)
		b.collectTimestamps()
		if err := b.takeErr(); err != nil {
			return err
		}
		if len(pairs) != 2 {
			return fmt.Errorf("timestamp calibration recorded %d passes", len(pairs))
		}
		t0, t1 := t.tick(pairs[0]), t.tick(pairs[1])
		if t0 == 0 || t1 <= t0 || t.tick(pairs[0]+1) < t0 || t.tick(pairs[1]+1) < t1 {
			return fmt.Errorf("timestamps out of order (%d, %d, %d, %d)", t0, t.tick(pairs[0]+1), t1, t.tick(pairs[1]+1))
		}
		ticks := float64(t1 - t0)
		host := mid[1] - mid[0]
		slack := half[0] + half[1]
		period, lo, hi := host/ticks, (host-slack)/ticks, (host+slack)/ticks
		if slack > 0.05*host && attempt < 2 {
			sleep *= 4 // the submit-to-done time was long: measure a longer gap
			continue
		}
		if !(period > 1e-3 && period < 1e4) {
			return fmt.Errorf("timestamp period of %g ns per tick is implausible", period)
		}
		t.measured, t.period = period, snapPeriod(period, lo, hi)
		return nil
	}
}

// snapPeriod returns the known period in [lo, hi] nearest to measured, or
// measured when none is in range.
func snapPeriod(measured, lo, hi float64) float64 {
	snapped, best := measured, math.Inf(1)
	for _, k := range knownPeriods {
		if k >= lo && k <= hi && math.Abs(k-measured) < best {
			snapped, best = k, math.Abs(k-measured)
		}
	}
	return snapped
}

// Timestamps reports whether the backend records GPU timestamps, that is
// whether Options.Timestamps was set and the adapter has timestamp queries.
func (b *Backend) Timestamps() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ts != nil
}

// KernelTime returns the GPU time of the compute passes recorded since
// Open or the last ResetKernelTime whose timestamps have been read back:
// Sync reads them (so after a Sync the time covers everything recorded
// before it), and so does the wait that the backend forces when a run
// between two Syncs uses up the query slots (Stats.TimestampDrains). The time runs from the start of each pass to its end on the
// GPU (barriers between dispatches included; copies, uploads, submits and
// host waits excluded). ok is false, and the time zero, when the backend
// records no timestamps (see Options.Timestamps).
func (b *Backend) KernelTime() (d time.Duration, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ts == nil {
		return 0, false
	}
	return time.Duration(math.Round(b.ts.ns)), true
}

// ResetKernelTime sets the kernel time to zero. Passes recorded before the
// call are not counted later, even if their timestamps are read back after
// it; an open compute pass is ended so that it does not straddle the reset.
// It does nothing when the backend records no timestamps.
func (b *Backend) ResetKernelTime() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ts == nil || b.closed {
		return
	}
	b.endPass()
	b.ts.ns = 0
	b.ts.skip = len(b.ts.pairs)
}

// TimestampPeriod returns the nanoseconds per timestamp tick that the
// backend uses, and the value its calibration at Open measured (see
// Options.Timestamps); both are zero when it records no timestamps.
func (b *Backend) TimestampPeriod() (used, measured float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ts == nil {
		return 0, 0
	}
	return b.ts.period, b.ts.measured
}
