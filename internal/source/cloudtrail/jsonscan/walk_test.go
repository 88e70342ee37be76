package jsonscan

import (
	"encoding/binary"
	"testing"
)

// TestKeyPrefixes: the walk's first look at a key compares eight bytes
// with these constants.
func TestKeyPrefixes(t *testing.T) {
	for key, prefix := range map[string]uint64{string(keyEventSource): prefixEventSource,
		string(keyEventTime): prefixEventTime, string(keyRecipient): prefixRecipient} {
		if got := binary.LittleEndian.Uint64([]byte(key)); got != prefix {
			t.Errorf("%s: prefix %#x, want %#x", key, prefix, got)
		}
	}
}
