package gpu_test

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/bench/benchstep"
	"github.com/gputrain/gputrain/bench/benchstep/benchtest"
	"github.com/gputrain/gputrain/gpu"
	"github.com/gputrain/gputrain/gpu/gputest"
	"github.com/gputrain/gputrain/nn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSelect(t *testing.T) {
	lava := gpu.Adapter{Index: 0, Name: "llvmpipe", API: "vulkan", Type: "cpu"}
	llvmGL := gpu.Adapter{Index: 1, Name: "llvmpipe GL", API: "gl", Type: "cpu"}
	igpu := gpu.Adapter{Index: 2, Name: "Intel UHD", API: "vulkan", Type: "integrated"}
	dgpu := gpu.Adapter{Index: 3, Name: "NVIDIA H100", API: "vulkan", Type: "discrete"}
	dgpuGL := gpu.Adapter{Index: 4, Name: "NVIDIA H100 GL", API: "gl", Type: "discrete"}
	software := []gpu.Adapter{llvmGL, lava}
	all := []gpu.Adapter{lava, llvmGL, igpu, dgpuGL, dgpu}

	tests := []struct {
		name    string
		list    []gpu.Adapter
		choice  string
		want    string
		wantErr error
		errText string
	}{
		{"gpu prefers discrete vulkan", all, "gpu", "NVIDIA H100", nil, ""},
		{"gpu without hardware", software, "gpu", "", gpu.ErrNoHardwareGPU, "llvmpipe GL (gl, cpu)"},
		{"software prefers vulkan", software, "software", "llvmpipe", nil, ""},
		{"any falls back to software", software, "any", "llvmpipe", nil, ""},
		{"any prefers hardware", all, "any", "NVIDIA H100", nil, ""},
		{"by api", all, "gl", "NVIDIA H100 GL", nil, ""},
		{"api absent", software, "metal", "", gpu.ErrNoAdapter, "adapters present"},
		{"nothing at all", nil, "any", "", gpu.ErrNoAdapter, "mesa-vulkan-drivers"},
		{"unknown choice", all, "tpu", "", nil, "unknown GPU choice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := gpu.Select(tt.list, tt.choice)
			if tt.want != "" {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got.Name)
				return
			}
			require.Error(t, err)
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
			}
			assert.Contains(t, err.Error(), tt.errText)
		})
	}
}

func TestAdaptersListed(t *testing.T) {
	b := gputest.Open(t) // skips (or fails under GPUTRAIN_REQUIRE_GPU=1) without adapters
	list := gpu.Adapters()
	require.NotEmpty(t, list)
	for _, a := range list {
		assert.NotEmpty(t, a.Name)
		assert.NotEqual(t, "unknown", a.API, "adapter %+v", a)
		assert.NotZero(t, a.Limits.MaxStorageBufferBindingSize, "adapter %+v", a)
	}
	// The device gets the adapter's own limits, not WebGPU's 128 MiB default binding.
	assert.Equal(t, b.Adapter().Limits.MaxStorageBufferBindingSize, b.MaxTensorBytes())
}

// TestReadbackUnderGCPressure is the regression test for the binding's
// MapAsync, which crashed the process when the garbage collector ran between
// the map request and its callback. Thousands of readbacks run while another
// goroutine allocates and forces collections.
func TestReadbackUnderGCPressure(t *testing.T) {
	b := gputest.Open(t)
	x, err := b.New(4, 4, backend.Float)
	require.NoError(t, err)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var keep [][]byte
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			keep = append(keep, make([]byte, 64+i%4096))
			if len(keep) > 512 {
				keep = keep[:0]
			}
			if i%64 == 0 {
				runtime.GC()
			}
		}
	}()
	n := 3000
	if testing.Short() {
		n = 1000
	}
	for i := 0; i < n; i++ {
		b.Fill(x, float64(i%1000))
		got, err := b.ReadFloats(x)
		if err != nil {
			close(stop)
			wg.Wait()
			require.NoError(t, err, "readback %d", i)
		}
		if got[15] != float64(i%1000) {
			close(stop)
			wg.Wait()
			t.Fatalf("readback %d: got %v, want %d", i, got[15], i%1000)
		}
	}
	close(stop)
	wg.Wait()
}

