// Package secret reads values given by reference, so that a secret (a
// webhook or Teams URL, a PagerDuty routing key, a signing key, a store
// URL with its password) need not stand on a command line, where every
// user of the machine can read it: env:VAR is an environment variable,
// file:PATH a file's content without its surrounding space. Notification
// targets, --notify-secret, --sign-key and the store read their
// references here; errors name the variable or the file, never a value.
package secret

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Source is where references are read; nil functions are the process's
// own (os.Getenv, os.ReadFile), and tests put theirs.
type Source struct {
	Getenv   func(string) string
	ReadFile func(string) ([]byte, error)
}

// Resolve returns the value v refers to (env:VAR, file:PATH), or v itself
// when it is no reference. An empty or unset variable is an error.
func (s Source) Resolve(v string) (string, error) {
	if name, ok := strings.CutPrefix(v, "env:"); ok {
		getenv := s.Getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		val := getenv(name)
		if val == "" {
			return "", fmt.Errorf("environment variable %s is empty or not set", name)
		}
		return val, nil
	}
	if path, ok := strings.CutPrefix(v, "file:"); ok {
		read := s.ReadFile
		if read == nil {
			read = os.ReadFile
		}
		b, err := read(path)
		if err != nil {
			// The *PathError's own text would repeat the path after "open".
			if inner := errors.Unwrap(err); inner != nil {
				err = inner
			}
			return "", fmt.Errorf("read %s: %w", path, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return v, nil
}

// IsRef says whether v is a reference (env:VAR or file:PATH) rather than
// the value itself, which a command line would show.
func IsRef(v string) bool {
	return strings.HasPrefix(v, "env:") || strings.HasPrefix(v, "file:")
}
