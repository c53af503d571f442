//go:build !js

package gpu

// The tests of cgo.go's casts, which exist on native targets only.

import (
	"testing"
	"unsafe"

	"github.com/cogentcore/webgpu/wgpu"
	"github.com/gputrain/gputrain/internal/testgpu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deviceOfPass reads the device handle of a compute pass through the raw
// mirror of cgo.go, for the layout test.
func deviceOfPass(p *wgpu.ComputePassEncoder) unsafe.Pointer {
	return (*rawComputePass)(unsafe.Pointer(p)).deviceRef
}

// TestBindingLayout guards the unsafe casts in cgo.go: if the binding's
// Buffer or Device layout changes, the raw handles stop matching.
func TestBindingLayout(t *testing.T) {
	b := openInternal(t)
	buf, err := b.dev.CreateBuffer(&wgpu.BufferDescriptor{Size: 1234 * 4, Usage: wgpu.BufferUsageStorage})
	require.NoError(t, err)
	defer buf.Release()
	assert.Equal(t, buf.GetSize(), handleSize(buf), "raw buffer handle does not reach the same buffer")
	assert.Equal(t, deviceHandle(b.dev), deviceOfBuffer(buf), "raw device handle does not match the buffer's device")

	// The mirrors of timestamp.go: same sizes as the binding's types, and
	// handles that reach the same objects.
	assert.Equal(t, unsafe.Sizeof(wgpu.Buffer{}), unsafe.Sizeof(rawBuffer{}))
	assert.Equal(t, unsafe.Sizeof(wgpu.Device{}), unsafe.Sizeof(rawDevice{}))
	assert.Equal(t, unsafe.Sizeof(wgpu.CommandEncoder{}), unsafe.Sizeof(rawCommandEncoder{}))
	assert.Equal(t, unsafe.Sizeof(wgpu.ComputePassEncoder{}), unsafe.Sizeof(rawComputePass{}))
	assert.Equal(t, unsafe.Sizeof(wgpu.QuerySet{}), unsafe.Sizeof(rawQuerySet{}))
	assert.Equal(t, unsafe.Sizeof(wgpu.BindGroup{}), unsafe.Sizeof(rawBindGroup{}))
	assert.Equal(t, unsafe.Sizeof(wgpu.ComputePipeline{}), unsafe.Sizeof(rawPipeline{}))
	enc, err := b.dev.CreateCommandEncoder(nil)
	require.NoError(t, err)
	assert.Equal(t, deviceHandle(b.dev), deviceOfEncoder(enc), "raw encoder layout")
	pass := enc.BeginComputePass(nil)
	assert.Equal(t, deviceHandle(b.dev), deviceOfPass(pass), "raw compute pass layout")
	require.NoError(t, pass.End())
	pass.Release()
	cmd, err := enc.Finish(nil)
	require.NoError(t, err)
	cmd.Release()
	enc.Release()

	tb := openInternalWith(t, Options{Device: "any", Timestamps: true})
	if tb.ts == nil {
		if testgpu.Required() && tb.adapter.API == "vulkan" {
			t.Fatalf("%s: no timestamps", tb.adapter.Name)
		}
		t.Logf("%s: no timestamp queries; the timed pass is not checked", tb.adapter.Name)
		return
	}
	assert.Equal(t, uint32(tsQueries), querySetCount(tb.ts.set), "raw query set layout")
	// A timed pass begun through cgo.go, used and released through the
	// binding, writes both timestamps.
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.encoder()
	tb.beginPass()
	assert.Equal(t, deviceHandle(tb.dev), deviceOfPass(tb.pass))
	tb.endPass()
	tb.ts.calibrate = true // keep the raw ticks
	tb.flush()
	tb.wait()
	tb.collectTimestamps()
	require.NoError(t, tb.takeErr())
	begin, end := tb.ts.tick(0), tb.ts.tick(1)
	assert.NotZero(t, begin)
	assert.GreaterOrEqual(t, end, begin)
	tb.ts.calibrate = false
}
