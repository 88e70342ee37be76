// Package outfile writes what rootwatch produces without damaging what is
// already there. Every file rootwatch writes (scan and trail outputs,
// evidence bundles, remediation plans and summaries, the docs pages) goes
// through it.
//
// What a path names decides how it is written:
//   - a regular file, or a path that does not exist yet: into a temporary
//     file beside it (created exclusively, owner-only unless asked
//     otherwise), renamed into place once every output of the run was
//     written whole;
//   - a character or block device or a named pipe (FIFO): opened and written
//     in place, never created, truncated or renamed over;
//   - standard output or error (- , /dev/stdout, /dev/stderr) and /dev/fd/N:
//     written to the descriptor the process already holds, so that a
//     shell's >> keeps appending;
//   - a symbolic link: followed to its final target, which is written as
//     above; the link stays a link. A link that Linux's protected_symlinks
//     would not follow (in a sticky world-writable directory such as /tmp,
//     owned by neither the caller nor the directory's owner) is refused.
//
// Check settles all of this before anything is collected: the directory
// exists and a file can be created in it (probed by creating one), the
// target is not a directory or a socket, a device or pipe is writable.
// A Batch then stages every output of a run and commits them together: a
// run that fails changes no file.
package outfile

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Kind is how a target is written.
type Kind int

const (
	// File is a regular file or a path that does not exist yet: written
	// to a temporary file beside it and renamed into place.
	File Kind = iota
	// Stream is a character or block device or a named pipe: opened and
	// written in place.
	Stream
	// Descriptor is a file descriptor the process holds: standard output,
	// standard error or /dev/fd/N.
	Descriptor
)

// Target is an output path, checked.
type Target struct {
	// Flag names the flag (or role) that gave the path, for messages.
	Flag string
	// Path is the path as it was given.
	Path string
	// Kind is how it is written.
	Kind Kind
	// File is what is written for File and Stream: the absolute path with
	// every symbolic link resolved (a new file's directory resolved).
	File string
	// FD is the descriptor of a Descriptor target.
	FD int
	// mkdirs are directories to create before a File is staged,
	// outermost first (Options.MakeDirs).
	mkdirs []string
	// dirPerm is the mode of the directories in mkdirs.
	dirPerm fs.FileMode
	// streamMode is the file type of a Stream when checked.
	streamMode fs.FileMode
}

func (t *Target) String() string {
	if t.Flag == "" {
		return t.Path
	}
	return t.Flag + " " + t.Path
}

// Key identifies what the target writes to, for finding two outputs over
// each other: the resolved file, or the descriptor.
func (t *Target) Key() string {
	if t.Kind == Descriptor {
		return "fd:" + strconv.Itoa(t.FD)
	}
	return t.File
}

// Stdout is standard output as a target (-o - or no -o at all).
func Stdout(flag string) *Target {
	return &Target{Flag: flag, Path: "-", Kind: Descriptor, FD: 1}
}

// Options adjust Check.
type Options struct {
	// MakeDirs lets the path's directory be missing: the nearest existing
	// ancestor is probed instead, and the missing directories are created
	// (mode DirPerm) when the file is staged and removed again when the
	// batch is abandoned.
	MakeDirs bool
	DirPerm  fs.FileMode
}

// maxLinks is how many symbolic links one path may go through (Linux's
// limit).
const maxLinks = 40

// fdPath matches the names of descriptors the process holds.
var fdPath = regexp.MustCompile(`^/(?:dev/(?:std(?:in|out|err)|fd/(\d+))|proc/(self|thread-self|\d+)/fd/(\d+))$`)

