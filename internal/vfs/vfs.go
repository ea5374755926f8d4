package vfs

import (
	"io"
	"os"
)

// FS is the subset of a file system the storage engine uses.
type FS interface {
	// OpenFile opens name with os.OpenFile's flags. O_APPEND is not
	// supported; writers track their own position.
	OpenFile(name string, flag int, perm os.FileMode) (File, error)
	// MkdirAll creates a directory and its parents.
	MkdirAll(path string, perm os.FileMode) error
	// ReadDir lists a directory sorted by name.
	ReadDir(name string) ([]os.DirEntry, error)
	// Stat describes a file or directory.
	Stat(name string) (os.FileInfo, error)
	// Rename atomically replaces newpath with oldpath.
	Rename(oldpath, newpath string) error
	// Remove deletes a file or an empty directory.
	Remove(name string) error
	// RemoveAll deletes a directory tree.
	RemoveAll(path string) error
	// SyncDir makes the names in dir (creates, renames, removes) durable.
	SyncDir(dir string) error
}

// File is an open file.
type File interface {
	io.ReaderAt
	io.Writer // writes at the file's current offset
	io.WriterAt
	io.Closer
	// Name is the name the file was opened with.
	Name() string
	// Size is the file's current length.
	Size() (int64, error)
	// Truncate changes the file's length. It does not move the write offset;
	// callers Seek afterwards.
	Truncate(size int64) error
	// Seek sets the offset for the next Write.
	Seek(offset int64, whence int) (int64, error)
	// Sync makes the file's contents durable (fdatasync on Linux).
	Sync() error
}

// CacheDropper is implemented by files whose cached pages can be dropped:
// DropCache tells the kernel that the bytes [off, off+n) will not be read
// soon, so their clean pages leave the page cache (posix_fadvise
// POSIX_FADV_DONTNEED). It is advice: contents never change, dirty pages
// are left alone, and an error only means the advice was not taken.
type CacheDropper interface {
	DropCache(off, n int64) error
}

// WritebackStarter is implemented by files that can start writing their
// dirty pages to the device without waiting for it (sync_file_range with
// SYNC_FILE_RANGE_WRITE), so that a later Sync has less left to wait for.
// It is advice: it makes nothing durable (only Sync does), and an error
// only means the advice was not taken.
type WritebackStarter interface {
	StartWriteback(off, n int64) error
}

// ReadFile reads a whole file.
func ReadFile(fs FS, name string) ([]byte, error) {
	f, err := fs.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(f)
}

// ReadAll reads the whole of an open file from its start.
func ReadAll(f File) ([]byte, error) {
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	buf := make([]byte, size)
	n, err := f.ReadAt(buf, 0)
	if err == io.EOF && int64(n) == size {
		err = nil
	}
	return buf[:n], err
}

// WriteFileAtomic replaces name with data so that after a crash the file holds
// either the old or the new contents: it writes name+".tmp", syncs it, renames
// it over name and syncs the directory.
func WriteFileAtomic(fs FS, dir, name string, data []byte) error {
	path := dir + string(os.PathSeparator) + name
	tmp := path + ".tmp"
	f, err := fs.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := fs.Rename(tmp, path); err != nil {
		return err
	}
	return fs.SyncDir(dir)
}