// TestMisuseIsRefused drives, through the gpu package, the misuse that makes
// the binding abort the process, and checks each is refused first.
func TestMisuseIsRefused(t *testing.T) {
	b := gputest.Open(t)
	x, err := b.New(2, 2, backend.Float)
	require.NoError(t, err)
	y, err := b.New(2, 2, backend.Float)
	require.NoError(t, err)
	b.Free(x)
	// Submitting work that uses a destroyed buffer aborts in the binding;
	// here it panics with a message before anything is recorded.
	lr, err := backend.NewHP(b, 1, backend.SGDHP(0.1))
	require.NoError(t, err)
	assert.PanicsWithValue(t, "gpu: SGD: use of freed tensor 2x2", func() { b.SGD(x, y, lr, nil) })
	assert.PanicsWithValue(t, "gpu: ReadFloats: use of freed tensor 2x2", func() { _, _ = b.ReadFloats(x) })
	assert.Panics(t, func() { _ = b.WriteFloats(x, make([]float64, 4)) })
	// A view of a freed tensor is refused too.
	assert.Panics(t, func() { b.View(x, 1) })

	// A tensor of another backend is refused.
	other := gputest.Open(t)
	z, err := other.New(2, 2, backend.Float)
	require.NoError(t, err)
	assert.PanicsWithValue(t, "gpu: SGD: tensor 2x2 does not belong to this backend", func() { b.SGD(y, z, lr, nil) })

	// The backend still works afterwards.
	b.Fill(y, 2)
	got, err := b.ReadFloats(y)
	require.NoError(t, err)
	assert.Equal(t, []float64{2, 2, 2, 2}, got)

	// Use after Close panics rather than reaching a released device.
	require.NoError(t, other.Close())
	assert.PanicsWithValue(t, "gpu: backend used after Close", func() { other.Fill(z, 1) })
}

// TestTensorLargerThanBindingIsRefused lowers the limit the backend believes
// in and checks that a tensor over it is refused with an error naming the
// limit and the size asked for.
func TestTensorLargerThanBindingIsRefused(t *testing.T) {
	b := gputest.OpenWith(t, gpu.Options{Device: gputest.Device(), MaxStorageBinding: 1 << 20})
	_, err := b.New(512, 512, backend.Float) // exactly 1 MiB fits
	require.NoError(t, err)
	_, err = b.New(513, 512, backend.Float)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "1050624 bytes")
	assert.Contains(t, err.Error(), "max storage-buffer binding size of 1048576 bytes")
}

