//go:build !amd64

package cloudtrail

func computeMasks(b []byte, out []uint64) { masksGeneric(b, out) }
