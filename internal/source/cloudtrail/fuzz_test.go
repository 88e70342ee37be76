package cloudtrail

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rootwatch/rootwatch/internal/testutil"

	"github.com/rootwatch/rootwatch/internal/evidence"

	"github.com/rootwatch/rootwatch/internal/source/cloudtrail/jsonscan"
)

// FuzzDecode checks that no input makes the reader panic or hang, and that
// its counts stay consistent with what it returns.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		oneRoot,
		`{"Records":[` + oneRoot + `,` + oneUser + `]}`,
		"[" + oneUser + "," + oneRoot + "]",
		oneUser + "\n" + oneRoot,
		`{"detail-type":"x","detail":` + oneRoot + `}`,
		`{"Events":[{"EventId":"1","Username":"root","CloudTrailEvent":"{\"userIdentity\":{\"type\":\"Root\"}}"}]}`,
		`{"Records":[{"a":"\"}\\"}]}`,
		`[1,"x",null]`,
	} {
		f.Add([]byte(s))
		f.Add(gz([]byte(s)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, st := Decode(bytes.NewReader(data), "fuzz")
		if len(evs) != st.RootEvents {
			t.Fatalf("%d events returned, %d counted", len(evs), st.RootEvents)
		}
		if st.RootEvents > st.Events {
			t.Fatalf("more root events (%d) than events (%d)", st.RootEvents, st.Events)
		}
		for _, e := range evs {
			if e.Category == "" {
				t.Fatalf("event without a category: %+v", e)
			}
		}
	})
}

// decodeBoth reads data without the fast path and with it, each way of
// computing the structure this CPU runs (SWAR everywhere): fast[i] is
// jsonscan.StructImpls()[i]'s.
func decodeBoth(data []byte) (fast []decoded, slow decoded) {
	for _, impl := range jsonscan.StructImpls() {
		rd := NewReader()
		rd.walk.Impl = impl
		var d decoded
		d.events, d.stats = rd.Decode(bytes.NewReader(data), "fuzz")
		fast = append(fast, d)
	}
	rd := NewReader()
	rd.slow = true
	slow.events, slow.stats = rd.Decode(bytes.NewReader(data), "fuzz")
	return fast, slow
}

// fastAgrees fails t unless each fast reading equals the slow one.
func fastAgrees(t *testing.T, fast []decoded, slow decoded, what string) {
	t.Helper()
	for i, f := range fast {
		if !reflect.DeepEqual(f, slow) {
			t.Fatalf("%s: fast path (%v):\n%+v\ngeneral path:\n%+v", what, jsonscan.StructImpls()[i], f.stats, slow.stats)
		}
	}
}

type decoded struct {
	events []evidence.Event
	stats  evidence.SourceStats
}

// FuzzFastPathAgrees checks that reading records straight from the buffer
// (masks, walk, refills) finds exactly what the general scanner finds:
// the same events, counts, problems, errors and coverage.
func FuzzFastPathAgrees(f *testing.F) {
	for _, s := range fastPathSeeds() {
		f.Add([]byte(s))
		f.Add(gz([]byte(s)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, slow := decodeBoth(data)
		fastAgrees(t, fast, slow, "fuzz")
	})
}

func fastPathSeeds() []string {
	return []string{
		`{"Records":[` + oneRoot + `,` + oneUser + `]}`,
		`{"Records":[` + oneUser + `,` + oneUser + `,{"eventSource":"x","a":"}\"{","recipientAccountId":"1","eventTime":"2026-01-01T00:00:00Z"}]}`,
		`{"Records":[{"eventSource":"s3","b":"\\","c":"\\\"]"},{"eventSource":"s3","type":"rOOt"}]}`,
		`{"Records":[{"x":{"eventSource":"nested"}},{"eventSource" : "spaced", "recipientAccountId" : "111122223333"}]}`,
		`{"Records":[{"eventSource":"a"} , 7 ,{"eventSource":"b"}]}`,
		`{"Records":[{"eventSource":"a"},{"eventSource":"b"`,
		`{"Records":[{"eventSource":"a"}]`,
		`{"Records":[{"eventSource":"a"}],"x":1}`,
		`[` + oneUser + `,` + oneRoot + `]`,
		`{"Records":[]}`,
	}
}

// TestFastPathAgreesOnLargeInputs: records that cross buffer refills,
// records larger than the buffer, strings full of brackets, quotes and
// backslashes at every position, root records among them, gzip or not,
// and the real examples: the fast path agrees with the general one.
func TestFastPathAgreesOnLargeInputs(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	junk := func(n int) string {
		const alphabet = `ab{}[]\"oOtT:, `
		var b strings.Builder
		for range n {
			c := alphabet[r.IntN(len(alphabet))]
			switch c {
			case '\\', '"':
				b.WriteString(`\` + string(c))
			default:
				b.WriteByte(c)
			}
		}
		return b.String()
	}
	for round := range 6 {
		var b strings.Builder
		b.WriteString(`{"Records":[`)
		n := 400 + r.IntN(400)
		for i := range n {
			if i > 0 {
				b.WriteString(",\n ")
			}
			switch k := r.IntN(20); {
			case k == 0:
				b.WriteString(oneRoot)
			case k == 1 && round%2 == 0:
				// larger than the buffer
				fmt.Fprintf(&b, `{"eventSource":"s3.amazonaws.com","eventName":"PutObject","big":"%s","recipientAccountId":"111122223333","eventTime":"2026-02-0%dT00:00:00Z"}`, junk(300<<10), 1+r.IntN(9))
			default:
				fmt.Fprintf(&b, `{"eventVersion":"1.08","requestParameters":{"policy":"%s","list":[1,{"a":"%s"}]},"eventSource":"s3.amazonaws.com","eventName":"Get","recipientAccountId":"%d","eventTime":"2026-02-%02dT%02d:00:00Z","userIdentity":{"type":"%s"}}`,
					junk(r.IntN(3000)), junk(r.IntN(50)), 111122223333+int64(r.IntN(3)), 1+r.IntN(28), r.IntN(24), []string{"IAMUser", "AssumedRole", "Root", "rOOt"}[r.IntN(4)])
			}
		}
		b.WriteString("]}")
		data := []byte(b.String())
		if round >= 4 {
			data = data[:len(data)-r.IntN(len(data)/2)] // truncated
		}
		for _, in := range [][]byte{data, gz(data)} {
			fast, slow := decodeBoth(in)
			fastAgrees(t, fast, slow, fmt.Sprintf("round %d (%d bytes)", round, len(in)))
			if round < 4 && slow.stats.Events != n {
				t.Fatalf("round %d: %d events, wrote %d (%s)", round, slow.stats.Events, n, slow.stats.Error)
			}
		}
	}
	dirs := []string{filepath.Join(testutil.RepoRoot(), "..", "shared", "data", "cloudtrail"), filepath.Join(testutil.RepoRoot(), "testdata", "cloudtrail")}
	if c := os.Getenv("ROOTWATCH_BENCH_CORPUS"); c != "" {
		dirs = append(dirs, c)
	}
	files := 0
	for _, dir := range dirs {
		filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
			if err != nil || e.IsDir() || files > 2000 {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return nil
			}
			files++
			fast, slow := decodeBoth(data)
			fastAgrees(t, fast, slow, p)
			return nil
		})
	}
	if files == 0 {
		t.Fatal("no example files read")
	}
}
