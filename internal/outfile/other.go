//go:build !unix

package outfile

import (
	"context"
	"errors"
	"io/fs"
	"os"
)

// Without Unix permissions, devices and pipes are found writable or not
// when they are opened.
func writable(string) error { return nil }

var errNoFD = errors.New("is not supported on this system (only standard output and error are)")

func writableFD(int) error { return errNoFD }

func dupFD(int) (*os.File, error) { return nil, errNoFD }

func followable(string, fs.FileInfo, string) error { return nil }

func openWaiting(_ context.Context, path string, _ bool, _ func()) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY, 0)
}