// descriptor reports whether an absolute, clean path names a descriptor of
// this process, and which.
func descriptor(p string) (int, bool) {
	m := fdPath.FindStringSubmatch(p)
	switch {
	case m == nil:
		return 0, false
	case m[1] != "":
		n, err := strconv.Atoi(m[1])
		return n, err == nil
	case m[3] != "":
		if m[2] != "self" && m[2] != "thread-self" && m[2] != strconv.Itoa(os.Getpid()) {
			return 0, false // another process's descriptor: not ours to write
		}
		n, err := strconv.Atoi(m[3])
		return n, err == nil
	}
	return map[string]int{"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}[p], true
}

// Check settles how path is written and that it can be, before anything is
// produced. flag names the path in errors ("--output out.json: …").
func Check(flag, path string, o Options) (*Target, error) {
	t := &Target{Flag: flag, Path: path}
	fail := func(format string, args ...any) (*Target, error) {
		return nil, fmt.Errorf("%s: %s", t, fmt.Sprintf(format, args...))
	}
	if path == "" || path == "-" {
		return Stdout(flag), nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fail("%v", err)
	}
	for links := 0; ; links++ {
		if fd, ok := descriptor(abs); ok {
			return t.descriptor(fd)
		}
		if links > maxLinks {
			return fail("more than %d symbolic links (a loop?)", maxLinks)
		}
		dir, err := filepath.EvalSymlinks(filepath.Dir(abs))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && o.MakeDirs && links == 0 {
				return t.newIn(filepath.Dir(abs), o)
			}
			if errors.Is(err, fs.ErrNotExist) {
				return fail("directory %s does not exist", filepath.Dir(abs))
			}
			return fail("%v", unwrapPath(err))
		}
		abs = filepath.Join(dir, filepath.Base(abs))
		if fd, ok := descriptor(abs); ok {
			return t.descriptor(fd)
		}
		st, err := os.Lstat(abs)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			t.Kind, t.File = File, abs
			return t, probeDir(t, dir)
		case err != nil:
			return fail("%v", unwrapPath(err))
		}
		switch m := st.Mode(); {
		case m&fs.ModeSymlink != 0:
			if err := followable(abs, st, dir); err != nil {
				return fail("%v", err)
			}
			to, err := os.Readlink(abs)
			if err != nil {
				return fail("%v", unwrapPath(err))
			}
			if !filepath.IsAbs(to) {
				to = filepath.Join(dir, to)
			}
			abs = filepath.Clean(to)
		case m.IsRegular():
			t.Kind, t.File = File, abs
			return t, probeDir(t, dir)
		case m.IsDir():
			return fail("is a directory")
		case m&(fs.ModeDevice|fs.ModeCharDevice|fs.ModeNamedPipe) != 0:
			t.Kind, t.File, t.streamMode = Stream, abs, m.Type()
			if err := writable(abs); err != nil {
				return fail("%s is not writable: %v", abs, err)
			}
			return t, nil
		case m&fs.ModeSocket != 0:
			return fail("%s is a socket: rootwatch writes files, devices and named pipes", abs)
		default:
			return fail("%s is not a file, a device or a named pipe (%v)", abs, m.Type())
		}
	}
}

// descriptor checks that the process holds fd open for writing.
func (t *Target) descriptor(fd int) (*Target, error) {
	t.Kind, t.FD = Descriptor, fd
	if fd == 1 || fd == 2 {
		return t, nil // the caller's standard output and error writers
	}
	if err := writableFD(fd); err != nil {
		return nil, fmt.Errorf("%s: descriptor %d %v", t, fd, err)
	}
	return t, nil
}

// newIn is a file whose directory dir is missing: the nearest existing
// ancestor must be a directory a file can be created in.
func (t *Target) newIn(dir string, o Options) (*Target, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if errors.Is(err, fs.ErrNotExist) && d != filepath.Dir(d) {
			missing = append([]string{d}, missing...)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", t, unwrapPath(err))
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("%s: %s is not a directory", t, d)
		}
		real, err := filepath.EvalSymlinks(d)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", t, unwrapPath(err))
		}
		for i, m := range missing {
			missing[i] = filepath.Join(real, strings.TrimPrefix(m, d))
		}
		if len(missing) == 0 {
			return nil, fmt.Errorf("%s: directory %s cannot be resolved", t, dir)
		}
		t.Kind, t.mkdirs, t.dirPerm = File, missing, o.DirPerm
		t.File = filepath.Join(missing[len(missing)-1], filepath.Base(t.abs()))
		if t.dirPerm == 0 {
			t.dirPerm = 0o700
		}
		return t, probeDir(t, real)
	}
}

func (t *Target) abs() string {
	a, _ := filepath.Abs(t.Path)
	return a
}