// TestNoGrowthOverManySteps is the soak test: 20,000 training-like steps
// (2,000 under -short) on the adapter, checking that the live objects stay
// flat — buffers, bind groups, pipelines and the Go heap are counted, not
// timed.
func TestNoGrowthOverManySteps(t *testing.T) {
	b := gputest.Open(t)
	x, _ := b.New(8, 5, backend.Float)
	w, _ := b.New(5, 3, backend.Float)
	y, _ := b.New(8, 3, backend.Float)
	bias, _ := b.New(1, 3, backend.Float)
	g, _ := b.New(5, 3, backend.Float)
	b.Fill(x, 0.5)
	b.Fill(w, 0.1)
	lr, err := backend.NewHP(b, 1, backend.SGDHP(0.01))
	require.NoError(t, err)
	step := func() {
		b.MatMul(y, x, w, false, false)
		b.BiasActivate(y, bias, backend.Sigmoid)
		b.MatMul(g, x, y, true, false)
		b.SGD(w, g, lr, nil)
	}
	for i := 0; i < 10; i++ {
		step()
	}
	require.NoError(t, b.Sync())
	before := b.Stats()
	steps := 20000
	if testing.Short() {
		steps = 2000
	}
	heapBefore := heapInUse()
	for i := 0; i < steps; i++ {
		step()
		if i%100 == 0 {
			require.NoError(t, b.Sync())
		}
	}
	require.NoError(t, b.Sync())
	after := b.Stats()
	assert.Equal(t, before.LiveBuffers, after.LiveBuffers, "live buffers")
	assert.Equal(t, before.BindGroups, after.BindGroups, "cached bind groups")
	assert.Equal(t, before.Pipelines, after.Pipelines, "pipelines")
	assert.Equal(t, before.LiveBytes, after.LiveBytes, "live bytes")
	assert.Equal(t, before.Dispatches+uint64(4*steps), after.Dispatches)
	// Host memory: a leak of even 64 bytes a step would show as >1 MiB here.
	growth := int64(heapInUse()) - int64(heapBefore)
	assert.Less(t, growth, int64(1<<20), "Go heap grew by %d bytes over %d steps", growth, steps)
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

func TestErrorsAreSticky(t *testing.T) {
	b := gputest.Open(t)
	assert.NoError(t, b.Sync())
	assert.False(t, errors.Is(b.Sync(), gpu.ErrDeviceLost))
}

// TestLongQueueThenSync queues more GPU work than wgpu's single blocking
// wait covers on a software adapter (it gives up after ~5 s) and then
// syncs and reads: the host must keep waiting rather than crash.
func TestLongQueueThenSync(t *testing.T) {
	if testing.Short() {
		t.Skip("queues ~8 s of work on a software adapter")
	}
	b := gputest.Open(t)
	n := 1024
	a, _ := b.New(n, n, backend.Float)
	c, _ := b.New(n, n, backend.Float)
	b.Fill(a, 1.0/1024)
	for i := 0; i < 6; i++ { // ~1.2 s each on lavapipe, far less on a GPU
		b.MatMul(c, a, a, false, false)
	}
	require.NoError(t, b.Sync())
	got, err := b.ReadFloats(c)
	require.NoError(t, err)
	assert.InDelta(t, 1.0/1024, got[0], 1e-9)
}

// TestConcurrentCallersAreSerialised uses one backend from several
// goroutines: the mutex must keep device-wide error capture and recording
// consistent (each goroutine works on its own tensors), with no crash and
// the right results.
func TestConcurrentCallersAreSerialised(t *testing.T) {
	b := gputest.Open(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			x, err := b.New(3, 3, backend.Float)
			if err != nil {
				errs <- err
				return
			}
			for i := 0; i < 50; i++ {
				b.Fill(x, float64(g*100+i))
				got, err := b.ReadFloats(x)
				if err != nil {
					errs <- err
					return
				}
				if got[8] != float64(g*100+i) {
					errs <- fmt.Errorf("goroutine %d step %d read %v", g, i, got[8])
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestReadFloatsAllWaitsOnce: several tensors come back with one readback
// (one submit, one wait), in order.
func TestReadFloatsAllWaitsOnce(t *testing.T) {
	b := gputest.Open(t)
	var ts []backend.Tensor
	for i, n := range []int{1, 6, 1} {
		x, err := b.New(1, n, backend.Float)
		require.NoError(t, err)
		b.Fill(x, float64(i)+0.5)
		ts = append(ts, x)
	}
	before := b.Stats().Readbacks
	got, err := b.ReadFloatsAll(ts...)
	require.NoError(t, err)
	assert.Equal(t, before+1, b.Stats().Readbacks, "one readback for three tensors")
	assert.Equal(t, [][]float64{{0.5}, {1.5, 1.5, 1.5, 1.5, 1.5, 1.5}, {2.5}}, got)

	none, err := b.ReadFloatsAll()
	require.NoError(t, err)
	assert.Empty(t, none, "no tensors, no readback")
	assert.Equal(t, before+1, b.Stats().Readbacks)
}

// TestTrainStepDispatches pins what one training step of a 784-128-64-10
// MLP records on the GPU, for each optimizer: 1 gather fused into the first
// layer's matmul+bias+activation, 2 more of those, 1 loss with its gradient
// and the correct count (the targets gathered there), 3 weight-and-bias
// gradients, 2 fused matmul+activation-gradients and 1 update of every
// parameter — 10 dispatches (20 before these fusions, 25 before the fused
// layers) — and that steps between syncs share one submit.
func TestTrainStepDispatches(t *testing.T) {
	b := gputest.Open(t)
	for _, opt := range []nn.Optimizer{nn.SGD, nn.Momentum, nn.Adam} {
		t.Run(opt.String(), func(t *testing.T) {
			spec := benchtest.MLPSpec(opt)
			m, err := benchstep.New(b, spec, benchstep.RandomData(256, 784, 10, 1), 64, 1)
			require.NoError(t, err)
			defer m.Free()
			require.NoError(t, m.Run(1)) // compiles the pipelines
			before := b.Stats()
			const steps = 3
			for range steps {
				m.Step()
			}
			require.NoError(t, b.Sync())
			after := b.Stats()
			assert.Equal(t, uint64(10*steps), after.Dispatches-before.Dispatches, "dispatches for %d steps", steps)
			assert.Equal(t, uint64(1), after.Submits-before.Submits, "one submit for the steps between two syncs")
		})
	}
}

// TestTrainStepAllocs: once a training loop has seen its step (pipelines
// compiled, bind groups cached), recording a 784-128-64-10 step allocates
// nothing on the Go heap, with timestamps on and off. A submit does (the
// binding's error callbacks: about 20 allocations, 30 with timestamps), so
// recording and submitting every HostSteps steps stays within 2 a step; a
// training loop submits every ~100 steps, when the params slots run out.
// Batch 8 keeps the software adapter's work short.
func TestTrainStepAllocs(t *testing.T) {
	for _, timestamps := range []bool{false, true} {
		t.Run(fmt.Sprintf("timestamps=%v", timestamps), func(t *testing.T) {
			b := gputest.OpenWith(t, gpu.Options{Device: gputest.Device(), Timestamps: timestamps})
			for _, opt := range []nn.Optimizer{nn.SGD, nn.Adam} {
				spec := benchtest.MLPSpec(opt)
				m, err := benchstep.New(b, spec, benchstep.RandomData(256, 784, 10, 1), 8, 1)
				require.NoError(t, err)
				require.NoError(t, m.Run(benchstep.HostSteps)) // every window of the index list, every bind group
				allocs := testing.AllocsPerRun(40, m.Step)
				require.NoError(t, b.Sync())
				assert.Zero(t, allocs, "%s: allocations per recorded step", opt)
				// Recording and submitting, as a run between syncs does.
				allocs = testing.AllocsPerRun(3, func() {
					for range benchstep.HostSteps {
						m.Step()
					}
					if err := b.Flush(); err != nil {
						t.Fatal(err)
					}
				}) / benchstep.HostSteps
				require.NoError(t, b.Sync())
				assert.LessOrEqual(t, allocs, 2.0, "%s: allocations per step, submits included", opt)
				t.Logf("%s: %.2f allocations per step with a submit every %d steps", opt, allocs, benchstep.HostSteps)
				m.Free()
			}
		})
	}
}
