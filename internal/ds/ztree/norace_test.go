//go:build !race

package ztree

const raceEnabled = false
