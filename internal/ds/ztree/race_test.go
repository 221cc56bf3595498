//go:build race

package ztree

// raceEnabled: the race detector slows the tree about tenfold, so the
// memory measurements (which it does not help) are skipped and the model
// tests shortened; its checkptr instrumentation still sees every path.
const raceEnabled = true
