package outfile

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func text(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

func check(t *testing.T, path string) *Target {
	t.Helper()
	tg, err := Check("--output", path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func write(t *testing.T, path, body string) {
	t.Helper()
	if err := Write(context.Background(), check(t, path), 0o600, text(body)); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// leftovers lists what a write left in dir besides want.
func leftovers(t *testing.T, dir string, want ...string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var extra []string
	for _, e := range entries {
		found := false
		for _, w := range want {
			found = found || e.Name() == w
		}
		if !found {
			extra = append(extra, e.Name())
		}
	}
	return extra
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (CI runs as root): mknod and chown")
	}
}

func TestRegularFileReplacedWhole(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.json")
	write(t, p, "first")
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	write(t, p, "second")
	st, _ := os.Lstat(p)
	if got := read(t, p); got != "second" || !st.Mode().IsRegular() || st.Mode().Perm() != 0o600 {
		t.Errorf("content %q, mode %v; want second, a 0600 regular file", got, st.Mode())
	}
	if extra := leftovers(t, dir, "out.json"); len(extra) > 0 {
		t.Errorf("left behind: %v", extra)
	}
}

// TestSymlinkWrittenThrough: the link stays a link, its final target (two
// hops, one relative) gets the bytes; a dangling link's target is created.
func TestSymlinkWrittenThrough(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o700)
	target := filepath.Join(sub, "target.json")
	os.WriteFile(target, []byte("old"), 0o600)
	mid := filepath.Join(sub, "mid.json")
	if err := os.Symlink("target.json", mid); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(mid, link); err != nil {
		t.Fatal(err)
	}
	tg := check(t, link)
	if tg.Kind != File || tg.File != target {
		t.Errorf("target %+v, want the file %s", tg, target)
	}
	write(t, link, "new")
	for _, l := range []string{link, mid} {
		if st, err := os.Lstat(l); err != nil || st.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("%s is no longer a symlink: %v %v", l, st.Mode(), err)
		}
	}
	if got := read(t, target); got != "new" {
		t.Errorf("target holds %q", got)
	}

	dangling := filepath.Join(dir, "dangling.json")
	os.Symlink("sub/made.json", dangling)
	write(t, dangling, "made")
	if got := read(t, filepath.Join(sub, "made.json")); got != "made" {
		t.Errorf("dangling link's target holds %q", got)
	}
	if st, _ := os.Lstat(dangling); st.Mode()&fs.ModeSymlink == 0 {
		t.Error("the dangling link was replaced")
	}

	loop := filepath.Join(dir, "loop")
	os.Symlink("loop", loop)
	if _, err := Check("--output", loop, Options{}); err == nil || !strings.Contains(err.Error(), "symbolic links (a loop?)") {
		t.Errorf("symlink loop: %v", err)
	}
}

// TestDeviceWrittenInPlace: a character device made like /dev/null stays
// one; today's temp-and-rename would have made it a 0600 regular file.
func TestDeviceWrittenInPlace(t *testing.T) {
	requireRoot(t)
	dev := filepath.Join(t.TempDir(), "null")
	// Linux's /dev/null is character device 1:3 (not read from /dev/null,
	// which a run of the old code as root may have turned into a file).
	if err := unix.Mknod(dev, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dev, 0o666) // past the umask
	tg := check(t, dev)
	if tg.Kind != Stream {
		t.Fatalf("kind %v, want Stream", tg.Kind)
	}
	write(t, dev, "into the void")
	st, err := os.Lstat(dev)
	if err != nil || st.Mode()&fs.ModeCharDevice == 0 || st.Mode().Perm() != 0o666 {
		t.Errorf("after the write: %v %v; want the 0666 character device", st.Mode(), err)
	}
	if extra := leftovers(t, filepath.Dir(dev), "null"); len(extra) > 0 {
		t.Errorf("left behind: %v", extra)
	}
}

// TestFIFOWrittenInPlace: the reader gets every byte and the pipe stays a
// pipe; without a reader, a cancelled context ends the wait.
func TestFIFOWrittenInPlace(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat("0123456789abcdef", 1<<14) // more than a pipe buffer
	got := make(chan string, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(f)
		f.Close() // before the second half, which needs the pipe without a reader
		got <- string(b)
	}()
	var notices []string
	b := &Batch{Notice: func(s string) { notices = append(notices, s) }}
	if err := b.Add(check(t, fifo), 0o600, text(body)); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := <-got; r != body {
		t.Errorf("the reader got %d bytes, want %d", len(r), len(body))
	}
	if st, _ := os.Lstat(fifo); st.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("the pipe is now %v", st.Mode())
	}

	ctx, cancel := context.WithCancel(context.Background())
	b = &Batch{Notice: func(string) { cancel() }} // nobody will read
	b.Add(check(t, fifo), 0o600, text("x"))
	if err := b.Commit(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("no reader, cancelled: %v", err)
	}
}

