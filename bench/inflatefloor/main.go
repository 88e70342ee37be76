// Command inflatefloor is the physical floor of reading a CloudTrail
// corpus: it inflates every *.json.gz file under the given directories
// with the gzip library rootwatch uses (klauspost/compress), on as many
// workers as rootwatch, and throws the output away. rootwatch trail can be
// no faster than this.
//
// Usage: go run ./bench/inflatefloor DIR...
package main

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "inflatefloor:", err)
		os.Exit(1)
	}
}

func run(dirs []string) error {
	if len(dirs) == 0 {
		return fmt.Errorf("usage: inflatefloor DIR...")
	}
	files := make(chan string, 256)
	var total atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var zr *gzip.Reader
			br := bufio.NewReaderSize(nil, 256<<10)
			for path := range files {
				n, err := inflate(path, &zr, br)
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					continue
				}
				total.Add(n)
			}
		}()
	}
	for _, d := range dirs {
		err := filepath.WalkDir(d, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() && e.Name() == "CloudTrail-Digest" {
				return filepath.SkipDir
			}
			if !e.IsDir() && strings.HasSuffix(path, ".json.gz") {
				files <- path
			}
			return nil
		})
		if err != nil {
			close(files)
			wg.Wait()
			return err
		}
	}
	close(files)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	fmt.Fprintln(os.Stderr, total.Load(), "bytes inflated")
	return nil
}

// inflate reuses the worker's gzip state and buffer, as rootwatch does.
func inflate(path string, zr **gzip.Reader, br *bufio.Reader) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	br.Reset(f)
	if *zr == nil {
		if *zr, err = gzip.NewReader(br); err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
	} else if err := (*zr).Reset(br); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	n, err := io.Copy(io.Discard, *zr)
	if err != nil {
		return n, fmt.Errorf("%s: %w", path, err)
	}
	return n, nil
}
