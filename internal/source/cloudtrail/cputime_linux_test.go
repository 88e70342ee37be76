package cloudtrail

import (
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// cpuPerOp reports, beside the wall time, the CPU time of the benchmark's
// own thread per operation (cpu-ns/op): on a shared machine the wall time
// also counts the moments the thread waited for a core. Call it before the
// timed loop; the returned function after it.
func cpuPerOp(b *testing.B) func() {
	runtime.LockOSThread()
	start := threadCPU(b)
	return func() {
		used := threadCPU(b) - start
		runtime.UnlockOSThread()
		b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

func threadCPU(b *testing.B) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
