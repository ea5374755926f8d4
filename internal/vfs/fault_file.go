package vfs

import (
	"errors"
	"io"
	"io/fs"
	"syscall"
)

// maxFileSize bounds a FaultFS file, so that a wild offset in a test fails
// with EFBIG instead of exhausting memory.
const maxFileSize = 1 << 32

// faultFile is an open file of a FaultFS. Sync makes the contents durable
// for every handle of the same file. off and closed are guarded by the
// FaultFS's mutex; the other fields never change.
type faultFile struct {
	fs       *FaultFS
	node     *node
	name     string // as passed to OpenFile
	path     string // cleaned and absolute, for the hook
	boot     uint64
	readable bool
	writable bool

	off    int64
	closed bool
}

func (h *faultFile) Name() string { return h.name }

// usable reports why h cannot be used, if it cannot. f.mu must be held.
func (h *faultFile) usable(op string) error {
	switch {
	case h.closed:
		return pathErr(op, h.name, fs.ErrClosed)
	case h.boot != h.fs.boot:
		return pathErr(op, h.name, ErrCrashed)
	}
	return nil
}

// ReadAt reads like os.File.ReadAt: fewer than len(p) bytes come with
// io.EOF.
func (h *faultFile) ReadAt(p []byte, off int64) (int, error) {
	if err := h.fs.callHook(OpRead, h.path); err != nil {
		return 0, pathErr("read", h.name, err)
	}
	h.fs.mu.RLock()
	defer h.fs.mu.RUnlock()
	if err := h.usable("read"); err != nil {
		return 0, err
	}
	switch {
	case !h.readable:
		return 0, pathErr("read", h.name, syscall.EBADF)
	case off < 0:
		return 0, pathErr("readat", h.name, errors.New("negative offset"))
	case len(p) == 0:
		return 0, nil
	case off >= int64(len(h.node.data)):
		return 0, io.EOF
	}
	n := copy(p, h.node.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Write stores p at the offset and advances it by the bytes stored.
func (h *faultFile) Write(p []byte) (int, error) {
	if err := h.fs.callHook(OpWrite, h.path); err != nil {
		return 0, pathErr("write", h.name, err)
	}
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.usable("write"); err != nil {
		return 0, err
	}
	n, err := h.write(p, h.off)
	h.off += int64(n)
	return n, err
}

// WriteAt stores p at off, leaving the offset alone. Writing past the end
// fills the gap with zeros.
func (h *faultFile) WriteAt(p []byte, off int64) (int, error) {
	if err := h.fs.callHook(OpWrite, h.path); err != nil {
		return 0, pathErr("write", h.name, err)
	}
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.usable("write"); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, pathErr("writeat", h.name, errors.New("negative offset"))
	}
	return h.write(p, off)
}

// write stores p at off, applying a pending write fault. f.mu must be held.
func (h *faultFile) write(p []byte, off int64) (int, error) {
	if !h.writable {
		return 0, pathErr("write", h.name, syscall.EBADF)
	}
	if off+int64(len(p)) > maxFileSize {
		return 0, pathErr("write", h.name, syscall.EFBIG)
	}
	var err error
	if wf := h.fs.takeWriteFault(); wf != nil {
		if wf.n < 0 {
			return 0, pathErr("write", h.name, wf.err)
		}
		p = p[:min(wf.n, len(p))]
		err = pathErr("write", h.name, wf.err)
	}
	h.node.writeAt(p, int(off))
	return len(p), err
}

// Seek sets the offset of the next Write. An offset past the end is
// allowed; a negative one is not.
func (h *faultFile) Seek(offset int64, whence int) (int64, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.usable("seek"); err != nil {
		return 0, err
	}
	var base int64
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		base = h.off
	case io.SeekEnd:
		base = int64(len(h.node.data))
	default:
		return 0, pathErr("seek", h.name, syscall.EINVAL)
	}
	if base+offset < 0 {
		return 0, pathErr("seek", h.name, syscall.EINVAL)
	}
	h.off = base + offset
	return h.off, nil
}

// Truncate sets the length, zero-filling when it grows. The offset stays.
func (h *faultFile) Truncate(size int64) error {
	if err := h.fs.callHook(OpTruncate, h.path); err != nil {
		return pathErr("truncate", h.name, err)
	}
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.usable("truncate"); err != nil {
		return err
	}
	switch {
	case !h.writable || size < 0:
		return pathErr("truncate", h.name, syscall.EINVAL)
	case size > maxFileSize:
		return pathErr("truncate", h.name, syscall.EFBIG)
	}
	h.node.resize(int(size))
	return nil
}

// Size is the current length, synced or not.
func (h *faultFile) Size() (int64, error) {
	if err := h.fs.callHook(OpStat, h.path); err != nil {
		return 0, pathErr("stat", h.name, err)
	}
	h.fs.mu.RLock()
	defer h.fs.mu.RUnlock()
	if err := h.usable("stat"); err != nil {
		return 0, err
	}
	return int64(len(h.node.data)), nil
}

// Sync makes the file's current contents durable, whichever handle wrote
// them. It does not make the file's name durable; that takes SyncDir.
func (h *faultFile) Sync() error {
	if err := h.fs.callHook(OpSync, h.path); err != nil {
		return pathErr("sync", h.name, err)
	}
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.usable("sync"); err != nil {
		return err
	}
	if err := h.fs.takeSyncFault(); err != nil {
		return pathErr("sync", h.name, err)
	}
	h.node.sync()
	return nil
}

// Close releases the handle. Like close(2) it releases it even when it
// reports an error (from the hook, or ErrCrashed for a handle of an earlier
// boot); closing twice fails with fs.ErrClosed.
func (h *faultFile) Close() error {
	herr := h.fs.callHook(OpClose, h.path)
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	err := h.usable("close")
	if !h.closed && herr != nil && err == nil {
		err = pathErr("close", h.name, herr)
	}
	h.closed = true
	return err
}
