//go:build !linux

package savechild

import "os"

// growPipe is Linux's F_SETPIPE_SZ; elsewhere pipes keep their size.
func growPipe(*os.File) {}