// probeDir creates and removes a file in dir: the honest test that the
// output can be staged there.
func probeDir(t *Target, dir string) error {
	f, err := os.CreateTemp(dir, ".rootwatch-probe-*")
	if err != nil {
		return fmt.Errorf("%s: cannot create a file in %s: %v", t, dir, unwrapPath(err))
	}
	f.Close()
	if err := os.Remove(f.Name()); err != nil {
		return fmt.Errorf("%s: %v", t, err)
	}
	return nil
}

// unwrapPath drops the *PathError wrapping whose path the message names
// already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

// Batch stages the outputs of one run and commits them together: a run
// that fails before Commit, or whose Commit fails, changes no file.
//
// Add writes a File target's bytes to a temporary file beside it at once;
// Streams and Descriptors are remembered. Commit then writes the streams
// and descriptors in the order they were added (nothing can be taken back
// from a pipe or a terminal, so they come only after every file was staged
// whole) and renames the staged files into place, restoring the files it
// had replaced if a rename fails.
type Batch struct {
	// Stdout and Stderr are descriptors 1 and 2 (default os.Stdout and
	// os.Stderr).
	Stdout, Stderr io.Writer
	// Notice, when set, is told when a write waits, e.g. for a named
	// pipe's reader.
	Notice func(string)

	staged   []*staged
	madeDirs []string
	done     bool
	rename   func(from, to string) error // os.Rename; replaced in tests
}

type staged struct {
	t     *Target
	tmp   string
	perm  fs.FileMode
	write func(io.Writer) error
}

// Add stages write's output for t, with permissions perm for a new or
// replaced file (0600 unless the file is meant to be shared).
func (b *Batch) Add(t *Target, perm fs.FileMode, write func(io.Writer) error) error {
	if b.done {
		return fmt.Errorf("%s: the batch was already committed or abandoned", t)
	}
	s := &staged{t: t, perm: perm, write: write}
	if t.Kind == File {
		if err := b.stage(s); err != nil {
			return err
		}
	}
	b.staged = append(b.staged, s)
	return nil
}

