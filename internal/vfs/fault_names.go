package vfs

import (
	"errors"
	"os"
	"strings"
	"syscall"
)

// Rename moves oldpath to newpath, atomically replacing a file (or an empty
// directory) there, like os.Rename. Until both directories are synced with
// SyncDir, a power loss reverts each of them on its own: the file may
// reappear under its old name, and a replaced file may come back.
func (f *FaultFS) Rename(oldpath, newpath string) error {
	op, np := absPath(oldpath), absPath(newpath)
	err := f.callHook(OpRename, op)
	if err == nil {
		f.mu.Lock()
		err = f.rename(op, np)
		f.mu.Unlock()
	}
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	return nil
}

// rename moves op to np. f.mu must be held.
func (f *FaultFS) rename(op, np string) error {
	if op == "/" || np == "/" {
		return syscall.EBUSY
	}
	od, ob, err := f.root.parent(op)
	if err != nil {
		return err
	}
	src := od.names[ob]
	if src == nil {
		return syscall.ENOENT
	}
	nd, nb, err := f.root.parent(np)
	if err != nil {
		return err
	}
	if src.dir && strings.HasPrefix(np, op+"/") {
		return syscall.EINVAL // into its own subtree
	}
	dst := nd.names[nb]
	switch {
	case dst == src:
		return nil
	case dst == nil:
	case src.dir && !dst.dir:
		return syscall.ENOTDIR
	case !src.dir && dst.dir:
		return syscall.EISDIR
	case dst.dir && len(dst.names) > 0:
		return syscall.ENOTEMPTY
	}
	delete(od.names, ob)
	nd.names[nb] = src
	return nil
}

// Remove deletes a file or an empty directory like os.Remove. The removal
// survives a power loss only after SyncDir of the parent directory; until
// then the name comes back with its durable contents.
func (f *FaultFS) Remove(name string) error {
	p := absPath(name)
	if err := f.callHook(OpRemove, p); err != nil {
		return pathErr("remove", name, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if p == "/" {
		return pathErr("remove", name, syscall.EBUSY)
	}
	d, base, err := f.root.parent(p)
	if err != nil {
		return pathErr("remove", name, err)
	}
	switch n := d.names[base]; {
	case n == nil:
		return pathErr("remove", name, syscall.ENOENT)
	case n.dir && len(n.names) > 0:
		return pathErr("remove", name, syscall.ENOTEMPTY)
	}
	delete(d.names, base)
	return nil
}

// RemoveAll deletes path and everything below it like os.RemoveAll; a
// missing path is not an error. Only the name in the parent directory is
// removed: until SyncDir of the parent, a power loss brings the whole tree
// back in its durable state.
func (f *FaultFS) RemoveAll(path string) error {
	if path == "" {
		return nil
	}
	p := absPath(path)
	if err := f.callHook(OpRemove, p); err != nil {
		return pathErr("removeall", path, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if p == "/" {
		return pathErr("removeall", path, syscall.EBUSY)
	}
	d, base, err := f.root.parent(p)
	if errors.Is(err, syscall.ENOENT) {
		return nil
	}
	if err != nil {
		return pathErr("removeall", path, err)
	}
	delete(d.names, base)
	return nil
}
