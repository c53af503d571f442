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
)

func bufferHandle(b *wgpu.Buffer) unsafe.Pointer { return (*rawBuffer)(unsafe.Pointer(b)).ref }
func deviceHandle(d *wgpu.Device) unsafe.Pointer { return (*rawDevice)(unsafe.Pointer(d)).ref }

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
