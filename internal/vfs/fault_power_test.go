package vfs

import (
	"bytes"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
)

// wantFiles checks that fsys holds exactly the files of want, with their
// contents.
func wantFiles(t *testing.T, fsys *FaultFS, want map[string]string) {
	t.Helper()
	if got, names := fsys.Files(), slices.Sorted(maps.Keys(want)); !slices.Equal(got, names) {
		t.Fatalf("Files() = %q, want %q", got, names)
	}
	for name, data := range want {
		wantContents(t, fsys, name, data)
	}
}

func TestFaultFS_PowerLossDropsUnsyncedWrites(t *testing.T) {
	fsys, dir := newFaultFS(t)
	f := create(t, fsys, dir+"/f")
	mustSyncDir(t, fsys, dir)
	mustWrite(t, f, "abc")
	mustSync(t, f)
	mustWrite(t, f, "def")
	if got := fsys.DurableSize(dir + "/f"); got != 3 {
		t.Fatalf("DurableSize = %d, want 3", got)
	}
	fsys.PowerLoss(nil)
	wantFiles(t, fsys, map[string]string{dir + "/f": "abc"})
}

func TestFaultFS_PowerLossKeepsSyncedData(t *testing.T) {
	fsys, dir := newFaultFS(t)
	w := create(t, fsys, dir+"/f")
	mustSyncDir(t, fsys, dir)
	mustWrite(t, w, "abc")
	r, err := fsys.OpenFile(dir+"/f", os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	mustSync(t, r) // any handle's Sync makes the file durable
	fsys.PowerLoss(nil)
	wantFiles(t, fsys, map[string]string{dir + "/f": "abc"})
}

func TestFaultFS_PowerLossRevertsUnsyncedOverwrites(t *testing.T) {
	fsys, dir := newFaultFS(t)
	durableFile(t, fsys, dir+"/f", "abcdef")
	f, err := fsys.OpenFile(dir+"/f", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("XY"), 1); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(4); err != nil {
		t.Fatal(err)
	}
	fsys.PowerLoss(rand.New(rand.NewPCG(1, 2))) // no tail to keep
	wantFiles(t, fsys, map[string]string{dir + "/f": "abcdef"})
}

// TestFaultFS_PowerLossNames checks that names follow SyncDir of their
// directory, not Sync of the file.
func TestFaultFS_PowerLossNames(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, fsys *FaultFS)
		want  map[string]string
	}{
		{
			name: "CreateWithoutSyncDirVanishes",
			setup: func(t *testing.T, fsys *FaultFS) {
				f := create(t, fsys, "/data/new")
				mustWrite(t, f, "x")
				mustSync(t, f)
			},
			want: map[string]string{"/data/a": "a"},
		},
		{
			name: "CreateWithSyncDirStays",
			setup: func(t *testing.T, fsys *FaultFS) {
				f := create(t, fsys, "/data/new")
				mustWrite(t, f, "unsynced")
				mustSyncDir(t, fsys, "/data")
			},
			want: map[string]string{"/data/a": "a", "/data/new": ""},
		},
		{
			name:  "RenameWithoutSyncDirReverts",
			setup: func(t *testing.T, fsys *FaultFS) { mustRename(t, fsys, "/data/a", "/data/b") },
			want:  map[string]string{"/data/a": "a"},
		},
		{
			name: "RenameWithSyncDirStays",
			setup: func(t *testing.T, fsys *FaultFS) {
				mustRename(t, fsys, "/data/a", "/data/b")
				mustSyncDir(t, fsys, "/data")
			},
			want: map[string]string{"/data/b": "a"},
		},
		{
			name: "RenameOverExistingWithoutSyncDirRestoresBoth",
			setup: func(t *testing.T, fsys *FaultFS) {
				durableFile(t, fsys, "/data/b", "b")
				mustRename(t, fsys, "/data/a", "/data/b")
			},
			want: map[string]string{"/data/a": "a", "/data/b": "b"},
		},
		{
			name: "RemoveWithoutSyncDirReverts",
			setup: func(t *testing.T, fsys *FaultFS) {
				if err := fsys.Remove("/data/a"); err != nil {
					t.Fatal(err)
				}
			},
			want: map[string]string{"/data/a": "a"},
		},
		{
			name: "RemoveAllWithSyncDirStays",
			setup: func(t *testing.T, fsys *FaultFS) {
				if err := fsys.RemoveAll("/data"); err != nil {
					t.Fatal(err)
				}
				mustSyncDir(t, fsys, "/")
			},
			want: map[string]string{},
		},
		{
			name: "MkdirAllIsDurable",
			setup: func(t *testing.T, fsys *FaultFS) {
				if err := fsys.MkdirAll("/data/x/y", 0o755); err != nil {
					t.Fatal(err)
				}
				durableFile(t, fsys, "/data/x/y/f", "f") // syncs /data only
				mustSyncDir(t, fsys, "/data/x/y")
			},
			want: map[string]string{"/data/a": "a", "/data/x/y/f": "f"},
		},
		{
			// Each directory reverts on its own, so a cross-directory
			// rename synced only at its target leaves two names.
			name: "CrossDirectoryRenameSyncedAtTargetOnly",
			setup: func(t *testing.T, fsys *FaultFS) {
				if err := fsys.MkdirAll("/other", 0o755); err != nil {
					t.Fatal(err)
				}
				mustRename(t, fsys, "/data/a", "/other/a")
				mustSyncDir(t, fsys, "/other")
			},
			want: map[string]string{"/data/a": "a", "/other/a": "a"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys, dir := newFaultFS(t)
			durableFile(t, fsys, dir+"/a", "a")
			tc.setup(t, fsys)
			durable := fsys.DurableFiles()
			fsys.PowerLoss(nil)
			wantFiles(t, fsys, tc.want)
			if got := fsys.Files(); !slices.Equal(got, durable) {
				t.Fatalf("DurableFiles() before the power loss = %q, Files() after = %q", durable, got)
			}
		})
	}
}

