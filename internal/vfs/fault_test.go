package vfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// newFaultFS returns a FaultFS holding the durable directory /data.
func newFaultFS(t *testing.T) (*FaultFS, string) {
	t.Helper()
	fsys := NewFaultFS()
	if err := fsys.MkdirAll("/data", 0o755); err != nil {
		t.Fatal(err)
	}
	return fsys, "/data"
}

func mustWrite(t *testing.T, f File, data string) {
	t.Helper()
	if _, err := f.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
}

func mustSync(t *testing.T, f File) {
	t.Helper()
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}

func mustSyncDir(t *testing.T, fsys FS, dir string) {
	t.Helper()
	if err := fsys.SyncDir(dir); err != nil {
		t.Fatal(err)
	}
}

// durableFile makes name hold data, contents and name both synced.
func durableFile(t *testing.T, fsys *FaultFS, name, data string) {
	t.Helper()
	f := create(t, fsys, name)
	mustWrite(t, f, data)
	mustSync(t, f)
	mustSyncDir(t, fsys, "/data")
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestFaultFS_Conformance(t *testing.T) {
	runConformance(t, func(t *testing.T) (FS, string) { return newFaultFS(t) })
}

func TestFaultFS_RelativePathsShareRoot(t *testing.T) {
	fsys := NewFaultFS()
	if err := fsys.MkdirAll("a/b", 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, fsys, "./a/b/../b/f", "x")
	wantContents(t, fsys, "/a/b/f", "x")
	entries, err := fsys.ReadDir(".")
	if err != nil || len(entries) != 1 || entries[0].Name() != "a" {
		t.Fatalf("ReadDir(.) = %v, %v; want [a]", entries, err)
	}
	if got := fsys.Files(); !slices.Equal(got, []string{"/a/b/f"}) {
		t.Fatalf("Files() = %q", got)
	}
}

func TestFaultFS_RejectsAppendAndDirectoryOpen(t *testing.T) {
	fsys, dir := newFaultFS(t)
	_, err := fsys.OpenFile(dir+"/f", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	wantErrIs(t, "O_APPEND", err, syscall.EINVAL)
	_, err = fsys.OpenFile(dir, os.O_RDONLY, 0)
	wantErrIs(t, "open directory", err, syscall.EISDIR)
	_, err = fsys.OpenFile("/", os.O_RDWR, 0)
	wantErrIs(t, "open root", err, syscall.EISDIR)
}

func TestFaultFS_FailNextWrite(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(f File) (int, error)
	}{
		{"Write", func(f File) (int, error) { return f.Write([]byte("def")) }},
		{"WriteAt", func(f File) (int, error) { return f.WriteAt([]byte("def"), 3) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys, dir := newFaultFS(t)
			f := create(t, fsys, dir+"/f")
			mustWrite(t, f, "abc")
			fsys.FailNextWrite(syscall.ENOSPC)
			n, err := tc.write(f)
			wantErrIs(t, "failed write", err, syscall.ENOSPC)
			if n != 0 {
				t.Fatalf("failed write reported %d bytes", n)
			}
			wantContents(t, fsys, dir+"/f", "abc")
			mustWrite(t, f, "DEF") // the fault is spent; the offset did not move
			wantContents(t, fsys, dir+"/f", "abcDEF")
		})
	}
}

func TestFaultFS_TearNextWrite(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n       int
		err     error
		wantErr error
		want    string
	}{
		{"Partial", 2, syscall.EIO, syscall.EIO, "abcde"},
		{"Nothing", 0, syscall.ENOSPC, syscall.ENOSPC, "abc"},
		{"NilErrIsShortWrite", 1, nil, io.ErrShortWrite, "abcd"},
		{"LongerThanWrite", 10, syscall.EIO, syscall.EIO, "abcdef"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys, dir := newFaultFS(t)
			f := create(t, fsys, dir+"/f")
			mustWrite(t, f, "abc")
			fsys.TearNextWrite(tc.n, tc.err)
			n, err := f.Write([]byte("def"))
			wantErrIs(t, "torn write", err, tc.wantErr)
			if n != len(tc.want)-3 {
				t.Fatalf("torn write reported %d bytes, want %d", n, len(tc.want)-3)
			}
			wantContents(t, fsys, dir+"/f", tc.want)
			if off, _ := f.Seek(0, io.SeekCurrent); off != int64(len(tc.want)) {
				t.Fatalf("offset %d after torn write, want %d", off, len(tc.want))
			}
		})
	}
}

