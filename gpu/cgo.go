//go:build !js

package gpu

/*
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

// Prototypes of wgpu-native functions. The symbols are already linked from
// the static library that github.com/cogentcore/webgpu ships; declaring them
// here (with opaque pointers) avoids depending on that module's header path.
typedef void (*gt_map_callback)(int status, void *userdata);
extern void wgpuBufferMapAsync(void *buffer, uint32_t mode, size_t offset, size_t size, gt_map_callback callback, void *userdata);
extern const void *wgpuBufferGetConstMappedRange(void *buffer, size_t offset, size_t size);
extern void wgpuBufferUnmap(void *buffer);
extern uint32_t wgpuDevicePoll(void *device, uint32_t wait, const void *wrapped);
extern uint64_t wgpuBufferGetSize(void *buffer);
extern void wgpuDeviceReference(void *device);
extern uint32_t wgpuQuerySetGetCount(void *querySet);

// gt_pass_timestamp_writes and gt_compute_pass_descriptor mirror
// WGPUComputePassTimestampWrites and WGPUComputePassDescriptor of the
// binding's lib/webgpu.h (wgpu-native v22): the binding's
// ComputePassDescriptor leaves the timestamp writes out, so compute passes
// with timestamps begin here. The asserts pin the sizes on 64-bit targets.
typedef struct {
	void *querySet;
	uint32_t beginningOfPassWriteIndex;
	uint32_t endOfPassWriteIndex;
} gt_pass_timestamp_writes;
typedef struct {
	const void *nextInChain;
	const char *label;
	const gt_pass_timestamp_writes *timestampWrites;
} gt_compute_pass_descriptor;
_Static_assert(sizeof(void *) != 8 || sizeof(gt_pass_timestamp_writes) == 16, "WGPUComputePassTimestampWrites layout");
_Static_assert(sizeof(void *) != 8 || sizeof(gt_compute_pass_descriptor) == 24, "WGPUComputePassDescriptor layout");
extern void *wgpuCommandEncoderBeginComputePass(void *encoder, const gt_compute_pass_descriptor *descriptor);

// gt_begin_timed_pass begins a compute pass on encoder that writes query
// begin of querySet when the pass starts and query end when it ends. It
// takes a reference on device for the pass encoder, as the binding's own
// BeginComputePass does (the binding's Release drops it).
static void *gt_begin_timed_pass(void *device, void *encoder, void *querySet, uint32_t begin, uint32_t end) {
	gt_pass_timestamp_writes tw = {querySet, begin, end};
	gt_compute_pass_descriptor desc = {NULL, NULL, &tw};
	void *pass = wgpuCommandEncoderBeginComputePass(encoder, &desc);
	if (pass != NULL) {
		wgpuDeviceReference(device);
	}
	return pass;
}

extern void wgpuComputePassEncoderSetPipeline(void *pass, void *pipeline);
extern void wgpuComputePassEncoderSetBindGroup(void *pass, uint32_t groupIndex, void *group, size_t dynamicOffsetCount, const uint32_t *dynamicOffsets);
extern void wgpuComputePassEncoderDispatchWorkgroups(void *pass, uint32_t x, uint32_t y, uint32_t z);

// gt_dispatch records one dispatch in pass: the pipeline (unless NULL: the
// pass has it set already), bind group 0 at the dynamic offset of the
// dispatch's params slot, and a gx×gy×gz grid. One cgo call instead of three.
static void gt_dispatch(void *pass, void *pipeline, void *group, uint32_t offset, uint32_t gx, uint32_t gy, uint32_t gz) {
	if (pipeline != NULL) {
		wgpuComputePassEncoderSetPipeline(pass, pipeline);
	}
	wgpuComputePassEncoderSetBindGroup(pass, 0, group, 1, &offset);
	wgpuComputePassEncoderDispatchWorkgroups(pass, gx, gy, gz);
}

static void gt_map_done(int status, void *userdata) {
	*(int32_t *)userdata = status + 1;
}

// gt_read maps buffer for reading, copies size bytes into dst and unmaps it.
// It never calls back into Go: the map callback only stores the status in C
// memory, and the device is polled until that status is set. Polling does
// not block: wgpu's blocking wait gives up after about 5 s and the process
// then crashed on lavapipe (gfx-rs/wgpu#4589), so this polls without waiting
// and sleeps with a backoff from 20 µs to 1 ms, for at most about 20 minutes.
// It returns the WGPUBufferMapAsyncStatus (0 on success), or -1 if the
// callback never came.
static int gt_read(void *device, void *buffer, size_t size, void *dst) {
	int32_t done = 0;
	wgpuBufferMapAsync(buffer, 1, 0, size, gt_map_done, &done);
	long ns = 20000;
	for (long i = 0; done == 0 && i < 1200000; i++) {
		wgpuDevicePoll(device, 0, NULL);
		if (done != 0) {
			break;
		}
		struct timespec ts = {0, ns};
		nanosleep(&ts, NULL);
		if (ns < 1000000) {
			ns += ns / 2;
		}
	}
	if (done == 0) {
		return -1;
	}
	if (done != 1) {
		return done - 1;
	}
	const void *src = wgpuBufferGetConstMappedRange(buffer, 0, size);
	if (src == NULL) {
		wgpuBufferUnmap(buffer);
		return 2;
	}
	memcpy(dst, src, size);
	wgpuBufferUnmap(buffer);
	return 0;
}
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/cogentcore/webgpu/wgpu"
)

// The binding keeps the C handles of its objects in unexported fields. Reading
// a buffer back through the binding's MapAsync is unsafe in v0.23.0 (it hands
// C the address of a Go variable that the garbage collector may free before
// the callback runs: see ../shared/notes/webgpu-binding.md), so readback goes
// through gt_read above, which needs the raw handles. These mirror the
// binding's struct layouts; TestBindingLayout fails if they ever change.
type (
	rawBuffer struct {
		deviceRef unsafe.Pointer
		ref       unsafe.Pointer
	}
	rawDevice struct {
		ref unsafe.Pointer
	}
	// rawCommandEncoder and rawComputePass mirror wgpu.CommandEncoder and
	// wgpu.ComputePassEncoder (deviceRef, then ref); rawQuerySet mirrors
	// wgpu.QuerySet. beginTimedPass needs them: see timestamp.go.
	rawCommandEncoder struct {
		deviceRef unsafe.Pointer
		ref       unsafe.Pointer
	}
	rawComputePass struct {
		deviceRef unsafe.Pointer
		ref       unsafe.Pointer
	}
	rawQuerySet struct {
		ref unsafe.Pointer
	}
	// rawBindGroup and rawPipeline mirror wgpu.BindGroup and
	// wgpu.ComputePipeline, for recordDispatch.
	rawBindGroup struct {
		ref unsafe.Pointer
	}
	rawPipeline struct {
		ref unsafe.Pointer
	}
)

func bufferHandle(b *wgpu.Buffer) unsafe.Pointer { return (*rawBuffer)(unsafe.Pointer(b)).ref }
func deviceHandle(d *wgpu.Device) unsafe.Pointer { return (*rawDevice)(unsafe.Pointer(d)).ref }

func encoderHandle(e *wgpu.CommandEncoder) unsafe.Pointer {
	return (*rawCommandEncoder)(unsafe.Pointer(e)).ref
}
func deviceOfEncoder(e *wgpu.CommandEncoder) unsafe.Pointer {
	return (*rawCommandEncoder)(unsafe.Pointer(e)).deviceRef
}
func querySetHandle(q *wgpu.QuerySet) unsafe.Pointer { return (*rawQuerySet)(unsafe.Pointer(q)).ref }

// querySetCount asks wgpu-native for the number of queries in q through the
// raw handle; the layout test compares it with the count q was created with.
func querySetCount(q *wgpu.QuerySet) uint32 { return uint32(C.wgpuQuerySetGetCount(querySetHandle(q))) }

// beginTimedPass begins a compute pass on enc that writes timestamp query
// begin of qs when the pass starts on the GPU and query end when it ends.
// The result is a binding ComputePassEncoder, built the way the binding's
// own BeginComputePass builds one, so End and Release work as usual. It
// returns nil if wgpu-native returned no pass (the binding panics then).
func beginTimedPass(enc *wgpu.CommandEncoder, qs *wgpu.QuerySet, begin, end uint32) *wgpu.ComputePassEncoder {
	dev := deviceOfEncoder(enc)
	ref := C.gt_begin_timed_pass(dev, encoderHandle(enc), querySetHandle(qs), C.uint32_t(begin), C.uint32_t(end))
	if ref == nil {
		return nil
	}
	p := new(wgpu.ComputePassEncoder)
	raw := (*rawComputePass)(unsafe.Pointer(p))
	raw.deviceRef, raw.ref = dev, ref
	return p
}

// recordDispatch records, in one cgo call, what the binding's
// SetPipeline, SetBindGroup and DispatchWorkgroups would: the pipeline
// (unless nil), bind group 0 of g at the dynamic offset, and a gx×gy×gz
// grid (gz: the models of a model array).
// The per-dispatch path makes it once per dispatch; the binding's three
// calls cost three cgo transitions and a slice for the offset.
func recordDispatch(pass *wgpu.ComputePassEncoder, pl *wgpu.ComputePipeline, g *wgpu.BindGroup, offset, gx, gy, gz uint32) {
	var plRef unsafe.Pointer
	if pl != nil {
		plRef = (*rawPipeline)(unsafe.Pointer(pl)).ref
	}
	C.gt_dispatch((*rawComputePass)(unsafe.Pointer(pass)).ref, plRef, (*rawBindGroup)(unsafe.Pointer(g)).ref,
		C.uint32_t(offset), C.uint32_t(gx), C.uint32_t(gy), C.uint32_t(gz))
}

// handleSize asks wgpu-native for the size of b through the raw handle; the
// layout test compares it with the binding's own answer.
func handleSize(b *wgpu.Buffer) uint64 { return uint64(C.wgpuBufferGetSize(bufferHandle(b))) }

// deviceOfBuffer is the device handle that the binding stores in b.
func deviceOfBuffer(b *wgpu.Buffer) unsafe.Pointer { return (*rawBuffer)(unsafe.Pointer(b)).deviceRef }

var mapStatusNames = map[int]string{
	-1: "no map callback after polling the device",
	1:  "validation error",
	2:  "unknown error",
	3:  "device lost",
	4:  "buffer destroyed before the map completed",
	5:  "buffer unmapped before the map completed",
	6:  "mapping already pending",
	7:  "offset out of range",
	8:  "size out of range",
}

// readMapped copies the first len(dst) bytes of the MapRead buffer b into dst.
// It blocks until the GPU has finished all work that writes b.
func readMapped(d *wgpu.Device, b *wgpu.Buffer, dst []byte) error {
	if len(dst) == 0 {
		return nil
	}
	st := C.gt_read(deviceHandle(d), bufferHandle(b), C.size_t(len(dst)), unsafe.Pointer(&dst[0]))
	if st != 0 {
		name, ok := mapStatusNames[int(st)]
		if !ok {
			name = fmt.Sprintf("status %d", int(st))
		}
		if st == 3 {
			return fmt.Errorf("map for readback: %w", ErrDeviceLost)
		}
		return fmt.Errorf("map for readback: %s", name)
	}
	return nil
}