// TestDescriptors: -, /dev/stdout and /dev/fd/N write to what the process
// already holds; a descriptor that is not open is refused when checked.
func TestDescriptors(t *testing.T) {
	var out, errb bytes.Buffer
	b := &Batch{Stdout: &out, Stderr: &errb}
	for _, p := range []string{"-", "/dev/stdout", "/proc/self/fd/1"} {
		tg := check(t, p)
		if tg.Kind != Descriptor || tg.FD != 1 {
			t.Errorf("%s: %+v", p, tg)
		}
		b.Add(tg, 0o600, text(p+"\n"))
	}
	b.Add(check(t, "/dev/stderr"), 0o600, text("err"))
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fd := "/dev/fd/" + strconv.Itoa(int(w.Fd()))
	b.Add(check(t, fd), 0o600, text("through the pipe"))
	if err := b.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.Close()
	piped, _ := io.ReadAll(r)
	if out.String() != "-\n/dev/stdout\n/proc/self/fd/1\n" || errb.String() != "err" || string(piped) != "through the pipe" {
		t.Errorf("stdout %q, stderr %q, pipe %q", out.String(), errb.String(), piped)
	}
	if st, err := os.Lstat("/dev/stdout"); err != nil || st.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("/dev/stdout is now %v (%v)", st.Mode(), err)
	}
	if _, err := Check("--output", "/dev/fd/987", Options{}); err == nil || !strings.Contains(err.Error(), "descriptor 987 is not open") {
		t.Errorf("closed descriptor: %v", err)
	}
	if _, err := Check("--output", "/dev/fd/"+strconv.Itoa(int(r.Fd())), Options{}); err == nil || !strings.Contains(err.Error(), "reading only") {
		t.Errorf("read-only descriptor: %v", err)
	}
}

func TestCheckRefuses(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct{ path, want string }{
		"missing directory": {filepath.Join(dir, "no", "x.csv"), "--output " + filepath.Join(dir, "no", "x.csv") + ": directory " + filepath.Join(dir, "no") + " does not exist"},
		"a directory":       {dir, "is a directory"},
		"a file as parent":  {filepath.Join(dir, "f", "x"), "f/x: not a directory"},
	} {
		if name == "a file as parent" {
			os.WriteFile(filepath.Join(dir, "f"), nil, 0o600)
		}
		if _, err := Check("--output", tc.path, Options{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	sock := filepath.Join(dir, "s")
	fd, _ := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: sock}); err != nil {
		t.Fatal(err)
	}
	if _, err := Check("--output", sock, Options{}); err == nil || !strings.Contains(err.Error(), "is a socket") {
		t.Errorf("socket: %v", err)
	}
	if os.Geteuid() != 0 {
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o500)
		if _, err := Check("--output", filepath.Join(ro, "x"), Options{}); err == nil || !strings.Contains(err.Error(), "cannot create a file in "+ro) {
			t.Errorf("read-only directory: %v", err)
		}
	}
}

