package vfs

import (
	"os"

	"golang.org/x/sys/unix"
)

// OS is the operating system's file system.
var OS FS = osFS{}

type osFS struct{}

func (osFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) MkdirAll(path string, perm os.FileMode) error { return os.MkdirAll(path, perm) }
func (osFS) ReadDir(name string) ([]os.DirEntry, error)   { return os.ReadDir(name) }
func (osFS) Stat(name string) (os.FileInfo, error)        { return os.Stat(name) }
func (osFS) Rename(oldpath, newpath string) error         { return os.Rename(oldpath, newpath) }
func (osFS) Remove(name string) error                     { return os.Remove(name) }
func (osFS) RemoveAll(path string) error                  { return os.RemoveAll(path) }

func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// osFile is an *os.File with fdatasync for Sync.
type osFile struct{ *os.File }

// OSFile returns the underlying file, for sendfile(2).
func (f osFile) OSFile() *os.File { return f.File }

func (f osFile) Size() (int64, error) {
	fi, err := f.File.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// DropCache implements CacheDropper with posix_fadvise(POSIX_FADV_DONTNEED).
func (f osFile) DropCache(off, n int64) error {
	rc, err := f.File.SyscallConn()
	if err != nil {
		return err
	}
	var aerr error
	if err := rc.Control(func(fd uintptr) { aerr = unix.Fadvise(int(fd), off, n, unix.FADV_DONTNEED) }); err != nil {
		return err
	}
	return aerr
}

// StartWriteback implements WritebackStarter with
// sync_file_range(SYNC_FILE_RANGE_WRITE).
func (f osFile) StartWriteback(off, n int64) error {
	rc, err := f.File.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE) }); err != nil {
		return err
	}
	return serr
}

// Sync uses fdatasync: the log never depends on mtime, and the file size
// change that an append makes is data-sync'ed metadata. The descriptor is
// used through SyscallConn so that a concurrent Close cannot hand its number
// to another file mid-call, and a closed file fails with os.ErrClosed like
// the other methods.
func (f osFile) Sync() error {
	rc, err := f.File.SyscallConn()
	if err != nil {
		return &os.PathError{Op: "fdatasync", Path: f.File.Name(), Err: err}
	}
	var serr error
	cerr := rc.Control(func(fd uintptr) {
		for {
			if serr = unix.Fdatasync(int(fd)); serr != unix.EINTR {
				return
			}
		}
	})
	switch {
	case cerr != nil: // Control fails only once the file is closed
		return &os.PathError{Op: "fdatasync", Path: f.File.Name(), Err: os.ErrClosed}
	case serr != nil:
		return &os.PathError{Op: "fdatasync", Path: f.File.Name(), Err: serr}
	}
	return nil
}