func mustRename(t *testing.T, fsys FS, oldpath, newpath string) {
	t.Helper()
	if err := fsys.Rename(oldpath, newpath); err != nil {
		t.Fatal(err)
	}
}

// TestFaultFS_PowerLossTornTailIsPrefix checks that without garbling a torn
// file is a prefix of what was written, no shorter than what was synced, and
// that over many seeds tails are dropped, torn and kept whole.
func TestFaultFS_PowerLossTornTailIsPrefix(t *testing.T) {
	outcomes := map[string]bool{}
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 0))
		fsys, dir := newFaultFS(t)
		durableFile(t, fsys, dir+"/f", "synced")
		f, err := fsys.OpenFile(dir+"/f", os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		written := []byte("synced")
		for range rng.IntN(5) + 1 {
			chunk := make([]byte, rng.IntN(20)+1)
			for i := range chunk {
				chunk[i] = byte(rng.Uint32())
			}
			if _, err := f.WriteAt(chunk, int64(len(written))); err != nil {
				t.Fatal(err)
			}
			written = append(written, chunk...)
		}
		fsys.PowerLoss(rng)
		got, err := ReadFile(fsys, dir+"/f")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(written, got) || len(got) < len("synced") {
			t.Fatalf("seed %d: file holds %x, want a prefix of %x at least 6 bytes long", seed, got, written)
		}
		switch len(got) {
		case len("synced"):
			outcomes["dropped"] = true
		case len(written):
			outcomes["kept"] = true
		default:
			outcomes["torn"] = true
		}
	}
	if len(outcomes) != 3 {
		t.Fatalf("outcomes over 200 seeds: %v, want dropped, torn and kept", outcomes)
	}
}

func TestFaultFS_PowerLossFuncGarblesKeptTail(t *testing.T) {
	fsys, dir := newFaultFS(t)
	durableFile(t, fsys, dir+"/f", "abc")
	durableFile(t, fsys, dir+"/g", "xyz")
	f, err := fsys.OpenFile(dir+"/f", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("defghi"), 3); err != nil {
		t.Fatal(err)
	}
	var calls []string
	fsys.PowerLossFunc(func(path string, durableLen, currentLen int64) (int64, int64) {
		calls = append(calls, path)
		if durableLen != 3 || currentLen != 9 {
			t.Errorf("tear(%s, %d, %d), want lengths 3 and 9", path, durableLen, currentLen)
		}
		return 4, 2
	})
	if !slices.Equal(calls, []string{dir + "/f"}) {
		t.Fatalf("tear called for %q, want just the file with a tail", calls)
	}
	wantFiles(t, fsys, map[string]string{
		dir + "/f": "abcde" + string([]byte{^byte('f'), ^byte('g')}),
		dir + "/g": "xyz",
	})
	fsys.PowerLoss(nil) // what survived is durable now
	if got := fsys.DurableSize(dir + "/f"); got != 7 {
		t.Fatalf("DurableSize after a second power loss = %d, want 7", got)
	}
}

func TestFaultFS_RandomTearGarblesOnlyTheTail(t *testing.T) {
	const durableLen, currentLen = 100, 5000
	rng := rand.New(rand.NewPCG(7, 7))
	tear := RandomTear(rng, true)
	garbled := false
	for range 500 {
		keep, garble := tear("/f", durableLen, currentLen)
		if keep < 0 || keep > currentLen-durableLen || garble < 0 || garble > min(keep, 512) {
			t.Fatalf("tear = keep %d, garble %d; out of range", keep, garble)
		}
		garbled = garbled || garble > 0
	}
	if !garbled {
		t.Fatal("RandomTear with garble never garbled")
	}
}

// TestFaultFS_PowerLossDuringWriteFileAtomic cuts the power at each
// operation of WriteFileAtomic in turn: the file must hold the old or the new
// contents, never a mixture and never nothing.
func TestFaultFS_PowerLossDuringWriteFileAtomic(t *testing.T) {
	for cut := 1; ; cut++ {
		fsys, dir := newFaultFS(t)
		if err := WriteFileAtomic(fsys, dir, "cp", []byte("old")); err != nil {
			t.Fatal(err)
		}
		ops := 0
		fsys.SetHook(func(op Op, path string) error {
			if ops++; ops == cut {
				fsys.PowerLoss(rand.New(rand.NewPCG(uint64(cut), 0)))
				return ErrCrashed
			}
			return nil
		})
		err := WriteFileAtomic(fsys, dir, "cp", []byte("new contents"))
		fsys.SetHook(nil)
		got, rerr := ReadFile(fsys, dir+"/cp")
		if rerr != nil {
			t.Fatalf("power cut at op %d: %v", cut, rerr)
		}
		if err == nil {
			if string(got) != "new contents" {
				t.Fatalf("WriteFileAtomic succeeded but the file holds %q", got)
			}
			return // the cut came after the last operation
		}
		if s := string(got); s != "old" && s != "new contents" {
			t.Fatalf("power cut at op %d: file holds %q", cut, got)
		}
	}
}
