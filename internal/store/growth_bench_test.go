package store

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

// BenchmarkStoreGrowth stores the runs bench/storegen writes
// (ROOTWATCH_STORE_RUNS: a directory holding day1.json, day2.json and
// day2-changed.json, each the -f json of a scan with --store) and reports
// what storing the day-2 run costs: the bytes it adds to the store
// (B/run; a SQLite file after a checkpoint, a PostgreSQL database's size),
// and the time Save and Load take (save-ms, load-ms). B/first is what the
// first run took. It uses only what the Store of schema 3 had (Open, Save,
// Load), so that bench/store.sh runs this file on main's code too.
// ROOTWATCH_STORE_DIALECTS limits it to sqlite or postgres.
func BenchmarkStoreGrowth(b *testing.B) {
	dir := os.Getenv("ROOTWATCH_STORE_RUNS")
	if dir == "" {
		b.Skip("ROOTWATCH_STORE_RUNS is not set (bench/store.sh sets it)")
	}
	ctx := context.Background()
	read := func(b *testing.B, name string) *finding.Run {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			b.Fatal(err)
		}
		var run finding.Run
		if err := json.Unmarshal(data, &run); err != nil {
			b.Fatal(err)
		}
		return &run
	}
	dialects := os.Getenv("ROOTWATCH_STORE_DIALECTS")
	if dialects == "" {
		dialects = "sqlite,postgres"
	}
	for _, dialect := range strings.Split(dialects, ",") {
		for _, second := range []string{"day2", "day2-changed"} {
			b.Run(dialect+"/"+second, func(b *testing.B) {
				day1, day2 := read(b, "day1.json"), read(b, second+".json")
				var pgURL string
				if dialect == "postgres" {
					pgURL = testutil.StartPostgres(b)
				}
				var first, added int64
				var save, load time.Duration
				for i := 0; i < b.N; i++ {
					spec := filepath.Join(b.TempDir(), "rw.db")
					if dialect == "postgres" {
						spec = withDatabase(b, pgURL, fmt.Sprintf("growth_%d_%d", time.Now().UnixNano(), i))
					}
					s, err := Open(ctx, spec, nil)
					if err != nil {
						b.Fatal(err)
					}
					empty := storeSize(b, s, spec)
					if _, err := s.Save(ctx, day1, "org"); err != nil {
						b.Fatal(err)
					}
					before := storeSize(b, s, spec)
					runtime.GC()
					start := time.Now()
					info, err := s.Save(ctx, day2, "org")
					if err != nil {
						b.Fatal(err)
					}
					save += time.Since(start)
					after := storeSize(b, s, spec)
					runtime.GC()
					start = time.Now()
					if _, _, err := s.Load(ctx, info.ID); err != nil {
						b.Fatal(err)
					}
					load += time.Since(start)
					first += before - empty
					added += after - before
					s.Close()
				}
				n := float64(b.N)
				b.ReportMetric(float64(first)/n, "B/first")
				b.ReportMetric(float64(added)/n, "B/run")
				b.ReportMetric(float64(save.Milliseconds())/n, "save-ms")
				b.ReportMetric(float64(load.Milliseconds())/n, "load-ms")
			})
		}
	}
}

// storeSize is what a store takes on disk: a SQLite file with its
// write-ahead log checkpointed into it, or a PostgreSQL database.
func storeSize(b *testing.B, s Store, spec string) int64 {
	db := s.(*sqlStore).db
	if strings.HasPrefix(spec, "postgres") {
		var n int64
		if err := db.QueryRow(`SELECT pg_database_size(current_database())`).Scan(&n); err != nil {
			b.Fatal(err)
		}
		return n
	}
	if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(spec)
	if err != nil {
		b.Fatal(err)
	}
	return st.Size()
}