func (b *Batch) stage(s *staged) (err error) {
	for _, d := range s.t.mkdirs {
		if err := os.Mkdir(d, s.t.dirPerm); err == nil {
			b.madeDirs = append(b.madeDirs, d)
		} else if !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s: %v", s.t, unwrapPath(err))
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.t.File), "."+filepath.Base(s.t.File)+".*.tmp")
	if err != nil {
		return fmt.Errorf("%s: %v", s.t, unwrapPath(err))
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w := bufio.NewWriterSize(tmp, 64<<10)
	if err := s.write(w); err != nil {
		return fmt.Errorf("write %s: %w", s.t, err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write %s: %v", s.t, unwrapPath(err))
	}
	if err := tmp.Chmod(s.perm); err != nil {
		return fmt.Errorf("write %s: %v", s.t, unwrapPath(err))
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %v", s.t, unwrapPath(err))
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %v", s.t, unwrapPath(err))
	}
	s.tmp = tmp.Name()
	return nil
}

// Abort removes what the batch staged (temporary files, directories it
// made). It does nothing after Commit, so it can be deferred.
func (b *Batch) Abort() {
	if b.done {
		return
	}
	b.done = true
	b.cleanup()
}

func (b *Batch) cleanup() {
	for _, s := range b.staged {
		if s.tmp != "" {
			os.Remove(s.tmp)
		}
	}
	for i := len(b.madeDirs) - 1; i >= 0; i-- {
		os.Remove(b.madeDirs[i]) // only when empty: nothing else is lost
	}
}

// Commit writes the streams and descriptors, then renames every staged
// file into place. On error nothing was renamed (or what was has been put
// back), the temporary files are removed, and the error says so.
func (b *Batch) Commit(ctx context.Context) error {
	if b.done {
		return errors.New("the batch was already committed or abandoned")
	}
	defer b.Abort()
	// A file that became something else since it was checked is not
	// renamed over.
	for _, s := range b.staged {
		if s.t.Kind != File {
			continue
		}
		if st, err := os.Lstat(s.t.File); err == nil && !st.Mode().IsRegular() {
			return fmt.Errorf("%s: %s is no longer a regular file (%v) since it was checked: nothing was written", s.t, s.t.File, st.Mode().Type())
		}
	}
	for _, s := range b.staged {
		if s.t.Kind == File {
			continue
		}
		if err := b.writeStream(ctx, s); err != nil {
			return fmt.Errorf("%w; no file was changed", err)
		}
	}
	return b.renameAll()
}

// renameAll renames the staged files into place. Each file it replaces is
// first linked to a backup name beside it, so that a later failed rename
// can put the earlier ones back.
func (b *Batch) renameAll() error {
	rename := b.rename
	if rename == nil {
		rename = os.Rename
	}
	type done struct {
		s       *staged
		backup  string
		existed bool
	}
	var renamed []done
	var firstErr error
	for _, s := range b.staged {
		if s.t.Kind != File {
			continue
		}
		d := done{s: s}
		if _, err := os.Lstat(s.t.File); err == nil {
			d.existed = true
			if err := os.Link(s.t.File, s.tmp+".old"); err == nil {
				d.backup = s.tmp + ".old"
			}
		}
		if err := rename(s.tmp, s.t.File); err != nil {
			if d.backup != "" {
				os.Remove(d.backup)
			}
			firstErr = fmt.Errorf("write %s: %v", s.t, unwrapLink(err))
			break
		}
		s.tmp = ""
		renamed = append(renamed, d)
	}
	if firstErr == nil {
		for _, d := range renamed {
			if d.backup != "" {
				os.Remove(d.backup)
			}
		}
		b.done = true
		return nil
	}
	var lost []string
	for i := len(renamed) - 1; i >= 0; i-- {
		d := renamed[i]
		var err error
		switch {
		case d.backup != "":
			err = os.Rename(d.backup, d.s.t.File)
		case !d.existed:
			err = os.Remove(d.s.t.File)
		default:
			err = errors.New("no backup")
		}
		if err != nil {
			lost = append(lost, d.s.t.String())
		}
	}
	if len(lost) > 0 {
		return fmt.Errorf("%w; could not put back what these replaced: %s", firstErr, strings.Join(lost, ", "))
	}
	return fmt.Errorf("%w; no file was changed", firstErr)
}

// unwrapLink drops the *LinkError wrapping, whose temporary name means
// nothing to the reader.
func unwrapLink(err error) error {
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// writeStream writes a Stream or Descriptor target in place.
func (b *Batch) writeStream(ctx context.Context, s *staged) error {
	var w io.Writer
	switch {
	case s.t.Kind == Descriptor && s.t.FD == 1:
		w = b.Stdout
		if w == nil {
			w = os.Stdout
		}
	case s.t.Kind == Descriptor && s.t.FD == 2:
		w = b.Stderr
		if w == nil {
			w = os.Stderr
		}
	case s.t.Kind == Descriptor:
		f, err := dupFD(s.t.FD)
		if err != nil {
			return fmt.Errorf("%s: %v", s.t, err)
		}
		defer f.Close()
		w = f
	default:
		f, err := b.openStream(ctx, s.t)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := s.write(bw); err != nil {
		return fmt.Errorf("write %s: %w", s.t, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %v", s.t, unwrapPath(err))
	}
	return nil
}

// openStream opens a device or named pipe for writing, without creating or
// truncating it. A pipe with no reader yet is waited for (as a shell's >
// would), until ctx ends.
func (b *Batch) openStream(ctx context.Context, t *Target) (*os.File, error) {
	f, err := openWaiting(ctx, t.File, t.streamMode&fs.ModeNamedPipe != 0, func() {
		if b.Notice != nil {
			b.Notice(fmt.Sprintf("%s: waiting for a reader of the named pipe %s", t, t.File))
		}
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t, unwrapPath(err))
	}
	st, err := f.Stat()
	if err != nil || st.Mode().Type() != t.streamMode {
		f.Close()
		return nil, fmt.Errorf("%s: %s changed since it was checked: nothing was written to it", t, t.File)
	}
	return f, nil
}

// Write writes one target whole, as a batch of one.
func Write(ctx context.Context, t *Target, perm fs.FileMode, write func(io.Writer) error) error {
	var b Batch
	defer b.Abort()
	if err := b.Add(t, perm, write); err != nil {
		return err
	}
	return b.Commit(ctx)
}

// WriteFile checks path and writes it whole, for writers with one output.
func WriteFile(ctx context.Context, flag, path string, perm fs.FileMode, write func(io.Writer) error) error {
	t, err := Check(flag, path, Options{})
	if err != nil {
		return err
	}
	return Write(ctx, t, perm, write)
}