// TestProtectedSymlink: a link planted by another user in a sticky shared
// directory is not followed.
func TestProtectedSymlink(t *testing.T) {
	requireRoot(t)
	shared := filepath.Join(t.TempDir(), "tmp")
	os.Mkdir(shared, 0o777)
	os.Chmod(shared, 0o777|fs.ModeSticky)
	victim := filepath.Join(t.TempDir(), "shadow")
	os.WriteFile(victim, []byte("secret"), 0o600)
	link := filepath.Join(shared, "report.json")
	os.Symlink(victim, link)
	if err := os.Lchown(link, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	if _, err := Check("--output", link, Options{}); err == nil || !strings.Contains(err.Error(), "owned by user 4242 in the shared directory") {
		t.Errorf("planted link: %v", err)
	}
	os.Lchown(link, 0, 0) // the caller's own link is followed
	write(t, link, "mine")
	if read(t, victim) != "mine" {
		t.Error("the caller's own link was not written through")
	}
}

// TestBatchAllOrNothing: a failing output leaves the earlier ones as they
// were and removes every temporary file; a failed rename puts back what
// was already renamed; directories made for an abandoned batch go.
func TestBatchAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	prev, next := filepath.Join(dir, "prev.json"), filepath.Join(dir, "next.csv")
	os.WriteFile(prev, []byte("previous run"), 0o600)
	b := &Batch{}
	if err := b.Add(check(t, prev), 0o600, text("this run")); err != nil {
		t.Fatal(err)
	}
	err := b.Add(check(t, next), 0o600, func(w io.Writer) error {
		io.WriteString(w, "half")
		return errors.New("disk full")
	})
	b.Abort()
	if err == nil || !strings.Contains(err.Error(), "disk full") || read(t, prev) != "previous run" {
		t.Errorf("err %v, prev %q", err, read(t, prev))
	}
	if extra := leftovers(t, dir, "prev.json"); len(extra) > 0 {
		t.Errorf("left behind: %v", extra)
	}

	// The second rename fails: the first is undone.
	third := filepath.Join(dir, "third.html")
	b = &Batch{}
	b.Add(check(t, prev), 0o600, text("this run"))
	b.Add(check(t, next), 0o600, text("new file"))
	b.Add(check(t, third), 0o600, text("never"))
	n := 0
	b.rename = func(from, to string) error {
		if n++; n == 3 {
			return &os.LinkError{Op: "rename", Old: from, New: to, Err: syscall.EIO}
		}
		return os.Rename(from, to)
	}
	err = b.Commit(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no file was changed") {
		t.Errorf("commit: %v", err)
	}
	if read(t, prev) != "previous run" {
		t.Errorf("prev.json holds %q after the rollback", read(t, prev))
	}
	if extra := leftovers(t, dir, "prev.json"); len(extra) > 0 {
		t.Errorf("left behind: %v", extra)
	}

	// Directories made for a batch that is abandoned are removed.
	deep := filepath.Join(dir, "out", "a", "b.json")
	tg, err := Check("--output-dir", deep, Options{MakeDirs: true})
	if err != nil {
		t.Fatal(err)
	}
	b = &Batch{}
	if err := b.Add(tg, 0o600, text("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(deep)); err != nil {
		t.Errorf("directory not made: %v", err)
	}
	b.Abort()
	if _, err := os.Stat(filepath.Join(dir, "out")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the directories made stayed: %v", err)
	}
}

// TestCommitRefusesAChangedTarget: a file replaced by a symlink between
// the check and the commit is not renamed over.
func TestCommitRefusesAChangedTarget(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.json")
	os.WriteFile(p, []byte("x"), 0o600)
	b := &Batch{}
	b.Add(check(t, p), 0o600, text("y"))
	os.Remove(p)
	os.Symlink("/etc/passwd", p)
	if err := b.Commit(context.Background()); err == nil || !strings.Contains(err.Error(), "no longer a regular file") {
		t.Errorf("commit: %v", err)
	}
	if st, _ := os.Lstat(p); st.Mode()&fs.ModeSymlink == 0 {
		t.Error("the link was replaced")
	}
}
