//go:build unix

package outfile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// writable asks the kernel whether the effective user may write path
// (a device or a named pipe; opening one to find out could have effects).
func writable(path string) error {
	return unix.Faccessat(unix.AT_FDCWD, path, unix.W_OK, unix.AT_EACCESS)
}

// writableFD checks that fd is open, and not read-only.
func writableFD(fd int) error {
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return fmt.Errorf("is not open (%v)", err)
	}
	if fl&unix.O_ACCMODE == unix.O_RDONLY {
		return errors.New("is open for reading only")
	}
	return nil
}

// dupFD is a File of its own over the descriptor fd, so that closing it
// leaves fd open for whoever gave it.
func dupFD(fd int) (*os.File, error) {
	d, err := unix.Dup(fd)
	if err != nil {
		return nil, fmt.Errorf("descriptor %d: %v", fd, err)
	}
	unix.CloseOnExec(d)
	return os.NewFile(uintptr(d), fmt.Sprintf("/dev/fd/%d", fd)), nil
}

// followable refuses a symbolic link that Linux's fs.protected_symlinks
// would not follow: one in a sticky, world-writable directory (like /tmp)
// owned by neither the caller nor that directory's owner. Anyone could
// have planted it there to make a privileged run write over a file of its
// choosing.
func followable(link string, st fs.FileInfo, dir string) error {
	lst, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	dst, err := os.Stat(dir)
	if err != nil {
		return err
	}
	ds, ok := dst.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	shared := dst.Mode()&fs.ModeSticky != 0 && dst.Mode().Perm()&0o002 != 0
	if shared && lst.Uid != uint32(os.Geteuid()) && lst.Uid != ds.Uid {
		return fmt.Errorf("%s is a symbolic link owned by user %d in the shared directory %s: it is not followed (as Linux's protected_symlinks would not); give its target instead", link, lst.Uid, dir)
	}
	return nil
}

// openWaiting opens path for writing, never creating or truncating it. A
// named pipe without a reader is waited for until ctx ends, after wait is
// called once.
func openWaiting(ctx context.Context, path string, fifo bool, wait func()) (*os.File, error) {
	if !fifo {
		return os.OpenFile(path, os.O_WRONLY, 0)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|unix.O_NONBLOCK, 0)
	if err == nil {
		return f, nil // Go's poller waits for the reader on each write
	}
	if !errors.Is(err, unix.ENXIO) {
		return nil, err
	}
	wait()
	type opened struct {
		f   *os.File
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		ch <- opened{f, err}
	}()
	select {
	case o := <-ch:
		return o.f, o.err
	case <-ctx.Done():
		// Opening the pipe for reading releases the blocked open.
		if r, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK, 0); err == nil {
			if o := <-ch; o.f != nil {
				o.f.Close()
			}
			r.Close()
		}
		return nil, ctx.Err()
	}
}
