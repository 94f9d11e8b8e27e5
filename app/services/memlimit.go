package services

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// packagingHeadroom is how much the Go runtime's memory may grow, while package (or verify)
// jobs run,
// above what the process held when the first of them started, before the garbage collector
// works harder to stay under it (a soft limit: debug.SetMemoryLimit).
//
// Why a limit: packaging streams (a few segments per rendition in flight), but without a
// limit the collector lets the heap double between cycles, so RSS follows the input's
// segment sizes upwards; with it, freed segment buffers go back promptly and RSS stays flat
// whatever the input size (scripts/bench.sh: flat on a 150 MB input). 48 MiB holds the
// segments of several renditions in parallel with room to spare.
//
// Why relative: the desktop app already holds its widgets, fonts and textures (tens of MB)
// before a job starts. An absolute 48 MiB limit would sit below that and keep the collector
// running all the time (the runtime caps GC at about half the CPU, so nothing breaks, but the
// window would stutter). Measuring first gives both the CLI and the GUI the same 48 MiB for
// packaging itself. A GOMEMLIMIT set by the user wins: then nothing is changed.
const packagingHeadroom = 48 << 20

// memLimiter applies the limit while at least one package or verify job runs.
var memLimiter struct {
	sync.Mutex
	jobs int
	prev int64
}

// limitMemory sets the soft memory limit for a package or verify job and returns the function that
// lifts it again (once the last running package job ends).
func limitMemory() (release func()) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	memLimiter.Lock()
	defer memLimiter.Unlock()
	if memLimiter.jobs == 0 {
		memLimiter.prev = debug.SetMemoryLimit(runtimeMemory() + packagingHeadroom)
	}
	memLimiter.jobs++
	var once sync.Once
	return func() {
		once.Do(func() {
			memLimiter.Lock()
			defer memLimiter.Unlock()
			memLimiter.jobs--
			if memLimiter.jobs == 0 {
				debug.SetMemoryLimit(memLimiter.prev)
			}
		})
	}
}

// runtimeMemory is the memory the runtime's limit counts now: everything it mapped, less the
// heap it has returned to the OS.
func runtimeMemory() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 || s[1].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64() - s[1].Value.Uint64())
}
