package cloudtrail

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/rootwatch/rootwatch/internal/source/cloudtrail/jsonscan"
)

// benchCorpus loads the files of a generated corpus (ROOTWATCH_BENCH_CORPUS,
// see bench/) or skips.
func benchCorpus(b *testing.B) [][]byte {
	dir := os.Getenv("ROOTWATCH_BENCH_CORPUS")
	if dir == "" {
		b.Skip("set ROOTWATCH_BENCH_CORPUS to a corpus from bench/ctgen")
	}
	var files [][]byte
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(p) == ".gz" && len(files) < 200 {
			data, _ := os.ReadFile(p)
			files = append(files, data)
		}
		return nil
	})
	return files
}

// BenchmarkDecode measures one core decoding gzip log files, the structure
// computed each way this CPU runs (best: the one rootwatch takes).
func BenchmarkDecode(b *testing.B) {
	benchDecode(b, benchCorpus(b))
}

// benchDecode decodes files, one sub-benchmark per way of computing the
// structure.
func benchDecode(b *testing.B, files [][]byte) {
	for _, impl := range append([]jsonscan.StructImpl{jsonscan.StructBest}, jsonscan.StructImpls()...) {
		b.Run(impl.String(), func(b *testing.B) {
			b.SetBytes(corpusBytes(files))
			rd := NewReader()
			rd.walk.Impl = impl
			b.ResetTimer()
			defer cpuPerOp(b)()
			for i := 0; i < b.N; i++ {
				for _, f := range files {
					rd.Decode(bytes.NewReader(f), "bench")
				}
			}
		})
	}
}

// BenchmarkDecodeFullJSON is the alternative inside Go: decoding every record
// with encoding/json, no pre-filter.
func BenchmarkDecodeFullJSON(b *testing.B) {
	files := benchCorpus(b)
	b.SetBytes(corpusBytes(files))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, f := range files {
			zr, _ := gzip.NewReader(bytes.NewReader(f))
			var doc struct{ Records []Record }
			json.NewDecoder(zr).Decode(&doc)
			for k := range doc.Records {
				classify(&doc.Records[k], "bench")
			}
		}
	}
}

// BenchmarkInflateFloor is the floor for BenchmarkDecode on one core: the
// same files inflated with the same library and reused state, output
// discarded.
func BenchmarkInflateFloor(b *testing.B) {
	files := benchCorpus(b)
	b.SetBytes(corpusBytes(files))
	rd := NewReader()
	b.ResetTimer()
	defer cpuPerOp(b)()
	for i := 0; i < b.N; i++ {
		for _, f := range files {
			rd.raw.Reset(bytes.NewReader(f))
			if rd.zr == nil {
				rd.zr, _ = gzip.NewReader(rd.raw)
			} else if err := rd.zr.Reset(rd.raw); err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, rd.zr); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// corpusBytes is the compressed size of the files, for MB/s.
func corpusBytes(files [][]byte) int64 {
	var total int64
	for _, f := range files {
		total += int64(len(f))
	}
	return total
}

// BenchmarkDecodeInflated is BenchmarkDecode's own work: the same files
// already inflated, so that what it measures is the reader, not gzip.
func BenchmarkDecodeInflated(b *testing.B) {
	var files [][]byte
	for _, f := range benchCorpus(b) {
		zr, err := gzip.NewReader(bytes.NewReader(f))
		if err != nil {
			b.Fatal(err)
		}
		data, err := io.ReadAll(zr)
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, data)
	}
	benchDecode(b, files)
}
