package gpu

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/cogentcore/webgpu/wgpu"
)

// ErrNoAdapter reports that WebGPU found no adapter that fits the request.
var ErrNoAdapter = errors.New("no WebGPU adapter")

// ErrNoHardwareGPU reports that the only adapters are software ones (such as
// Mesa's lavapipe). They run every shader, which makes them right for tests,
// but are far slower than the CPU backend for training.
var ErrNoHardwareGPU = errors.New("no hardware GPU (only software adapters)")

// ErrDeviceLost reports that the GPU device stopped working (driver reset,
// watchdog, unplugged GPU). Everything on it is gone; open a new backend.
var ErrDeviceLost = errors.New("GPU device lost")

// InstallHint says how to get a WebGPU adapter on a Linux machine without a GPU.
const InstallHint = "on Debian/Ubuntu without a GPU, `apt-get install mesa-vulkan-drivers` gives a software Vulkan adapter (lavapipe)"

// Limits are the adapter limits that matter for training.
type Limits struct {
	MaxBufferSize                     uint64 `json:"max_buffer_size"`
	MaxStorageBufferBindingSize       uint64 `json:"max_storage_buffer_binding_size"`
	MaxComputeWorkgroupStorageSize    uint32 `json:"max_compute_workgroup_storage_size"`
	MaxComputeInvocationsPerWorkgroup uint32 `json:"max_compute_invocations_per_workgroup"`
	MaxComputeWorkgroupsPerDimension  uint32 `json:"max_compute_workgroups_per_dimension"`
	MaxComputeWorkgroupSizeZ          uint32 `json:"max_compute_workgroup_size_z"`
	MaxStorageBuffersPerShaderStage   uint32 `json:"max_storage_buffers_per_shader_stage"`
}

// Adapter describes one WebGPU adapter.
type Adapter struct {
	// Index is the adapter's position in the enumeration.
	Index int `json:"index"`
	// Name is the adapter's description, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)".
	Name string `json:"name"`
	// API is "vulkan", "metal", "dx12", "dx11", "gl" or "unknown".
	API string `json:"api"`
	// Type is "discrete", "integrated", "cpu" (software) or "unknown".
	Type string `json:"type"`
	// Driver is the driver's own description, where it gives one.
	Driver string `json:"driver"`
	// Limits are the adapter's own limits (not WebGPU's smaller defaults).
	Limits Limits `json:"limits"`
	// Timestamps reports the "timestamp-query" feature: with it,
	// Options.Timestamps measures kernel time (see Backend.KernelTime).
	Timestamps bool `json:"timestamps"`
}

// Software reports whether the adapter is a CPU rasteriser such as lavapipe.
func (a Adapter) Software() bool { return a.Type == "cpu" }

// rank orders adapters for "best hardware GPU": discrete, then integrated,
// then the rest; Vulkan/Metal/DX12 before GL at equal type.
func (a Adapter) rank() int {
	r := map[string]int{"discrete": 0, "integrated": 10, "unknown": 20, "virtual": 20, "cpu": 30}[a.Type]
	if a.API == "gl" || a.API == "dx11" {
		r += 5
	}
	return r
}

var (
	instOnce sync.Once
	inst     *wgpu.Instance
)

// instance returns the process-wide WebGPU instance. It is created with a nil
// descriptor: a non-nil one aborts at random in binding v0.23.0.
func instance() *wgpu.Instance {
	instOnce.Do(func() {
		if os.Getenv("GPUTRAIN_WGPU_LOG") == "" {
			wgpu.SetLogLevel(wgpu.LogLevelOff)
		} else {
			wgpu.SetLogLevel(wgpu.LogLevelWarn)
		}
		quietMesa()
		inst = wgpu.CreateInstance(nil)
	})
	return inst
}

// quietMesa points XDG_RUNTIME_DIR at a private directory when it is unset,
// which stops Mesa's GL driver from printing a warning on every start.
func quietMesa() {
	if os.Getenv("XDG_RUNTIME_DIR") != "" {
		return
	}
	if d, err := os.MkdirTemp("", "gputrain-xdg-"); err == nil {
		_ = os.Chmod(d, 0o700)
		_ = os.Setenv("XDG_RUNTIME_DIR", d)
	}
}

func apiName(b wgpu.BackendType) string {
	switch b {
	case wgpu.BackendTypeVulkan:
		return "vulkan"
	case wgpu.BackendTypeMetal:
		return "metal"
	case wgpu.BackendTypeD3D12:
		return "dx12"
	case wgpu.BackendTypeD3D11:
		return "dx11"
	case wgpu.BackendTypeOpenGL, wgpu.BackendTypeOpenGLES:
		return "gl"
	case wgpu.BackendTypeWebGPU:
		return "webgpu" // a browser's WebGPU (see web.go), which hides the API beneath
	}
	return "unknown"
}

