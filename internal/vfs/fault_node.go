package vfs

import (
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// node is a regular file or a directory of a FaultFS. All fields are guarded
// by the FaultFS's mutex.
type node struct {
	dir  bool
	perm fs.FileMode

	// Regular files. data and durable never share a backing array, and
	// data[:synced] equals durable[:synced], so Sync copies only what
	// changed since the previous one.
	data    []byte
	durable []byte
	synced  int

	// Directories: the current entries and the entries as of the last
	// SyncDir.
	names        map[string]*node
	durableNames map[string]*node
}

func newDir(perm fs.FileMode) *node {
	return &node{
		dir:          true,
		perm:         perm & fs.ModePerm,
		names:        map[string]*node{},
		durableNames: map[string]*node{},
	}
}

// resize sets the file's length, zeroing any bytes it exposes.
func (n *node) resize(size int) {
	n.synced = min(n.synced, size)
	if size <= len(n.data) {
		n.data = n.data[:size]
		return
	}
	old := len(n.data)
	n.data = slices.Grow(n.data, size-old)[:size]
	clear(n.data[old:])
}

// writeAt stores p at off, growing the file as needed.
func (n *node) writeAt(p []byte, off int) {
	if len(p) == 0 {
		return
	}
	if end := off + len(p); end > len(n.data) {
		n.resize(end)
	}
	copy(n.data[off:], p)
	n.synced = min(n.synced, off)
}

// sync makes the current contents durable.
func (n *node) sync() {
	keep := min(n.synced, len(n.durable))
	n.durable = append(n.durable[:keep], n.data[keep:]...)
	n.synced = len(n.data)
}

// syncDir makes the current entries durable.
func (n *node) syncDir() { n.durableNames = maps.Clone(n.names) }

// reset makes contents the file's current and durable contents, as after a
// reboot. It takes ownership of contents.
func (n *node) reset(contents []byte) {
	n.data = contents
	n.durable = slices.Clone(contents)
	n.synced = len(contents)
}

// absPath cleans name and roots it at "/": a FaultFS's working directory is
// its root.
func absPath(name string) string {
	return filepath.Clean("/" + name)
}

// walk resolves a cleaned absolute path through the current entries.
func (n *node) walk(p string) (*node, error) {
	cur := n
	for _, c := range strings.Split(p, "/") {
		if c == "" {
			continue
		}
		if !cur.dir {
			return nil, syscall.ENOTDIR
		}
		next := cur.names[c]
		if next == nil {
			return nil, syscall.ENOENT
		}
		cur = next
	}
	return cur, nil
}

// parent resolves the directory holding p and p's last element. The root
// has no parent; callers handle it first.
func (n *node) parent(p string) (*node, string, error) {
	d, err := n.walk(filepath.Dir(p))
	if err != nil {
		return nil, "", err
	}
	if !d.dir {
		return nil, "", syscall.ENOTDIR
	}
	return d, filepath.Base(p), nil
}

// info describes n under the given name. It is a snapshot: later changes to
// the file are not reflected.
func (n *node) info(name string) fs.FileInfo {
	fi := fileInfo{name: name, mode: n.perm, size: int64(len(n.data))}
	if n.dir {
		fi.mode |= fs.ModeDir
		fi.size = 0
	}
	return fi
}

// fileInfo is a FaultFS's fs.FileInfo. ModTime is always the zero time: a
// FaultFS has no clock.
type fileInfo struct {
	name string
	mode fs.FileMode
	size int64
}

func (fi fileInfo) Name() string       { return fi.name }
func (fi fileInfo) Size() int64        { return fi.size }
func (fi fileInfo) Mode() fs.FileMode  { return fi.mode }
func (fi fileInfo) ModTime() time.Time { return time.Time{} }
func (fi fileInfo) IsDir() bool        { return fi.mode.IsDir() }
func (fi fileInfo) Sys() any           { return nil }