func TestFaultFS_FailNextSync(t *testing.T) {
	fsys, dir := newFaultFS(t)
	name := dir + "/f"
	f := create(t, fsys, name)
	mustWrite(t, f, "abc")

	fsys.FailNextSync(syscall.EIO)
	wantErrIs(t, "failed Sync", f.Sync(), syscall.EIO)
	if got := fsys.DurableSize(name); got != 0 {
		t.Fatalf("DurableSize after failed Sync = %d, want 0", got)
	}
	fsys.FailNextSync(syscall.EIO)
	wantErrIs(t, "failed SyncDir", fsys.SyncDir(dir), syscall.EIO)
	if got := fsys.DurableFiles(); len(got) != 0 {
		t.Fatalf("DurableFiles after failed SyncDir = %q, want none", got)
	}

	mustSync(t, f) // the faults are spent
	mustSyncDir(t, fsys, dir)
	if got := fsys.DurableSize(name); got != 3 {
		t.Fatalf("DurableSize = %d, want 3", got)
	}
	if got := fsys.DurableFiles(); !slices.Equal(got, []string{name}) {
		t.Fatalf("DurableFiles = %q, want [%s]", got, name)
	}
}

func TestFaultFS_HookFailsThirdIndexSync(t *testing.T) {
	fsys, dir := newFaultFS(t)
	var mu sync.Mutex
	indexSyncs := 0
	fsys.SetHook(func(op Op, path string) error {
		if op != OpSync || !strings.HasSuffix(path, ".index") {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		if indexSyncs++; indexSyncs == 3 {
			return syscall.EIO
		}
		return nil
	})
	log, index := create(t, fsys, dir+"/0.log"), create(t, fsys, dir+"/0.index")
	for i := 1; i <= 4; i++ {
		mustWrite(t, log, "batch")
		mustWrite(t, index, "entry")
		mustSync(t, log)
		err := index.Sync()
		if i == 3 {
			wantErrIs(t, "third index sync", err, syscall.EIO)
			if got := fsys.DurableSize(dir + "/0.index"); got != 10 {
				t.Fatalf("failed sync made %d bytes durable, want 10", got)
			}
		} else if err != nil {
			t.Fatalf("index sync %d: %v", i, err)
		}
	}
	fsys.SetHook(nil)
	mustSync(t, index)
}

func TestFaultFS_HookSeesEveryOperation(t *testing.T) {
	fsys, dir := newFaultFS(t)
	var got []string
	fsys.SetHook(func(op Op, path string) error {
		got = append(got, op.String()+" "+path)
		return nil
	})
	if err := WriteFileAtomic(fsys, dir, "cp", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(fsys, "data/cp"); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"open /data/cp.tmp", "write /data/cp.tmp", "sync /data/cp.tmp", "close /data/cp.tmp",
		"rename /data/cp.tmp", "syncdir /data",
		"open /data/cp", "stat /data/cp", "read /data/cp", "close /data/cp",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("hook saw\n%q\nwant\n%q", got, want)
	}
}

func TestFaultFS_HookErrorChangesNothing(t *testing.T) {
	fsys, dir := newFaultFS(t)
	durableFile(t, fsys, dir+"/f", "abc")
	f, err := fsys.OpenFile(dir+"/f", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fsys.SetHook(func(Op, string) error { return syscall.EROFS })
	for name, op := range map[string]func() error{
		"OpenFile": func() error { _, err := fsys.OpenFile(dir+"/g", os.O_CREATE|os.O_RDWR, 0o644); return err },
		"Write":    func() error { _, err := f.Write([]byte("x")); return err },
		"Truncate": func() error { return f.Truncate(0) },
		"Rename":   func() error { return fsys.Rename(dir+"/f", dir+"/h") },
		"Remove":   func() error { return fsys.Remove(dir + "/f") },
		"MkdirAll": func() error { return fsys.MkdirAll(dir+"/sub", 0o755) },
	} {
		wantErrIs(t, name, op(), syscall.EROFS)
	}
	fsys.SetHook(nil)
	if got := fsys.Files(); !slices.Equal(got, []string{dir + "/f"}) {
		t.Fatalf("Files() = %q, want just %s/f", got, dir)
	}
	wantContents(t, fsys, dir+"/f", "abc")
	if _, err := fsys.Stat(dir + "/sub"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Stat of a directory whose MkdirAll failed: %v", err)
	}
}

func TestFaultFS_HandlesDeadAfterCrashAndPowerLoss(t *testing.T) {
	for _, tc := range []struct {
		name  string
		crash func(*FaultFS)
	}{
		{"Crash", (*FaultFS).Crash},
		{"PowerLoss", func(fsys *FaultFS) { fsys.PowerLoss(nil) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys, dir := newFaultFS(t)
			durableFile(t, fsys, dir+"/f", "abc")
			f, err := fsys.OpenFile(dir+"/f", os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			fsys.FailNextWrite(syscall.EIO) // cancelled by the crash
			tc.crash(fsys)
			for _, op := range []struct {
				name string
				run  func() error
			}{
				{"ReadAt", func() error { _, err := f.ReadAt(make([]byte, 1), 0); return err }},
				{"Write", func() error { _, err := f.Write([]byte("x")); return err }},
				{"WriteAt", func() error { _, err := f.WriteAt([]byte("x"), 0); return err }},
				{"Seek", func() error { _, err := f.Seek(0, io.SeekStart); return err }},
				{"Truncate", func() error { return f.Truncate(0) }},
				{"Size", func() error { _, err := f.Size(); return err }},
				{"Sync", f.Sync},
				{"Close", f.Close}, // last: it releases the handle
			} {
				wantErrIs(t, op.name+" after "+tc.name, op.run(), ErrCrashed)
			}
			wantErrIs(t, "second Close", f.Close(), os.ErrClosed)
			g := create(t, fsys, dir+"/f") // a new boot works normally
			mustWrite(t, g, "new")
			wantContents(t, fsys, dir+"/f", "new")
		})
	}
}

func TestFaultFS_CrashKeepsUnsyncedState(t *testing.T) {
	fsys, dir := newFaultFS(t)
	durableFile(t, fsys, dir+"/a", "abc")
	f := create(t, fsys, dir+"/b")
	mustWrite(t, f, "unsynced")
	if err := fsys.Rename(dir+"/a", dir+"/c"); err != nil {
		t.Fatal(err)
	}
	fsys.Crash()
	if got, want := fsys.Files(), []string{dir + "/b", dir + "/c"}; !slices.Equal(got, want) {
		t.Fatalf("Files() after Crash = %q, want %q", got, want)
	}
	wantContents(t, fsys, dir+"/b", "unsynced")
	wantContents(t, fsys, dir+"/c", "abc")
}

// TestFaultFS_ConcurrentOpsAcrossPowerLoss runs writers and readers while the
// power fails; under -race it checks the FaultFS's locking, and that a dead
// handle fails only with ErrCrashed.
func TestFaultFS_ConcurrentOpsAcrossPowerLoss(t *testing.T) {
	fsys, dir := newFaultFS(t)
	durableFile(t, fsys, dir+"/f", "")
	w, err := fsys.OpenFile(dir+"/f", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	var once sync.Once
	start := func() { once.Do(func() { close(started) }) }
	var wg sync.WaitGroup
	wg.Go(func() {
		defer start() // even if the writer fails early
		for i := 0; ; i++ {
			_, err := w.Write([]byte("0123456789"))
			if err == nil && (i+1)%10 == 0 {
				err = w.Sync()
			}
			if i == 10 {
				start()
			}
			if err != nil {
				if !errors.Is(err, ErrCrashed) {
					t.Errorf("write: %v", err)
				}
				return
			}
		}
	})
	for range 3 {
		wg.Go(func() {
			buf := make([]byte, 10)
			for {
				_, err := w.ReadAt(buf, 0)
				if errors.Is(err, ErrCrashed) {
					return
				}
				if err != nil && err != io.EOF {
					t.Errorf("ReadAt: %v", err)
					return
				}
			}
		})
	}
	<-started
	fsys.PowerLoss(nil)
	wg.Wait()
	if size := fsys.DurableSize(dir + "/f"); size%100 != 0 || size == 0 {
		t.Fatalf("file holds %d bytes after power loss, want a positive multiple of 100", size)
	}
}