func typeName(t wgpu.AdapterType) string {
	switch t {
	case wgpu.AdapterTypeDiscreteGPU:
		return "discrete"
	case wgpu.AdapterTypeIntegratedGPU:
		return "integrated"
	case wgpu.AdapterTypeCPU:
		return "cpu"
	}
	return "unknown"
}

func describe(i int, a *wgpu.Adapter) Adapter {
	info := adapterInfo(a)
	l := a.GetLimits().Limits
	name := strings.TrimSpace(info.DriverDescription)
	if name == "" || !printable(name) {
		name = strings.TrimSpace(info.Name)
	}
	if !printable(name) {
		name = "unnamed adapter"
	}
	// Where the description carries a driver suffix ("llvmpipe (LLVM ...)"),
	// the part before it names the device.
	return Adapter{
		Index:      i,
		Name:       name,
		API:        apiName(info.BackendType),
		Type:       typeName(info.AdapterType),
		Driver:     strings.TrimSpace(info.DriverDescription),
		Timestamps: hasTimestampQuery(a),
		Limits: Limits{
			MaxBufferSize:                     l.MaxBufferSize,
			MaxStorageBufferBindingSize:       l.MaxStorageBufferBindingSize,
			MaxComputeWorkgroupStorageSize:    l.MaxComputeWorkgroupStorageSize,
			MaxComputeInvocationsPerWorkgroup: l.MaxComputeInvocationsPerWorkgroup,
			MaxComputeWorkgroupsPerDimension:  l.MaxComputeWorkgroupsPerDimension,
			MaxComputeWorkgroupSizeZ:          l.MaxComputeWorkgroupSizeZ,
			MaxStorageBuffersPerShaderStage:   l.MaxStorageBuffersPerShaderStage,
		},
	}
}

func printable(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0xfffd {
			return false
		}
	}
	return true
}

// enumerate lists the adapters with their handles, in the instance's order.
func enumerate() ([]Adapter, []*wgpu.Adapter) {
	in := instance()
	if in == nil {
		return nil, nil // a browser without WebGPU (navigator.gpu undefined)
	}
	raw := in.EnumerateAdapters(nil)
	out := make([]Adapter, len(raw))
	for i, a := range raw {
		out[i] = describe(i, a)
	}
	return out, raw
}

// Adapters lists every WebGPU adapter on this machine. The list is empty, not
// an error, when there is none.
func Adapters() []Adapter {
	list, raw := enumerate()
	for _, a := range raw {
		a.Release()
	}
	return list
}

// Choices lists the device choices that Select understands.
var Choices = []string{"gpu", "software", "any", "vulkan", "metal", "dx12", "gl"}

// Select picks an adapter from list by choice:
//
//	gpu       the best hardware GPU: discrete before integrated, then by API
//	software  a CPU adapter such as lavapipe (Vulkan before GL)
//	any       the best hardware GPU, else the best software adapter
//	vulkan, metal, dx12, gl
//	          the best adapter of that API
//
// It returns ErrNoHardwareGPU when choice is "gpu" and only software
// adapters exist, and ErrNoAdapter when nothing fits; both errors list what
// exists. An unknown choice is an error naming the valid ones.
func Select(list []Adapter, choice string) (Adapter, error) {
	choice = strings.ToLower(strings.TrimSpace(choice))
	var keep func(Adapter) bool
	switch choice {
	case "gpu", "hardware":
		keep = func(a Adapter) bool { return !a.Software() }
	case "software":
		keep = Adapter.Software
	case "any", "auto", "":
		keep = func(Adapter) bool { return true }
	case "vulkan", "metal", "dx12", "gl", "dx11":
		keep = func(a Adapter) bool { return a.API == choice }
	default:
		return Adapter{}, fmt.Errorf("unknown GPU choice %q (want one of %s)", choice, strings.Join(Choices, ", "))
	}
	var fit []Adapter
	for _, a := range list {
		if keep(a) {
			fit = append(fit, a)
		}
	}
	if len(fit) == 0 {
		have := describeList(list)
		if choice == "gpu" || choice == "hardware" {
			if len(list) > 0 {
				return Adapter{}, fmt.Errorf("%w; adapters present: %s", ErrNoHardwareGPU, have)
			}
		}
		if len(list) == 0 {
			return Adapter{}, fmt.Errorf("%w found for %q: none present (%s)", ErrNoAdapter, choice, InstallHint)
		}
		return Adapter{}, fmt.Errorf("%w found for %q; adapters present: %s", ErrNoAdapter, choice, have)
	}
	sort.SliceStable(fit, func(i, j int) bool { return fit[i].rank() < fit[j].rank() })
	return fit[0], nil
}

func describeList(list []Adapter) string {
	if len(list) == 0 {
		return "none"
	}
	parts := make([]string, len(list))
	for i, a := range list {
		parts[i] = fmt.Sprintf("%s (%s, %s)", a.Name, a.API, a.Type)
	}
	return strings.Join(parts, "; ")
}
