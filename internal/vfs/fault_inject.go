package vfs

import (
	"fmt"
	"io"
)

// Op names an operation of a FaultFS or of one of its files, as reported to
// a Hook.
type Op int

// The operations a Hook sees. File.Seek and File.Name are not reported.
const (
	OpOpen     Op = iota + 1 // FS.OpenFile
	OpRead                   // File.ReadAt
	OpWrite                  // File.Write and File.WriteAt
	OpTruncate               // File.Truncate
	OpSync                   // File.Sync
	OpStat                   // FS.Stat and File.Size
	OpClose                  // File.Close
	OpMkdir                  // FS.MkdirAll
	OpReadDir                // FS.ReadDir
	OpRename                 // FS.Rename, reported with the old path
	OpRemove                 // FS.Remove and FS.RemoveAll
	OpSyncDir                // FS.SyncDir
)

var opNames = [...]string{"", "open", "read", "write", "truncate", "sync", "stat",
	"close", "mkdir", "readdir", "rename", "remove", "syncdir"}

func (op Op) String() string {
	if op > 0 && int(op) < len(opNames) {
		return opNames[op]
	}
	return fmt.Sprintf("Op(%d)", int(op))
}

// A Hook is called before every operation a FaultFS or one of its files
// attempts, with the operation and the cleaned absolute path it concerns
// ("/" joined to relative names). A non-nil return fails the operation with
// that error (wrapped in an *fs.PathError or *os.LinkError) and the
// operation changes nothing, except that a failed Close still closes the
// file, as close(2) does.
//
// A hook runs without the FaultFS's lock held, so it may call the FaultFS,
// for instance to inject a PowerLoss at an exact point, and it may run on
// several goroutines at once.
type Hook func(op Op, path string) error

// SetHook installs h, replacing any previous hook; nil removes it.
func (f *FaultFS) SetHook(h Hook) {
	f.mu.Lock()
	f.hook = h
	f.mu.Unlock()
}

// FailNextWrite makes the next Write or WriteAt on any file of f fail with
// err, storing nothing and not moving the offset. It replaces a pending
// FailNextWrite or TearNextWrite; a nil err cancels it.
func (f *FaultFS) FailNextWrite(err error) {
	f.mu.Lock()
	f.writeFault = nil
	if err != nil {
		f.writeFault = &writeFault{n: -1, err: err}
	}
	f.mu.Unlock()
}

// TearNextWrite makes the next Write or WriteAt on any file of f store only
// the first n bytes of its buffer (all of them if it is shorter) and return
// that count with err, as a write interrupted by a full disk does. Write
// advances the offset by the bytes stored. A nil err becomes
// io.ErrShortWrite, since a short write must report an error. It replaces a
// pending FailNextWrite or TearNextWrite.
func (f *FaultFS) TearNextWrite(n int, err error) {
	if err == nil {
		err = io.ErrShortWrite
	}
	f.mu.Lock()
	f.writeFault = &writeFault{n: max(n, 0), err: err}
	f.mu.Unlock()
}

// FailNextSync makes the next File.Sync or FS.SyncDir on f fail with err and
// make nothing durable; the current contents and names are kept. (Linux may
// instead drop the dirty pages after a failed fsync; callers should treat a
// sync error as fatal either way.) A nil err cancels a pending failure.
func (f *FaultFS) FailNextSync(err error) {
	f.mu.Lock()
	f.syncFault = err
	f.mu.Unlock()
}

// writeFault is a pending FailNextWrite (n < 0) or TearNextWrite.
type writeFault struct {
	n   int
	err error
}

// callHook runs the installed hook, if any, without holding f.mu.
func (f *FaultFS) callHook(op Op, path string) error {
	f.mu.RLock()
	h := f.hook
	f.mu.RUnlock()
	if h == nil {
		return nil
	}
	return h(op, path)
}

// takeWriteFault consumes the pending write fault. f.mu must be held.
func (f *FaultFS) takeWriteFault() *writeFault {
	wf := f.writeFault
	f.writeFault = nil
	return wf
}

// takeSyncFault consumes the pending sync fault. f.mu must be held.
func (f *FaultFS) takeSyncFault() error {
	err := f.syncFault
	f.syncFault = nil
	return err
}
