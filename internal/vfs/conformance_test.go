package vfs

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// newFSFunc returns a file system and an empty directory in it.
type newFSFunc func(t *testing.T) (FS, string)

// conformance is the behaviour every FS shares, checked on OS and FaultFS
// alike.
var conformance = []struct {
	name string
	run  func(t *testing.T, fsys FS, dir string)
}{
	{"OpenMissingIsNotExist", testOpenMissing},
	{"CreateExclOnExistingIsExist", testCreateExcl},
	{"CreateInMissingDirIsNotExist", testCreateInMissingDir},
	{"TruncOnOpenEmptiesFile", testTruncOnOpen},
	{"WriteAdvancesOffsetWriteAtDoesNot", testWriteOffsets},
	{"WriteAtPastEndZeroFills", testWriteAtPastEnd},
	{"ReadAtAtAndPastEOF", testReadAtEOF},
	{"Seek", testSeek},
	{"TruncateKeepsOffset", testTruncate},
	{"ReadOnlyRejectsWrites", testReadOnly},
	{"WriteOnlyRejectsReads", testWriteOnly},
	{"RenameReplacesTarget", testRename},
	{"Remove", testRemove},
	{"RemoveAll", testRemoveAll},
	{"ReadDirSortedByName", testReadDir},
	{"MkdirAllAndStat", testMkdirAll},
	{"ClosedHandleIsErrClosed", testClosedHandle},
	{"WriteFileAtomicAndReadFile", testWriteFileAtomic},
	{"SyncAndSyncDir", testSync},
	{"ConcurrentReadAtDuringWrites", testConcurrentReadAt},
}

func runConformance(t *testing.T, newFS newFSFunc) {
	for _, tc := range conformance {
		t.Run(tc.name, func(t *testing.T) {
			fsys, dir := newFS(t)
			tc.run(t, fsys, dir)
		})
	}
}

