package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"unicode/utf8"
)

// MaxValue is the longest text from AWS that evidence keeps whole. A
// longer value (a 5 MB report cell, a 2 MB user agent) is kept as a prefix
// with its length and a hash: enough to show and to tell two apart,
// without carrying megabytes into every message, warning and output.
const (
	MaxValue    = 2048
	boundPrefix = 256
)

// Bound returns s, or for a value over MaxValue bytes its first bytes (cut
// at a character boundary) followed by its length and SHA-256.
func Bound(s string) string {
	if len(s) <= MaxValue {
		return s
	}
	cut := boundPrefix
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	sum := sha256.Sum256([]byte(s))
	return fmt.Sprintf("%s… [%d bytes in all, sha256 %s]", s[:cut], len(s), hex.EncodeToString(sum[:8]))
}
