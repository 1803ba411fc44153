//go:build unix

package detect

import (
	"syscall"
	"time"
)

// cpuTime is this process's user+system CPU time. Benchmarks report it
// beside wall time because the shared build machine is often oversubscribed,
// which inflates ns/op but not CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