// create opens name for reading and writing, creating or truncating it, and
// closes it when the test ends.
func create(t *testing.T, fsys FS, name string) File {
	t.Helper()
	f, err := fsys.OpenFile(name, os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func writeFile(t *testing.T, fsys FS, name, data string) {
	t.Helper()
	f := create(t, fsys, name)
	if _, err := f.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func wantContents(t *testing.T, fsys FS, name, want string) {
	t.Helper()
	got, err := ReadFile(fsys, name)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("%s holds %q, want %q", name, got, want)
	}
}

func wantErrIs(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

func testOpenMissing(t *testing.T, fsys FS, dir string) {
	_, err := fsys.OpenFile(filepath.Join(dir, "missing"), os.O_RDONLY, 0)
	wantErrIs(t, "open missing", err, fs.ErrNotExist)
	_, err = fsys.Stat(filepath.Join(dir, "missing"))
	wantErrIs(t, "stat missing", err, fs.ErrNotExist)
	_, err = ReadFile(fsys, filepath.Join(dir, "missing"))
	wantErrIs(t, "ReadFile missing", err, fs.ErrNotExist)
}

func testCreateExcl(t *testing.T, fsys FS, dir string) {
	name := filepath.Join(dir, "f")
	writeFile(t, fsys, name, "x")
	_, err := fsys.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o644)
	wantErrIs(t, "O_EXCL", err, fs.ErrExist)
}

func testCreateInMissingDir(t *testing.T, fsys FS, dir string) {
	_, err := fsys.OpenFile(filepath.Join(dir, "nodir", "f"), os.O_CREATE|os.O_RDWR, 0o644)
	wantErrIs(t, "create in missing dir", err, fs.ErrNotExist)
}

func testTruncOnOpen(t *testing.T, fsys FS, dir string) {
	name := filepath.Join(dir, "f")
	writeFile(t, fsys, name, "hello")
	f := create(t, fsys, name)
	if size, err := f.Size(); err != nil || size != 0 {
		t.Fatalf("Size after O_TRUNC = %d, %v; want 0", size, err)
	}
}

func testWriteOffsets(t *testing.T, fsys FS, dir string) {
	name := filepath.Join(dir, "f")
	f := create(t, fsys, name)
	for _, step := range []struct {
		at   int64 // -1: Write at the offset
		data string
	}{{-1, "ab"}, {-1, "cd"}, {1, "X"}, {-1, "e"}, {0, "A"}} {
		var err error
		if step.at < 0 {
			_, err = f.Write([]byte(step.data))
		} else {
			_, err = f.WriteAt([]byte(step.data), step.at)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if f.Name() != name {
		t.Errorf("Name() = %q, want %q", f.Name(), name)
	}
	wantContents(t, fsys, name, "AXcde")
}

func testWriteAtPastEnd(t *testing.T, fsys FS, dir string) {
	name := filepath.Join(dir, "f")
	f := create(t, fsys, name)
	if _, err := f.WriteAt([]byte("x"), 3); err != nil {
		t.Fatal(err)
	}
	wantContents(t, fsys, name, "\x00\x00\x00x")
	if _, err := f.WriteAt([]byte("x"), -1); err == nil {
		t.Fatal("WriteAt at a negative offset succeeded")
	}
}

func testReadAtEOF(t *testing.T, fsys FS, dir string) {
	name := filepath.Join(dir, "f")
	writeFile(t, fsys, name, "hello")
	f, err := fsys.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tc := range []struct {
		off     int64
		len     int
		want    string
		wantErr error
	}{
		{0, 5, "hello", nil},
		{1, 3, "ell", nil},
		{3, 5, "lo", io.EOF},
		{5, 1, "", io.EOF},
		{9, 1, "", io.EOF},
		{9, 0, "", nil},
	} {
		buf := make([]byte, tc.len)
		n, err := f.ReadAt(buf, tc.off)
		if string(buf[:n]) != tc.want || err != tc.wantErr {
			t.Errorf("ReadAt(len %d, off %d) = %q, %v; want %q, %v",
				tc.len, tc.off, buf[:n], err, tc.want, tc.wantErr)
		}
	}
	if _, err := f.ReadAt(make([]byte, 1), -1); err == nil {
		t.Error("ReadAt at a negative offset succeeded")
	}
}

func testSeek(t *testing.T, fsys FS, dir string) {
	name := filepath.Join(dir, "f")
	f := create(t, fsys, name)
	if _, err := f.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		off    int64
		whence int
		want   int64
	}{{1, io.SeekStart, 1}, {2, io.SeekCurrent, 3}, {-1, io.SeekEnd, 4}, {2, io.SeekEnd, 7}} {
		if got, err := f.Seek(tc.off, tc.whence); err != nil || got != tc.want {
			t.Fatalf("Seek(%d, %d) = %d, %v; want %d", tc.off, tc.whence, got, err, tc.want)
		}
	}
	if _, err := f.Seek(-1, io.SeekStart); err == nil {
		t.Fatal("Seek to a negative offset succeeded")
	}
	if _, err := f.Seek(4, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("O!")); err != nil {
		t.Fatal(err)
	}
	wantContents(t, fsys, name, "hellO!")
}

func testTruncate(t *testing.T, fsys FS, dir string) {
	name := filepath.Join(dir, "f")
	f := create(t, fsys, name)
	if _, err := f.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(2); err != nil {
		t.Fatal(err)
	}
	wantContents(t, fsys, name, "he")
	if _, err := f.Write([]byte("!")); err != nil { // still at offset 5
		t.Fatal(err)
	}
	wantContents(t, fsys, name, "he\x00\x00\x00!")
	if err := f.Truncate(8); err != nil {
		t.Fatal(err)
	}
	if size, err := f.Size(); err != nil || size != 8 {
		t.Fatalf("Size = %d, %v; want 8", size, err)
	}
	wantContents(t, fsys, name, "he\x00\x00\x00!\x00\x00")
	if err := f.Truncate(-1); err == nil {
		t.Fatal("Truncate(-1) succeeded")
	}
}

func testReadOnly(t *testing.T, fsys FS, dir string) {
	name := filepath.Join(dir, "f")
	writeFile(t, fsys, name, "hello")
	f, err := fsys.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write([]byte("x")); err == nil {
		t.Error("Write on O_RDONLY succeeded")
	}
	if _, err := f.WriteAt([]byte("x"), 0); err == nil {
		t.Error("WriteAt on O_RDONLY succeeded")
	}
	if err := f.Truncate(0); err == nil {
		t.Error("Truncate on O_RDONLY succeeded")
	}
	wantContents(t, fsys, name, "hello")
}

func testWriteOnly(t *testing.T, fsys FS, dir string) {
	f, err := fsys.OpenFile(filepath.Join(dir, "f"), os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadAt(make([]byte, 1), 0); err == nil || err == io.EOF {
		t.Fatalf("ReadAt on O_WRONLY = %v, want an error", err)
	}
}

func testRename(t *testing.T, fsys FS, dir string) {
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	writeFile(t, fsys, a, "old")
	writeFile(t, fsys, b, "new")
	if err := fsys.Rename(b, a); err != nil {
		t.Fatal(err)
	}
	wantContents(t, fsys, a, "new")
	_, err := fsys.Stat(b)
	wantErrIs(t, "stat renamed-away name", err, fs.ErrNotExist)
	err = fsys.Rename(b, a)
	wantErrIs(t, "rename missing", err, fs.ErrNotExist)
}

func testRemove(t *testing.T, fsys FS, dir string) {
	sub := filepath.Join(dir, "sub")
	name := filepath.Join(sub, "f")
	if err := fsys.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, fsys, name, "x")
	if err := fsys.Remove(sub); err == nil {
		t.Fatal("Remove of a non-empty directory succeeded")
	}
	if err := fsys.Remove(name); err != nil {
		t.Fatal(err)
	}
	_, err := fsys.Stat(name)
	wantErrIs(t, "stat removed", err, fs.ErrNotExist)
	wantErrIs(t, "remove missing", fsys.Remove(name), fs.ErrNotExist)
	if err := fsys.Remove(sub); err != nil {
		t.Fatal(err)
	}
}

func testRemoveAll(t *testing.T, fsys FS, dir string) {
	sub := filepath.Join(dir, "sub")
	if err := fsys.MkdirAll(filepath.Join(sub, "deep"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, fsys, filepath.Join(sub, "deep", "f"), "x")
	if err := fsys.RemoveAll(sub); err != nil {
		t.Fatal(err)
	}
	_, err := fsys.Stat(sub)
	wantErrIs(t, "stat removed tree", err, fs.ErrNotExist)
	if err := fsys.RemoveAll(sub); err != nil {
		t.Fatalf("RemoveAll of a missing path: %v", err)
	}
}

func testReadDir(t *testing.T, fsys FS, dir string) {
	writeFile(t, fsys, filepath.Join(dir, "c"), "ccc")
	writeFile(t, fsys, filepath.Join(dir, "a"), "a")
	if err := fsys.MkdirAll(filepath.Join(dir, "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := fsys.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		name  string
		isDir bool
		size  int64
	}
	var got []entry
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		size := fi.Size()
		if e.IsDir() {
			size = 0 // directory sizes are the file system's business
		}
		got = append(got, entry{e.Name(), e.IsDir(), size})
	}
	want := []entry{{"a", false, 1}, {"b", true, 0}, {"c", false, 3}}
	if !slices.Equal(got, want) {
		t.Fatalf("ReadDir = %v, want %v", got, want)
	}
	_, err = fsys.ReadDir(filepath.Join(dir, "missing"))
	wantErrIs(t, "ReadDir missing", err, fs.ErrNotExist)
}

func testMkdirAll(t *testing.T, fsys FS, dir string) {
	deep := filepath.Join(dir, "x", "y", "z")
	for range 2 { // existing directories are fine
		if err := fsys.MkdirAll(deep, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := fsys.Stat(deep)
	if err != nil || !fi.IsDir() || fi.Name() != "z" {
		t.Fatalf("Stat(%s) = %v, %v; want directory z", deep, fi, err)
	}
	name := filepath.Join(deep, "f")
	writeFile(t, fsys, name, "four")
	fi, err = fsys.Stat(name)
	if err != nil || fi.IsDir() || fi.Size() != 4 || fi.Name() != "f" {
		t.Fatalf("Stat(%s) = %v, %v; want 4-byte file f", name, fi, err)
	}
	if err := fsys.MkdirAll(filepath.Join(name, "sub"), 0o755); err == nil {
		t.Fatal("MkdirAll through a file succeeded")
	}
}

func testClosedHandle(t *testing.T, fsys FS, dir string) {
	f := create(t, fsys, filepath.Join(dir, "f"))
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	ops := map[string]func() error{
		"ReadAt":   func() error { _, err := f.ReadAt(make([]byte, 1), 0); return err },
		"Write":    func() error { _, err := f.Write([]byte("x")); return err },
		"WriteAt":  func() error { _, err := f.WriteAt([]byte("x"), 0); return err },
		"Seek":     func() error { _, err := f.Seek(0, io.SeekStart); return err },
		"Truncate": func() error { return f.Truncate(0) },
		"Size":     func() error { _, err := f.Size(); return err },
		"Sync":     f.Sync,
		"Close":    f.Close,
	}
	for name, op := range ops {
		wantErrIs(t, name+" after Close", op(), os.ErrClosed)
	}
}

func testWriteFileAtomic(t *testing.T, fsys FS, dir string) {
	for _, data := range []string{"first", "second, longer", ""} {
		if err := WriteFileAtomic(fsys, dir, "cp", []byte(data)); err != nil {
			t.Fatal(err)
		}
		wantContents(t, fsys, filepath.Join(dir, "cp"), data)
	}
	entries, err := fsys.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "cp" {
		t.Fatalf("directory holds %v, want just cp", entries)
	}
}

func testSync(t *testing.T, fsys FS, dir string) {
	f := create(t, fsys, filepath.Join(dir, "f"))
	if _, err := f.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := fsys.SyncDir(dir); err != nil {
		t.Fatal(err)
	}
	err := fsys.SyncDir(filepath.Join(dir, "missing"))
	wantErrIs(t, "SyncDir missing", err, fs.ErrNotExist)
}

// testConcurrentReadAt has one goroutine append and sync while others read
// what it has published; run it under -race.
func testConcurrentReadAt(t *testing.T, fsys FS, dir string) {
	name := filepath.Join(dir, "f")
	w := create(t, fsys, name)
	r, err := fsys.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	const chunk, chunks = 64, 200
	published := make(chan int64, chunks)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			buf := make([]byte, chunk)
			for end := range published {
				if _, err := r.ReadAt(buf, end-chunk); err != nil {
					t.Errorf("ReadAt(%d): %v", end-chunk, err)
					return
				}
				if want := bytes.Repeat([]byte{byte(end / chunk)}, chunk); !bytes.Equal(buf, want) {
					t.Errorf("ReadAt(%d) = %x, want %x", end-chunk, buf, want)
					return
				}
			}
		})
	}
	for i := 1; i <= chunks; i++ {
		if _, err := w.Write(bytes.Repeat([]byte{byte(i)}, chunk)); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			if err := w.Sync(); err != nil {
				t.Fatal(err)
			}
		}
		published <- int64(i * chunk)
	}
	close(published)
	wg.Wait()
}
