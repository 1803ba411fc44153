//go:build !unix

package features

import "time"

func cpuTime() time.Duration { return 0 }
