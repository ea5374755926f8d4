package vfs

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
)

// FaultFS is an FS held in memory that tracks, for every file and directory,
// both its current state and the state a power loss would leave behind, and
// that fails, tears or forgets operations on command. It is meant for tests
// of crash safety; see the package documentation for the model.
//
// Paths are cleaned with path/filepath, and relative paths are taken from
// the root: "a/b", "./a/b" and "/a/b" name the same file. A new FaultFS holds
// only the root directory. Errors carry the same syscall.Errno values the
// operating system would give (ENOENT, EEXIST, ENOTDIR, ENOTEMPTY, ...), so
// errors.Is(err, fs.ErrNotExist) and the like work as with OS.
//
// Differences from OS, all deliberate: directories cannot be opened with
// OpenFile (EISDIR); OpenFile rejects O_APPEND (EINVAL), which the FS
// contract leaves unsupported; SyncDir of a regular file fails (ENOTDIR);
// ModTime is always zero; permissions are recorded but not enforced.
//
// A FaultFS is safe for concurrent use, and so are its files. The zero value
// is not usable; call NewFaultFS.
type FaultFS struct {
	mu         sync.RWMutex
	root       *node
	boot       uint64 // bumped by Crash and PowerLoss; handles of older boots are dead
	hook       Hook
	writeFault *writeFault
	syncFault  error
}

// ErrCrashed is the error, wrapped in an *fs.PathError, of every operation
// on a File that was opened before the FaultFS's last Crash or PowerLoss.
var ErrCrashed = errors.New("file handle lost in a crash")

// NewFaultFS returns an empty FaultFS: just the root directory "/".
func NewFaultFS() *FaultFS { return &FaultFS{root: newDir(0o755)} }

var _ FS = (*FaultFS)(nil)

func pathErr(op, path string, err error) error {
	return &fs.PathError{Op: op, Path: path, Err: err}
}

// OpenFile opens name like os.OpenFile. A file it creates exists at once but
// survives a power loss only after SyncDir of its directory.
func (f *FaultFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	p := absPath(name)
	if err := f.callHook(OpOpen, p); err != nil {
		return nil, pathErr("open", name, err)
	}
	if flag&os.O_APPEND != 0 {
		return nil, pathErr("open", name, syscall.EINVAL)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.open(p, flag, perm)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	acc := flag & (os.O_WRONLY | os.O_RDWR)
	return &faultFile{
		fs: f, node: n, name: name, path: p, boot: f.boot,
		readable: acc != os.O_WRONLY,
		writable: acc != os.O_RDONLY,
	}, nil
}

// open finds or creates the file at p. f.mu must be held.
func (f *FaultFS) open(p string, flag int, perm os.FileMode) (*node, error) {
	create, excl := flag&os.O_CREATE != 0, flag&os.O_EXCL != 0
	if p == "/" {
		if create && excl {
			return nil, syscall.EEXIST
		}
		return nil, syscall.EISDIR
	}
	d, base, err := f.root.parent(p)
	if err != nil {
		return nil, err
	}
	n := d.names[base]
	switch {
	case n == nil && !create:
		return nil, syscall.ENOENT
	case n == nil:
		n = &node{perm: perm & fs.ModePerm}
		d.names[base] = n
		return n, nil
	case create && excl:
		return nil, syscall.EEXIST
	case n.dir:
		return nil, syscall.EISDIR
	}
	if flag&os.O_TRUNC != 0 {
		n.resize(0)
	}
	return n, nil
}

// MkdirAll creates path and any missing parents like os.MkdirAll. The
// directories it creates are durable at once, as if their parents had been
// synced; only names of files and renames need SyncDir.
func (f *FaultFS) MkdirAll(path string, perm os.FileMode) error {
	p := absPath(path)
	if err := f.callHook(OpMkdir, p); err != nil {
		return pathErr("mkdir", path, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	cur := f.root
	for _, c := range strings.Split(p, "/") {
		if c == "" {
			continue
		}
		next := cur.names[c]
		if next == nil {
			next = newDir(perm)
			cur.names[c] = next
			cur.durableNames[c] = next
		} else if !next.dir {
			return pathErr("mkdir", path, syscall.ENOTDIR)
		}
		cur = next
	}
	return nil
}

// ReadDir lists the directory name sorted by entry name. The entries are
// snapshots taken during the call.
func (f *FaultFS) ReadDir(name string) ([]os.DirEntry, error) {
	p := absPath(name)
	if err := f.callHook(OpReadDir, p); err != nil {
		return nil, pathErr("readdir", name, err)
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	d, err := f.root.walk(p)
	if err == nil && !d.dir {
		err = syscall.ENOTDIR
	}
	if err != nil {
		return nil, pathErr("readdir", name, err)
	}
	names := slices.Sorted(maps.Keys(d.names))
	out := make([]os.DirEntry, len(names))
	for i, nm := range names {
		out[i] = fs.FileInfoToDirEntry(d.names[nm].info(nm))
	}
	return out, nil
}

// Stat describes the file or directory name as it is now.
func (f *FaultFS) Stat(name string) (os.FileInfo, error) {
	p := absPath(name)
	if err := f.callHook(OpStat, p); err != nil {
		return nil, pathErr("stat", name, err)
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	n, err := f.root.walk(p)
	if err != nil {
		return nil, pathErr("stat", name, err)
	}
	return n.info(filepath.Base(p)), nil
}

// SyncDir makes the current entries of dir durable: files created, renamed
// into or removed from dir since its last SyncDir keep that state through a
// power loss. It does not sync the files' contents.
func (f *FaultFS) SyncDir(dir string) error {
	p := absPath(dir)
	if err := f.callHook(OpSyncDir, p); err != nil {
		return pathErr("syncdir", dir, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	d, err := f.root.walk(p)
	if err == nil && !d.dir {
		err = syscall.ENOTDIR
	}
	if err == nil {
		err = f.takeSyncFault()
	}
	if err != nil {
		return pathErr("syncdir", dir, err)
	}
	d.syncDir()
	return nil
}
