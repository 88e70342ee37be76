//go:build !amd64

package cloudtrail

func computeMasks(b []byte, out []uint64) { masksGeneric(b, out) }

func hasStructKernel() bool { return false }

func structKernel(p *byte, blocks int, out *uint64, st *strState) int { return 0 }
