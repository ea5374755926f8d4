package vfs

import (
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
)

// Crash simulates the process being killed (kill -9) while the machine keeps
// running. Every File opened before it fails from then on with ErrCrashed;
// nothing else is lost, since the page cache survives: all written data and
// all names stay, synced or not. Pending FailNextWrite, TearNextWrite and
// FailNextSync faults are cancelled; the hook stays.
func (f *FaultFS) Crash() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reboot()
}

// reboot invalidates every handle and cancels one-shot faults. f.mu must be
// held.
func (f *FaultFS) reboot() {
	f.boot++
	f.writeFault, f.syncFault = nil, nil
}

// PowerLoss simulates the machine losing power and booting again. Like
// Crash it invalidates every open File, and in addition:
//
//   - every directory reachable from the root through durable names gets
//     back exactly the entries it had at its last SyncDir (or at its
//     creation by MkdirAll); unreachable files and directories are gone;
//   - every remaining file gets back the contents of its last Sync (empty
//     if it never was synced). Unsynced overwrites and truncations inside
//     those contents are lost.
//
// With a nil rng that is all. With a non-nil rng, a file whose current
// length exceeds its durable length also keeps a random prefix, from none to
// all, of the current bytes beyond the durable length, modelling the page
// cache having written back part of an append; it is PowerLossFunc with
// RandomTear(rng, false).
//
// Afterwards the surviving state is both current and durable, and f is
// ready for use, as a freshly booted machine.
func (f *FaultFS) PowerLoss(rng *rand.Rand) {
	var tear TearFunc
	if rng != nil {
		tear = RandomTear(rng, false)
	}
	f.PowerLossFunc(tear)
}

// A TearFunc decides, at a power loss, how much of the unsynced tail of the
// file at path survives: of the current bytes in [durableLen, currentLen),
// the first keep are kept, and of those the last garble are garbled (each
// replaced by its bitwise complement, so it surely differs from what was
// written). Results are clamped to 0 <= garble <= keep <=
// currentLen-durableLen. The path is the file's durable name.
type TearFunc func(path string, durableLen, currentLen int64) (keep, garble int64)

// PowerLossFunc is PowerLoss with the surviving tails chosen by tear: tear
// is called once for each surviving file whose current length exceeds its
// durable length, in depth-first order by name, so a seeded TearFunc gives
// reproducible results. A nil tear keeps no tail. tear runs with f locked and
// must not call f.
func (f *FaultFS) PowerLossFunc(tear TearFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reboot()
	seen := map[*node]bool{f.root: true}
	var visit func(d *node, dir string)
	visit = func(d *node, dir string) {
		d.names = maps.Clone(d.durableNames)
		for _, name := range slices.Sorted(maps.Keys(d.names)) {
			n := d.names[name]
			if seen[n] {
				continue // a second durable name, left by a half-synced rename
			}
			seen[n] = true
			if p := filepath.Join(dir, name); n.dir {
				visit(n, p)
			} else {
				n.reset(n.recovered(p, tear))
			}
		}
	}
	visit(f.root, "/")
}

// recovered is what a power loss leaves of the file n, named p.
func (n *node) recovered(p string, tear TearFunc) []byte {
	d, c := len(n.durable), len(n.data)
	if tear == nil || c <= d {
		return n.durable
	}
	keep, garble := tear(p, int64(d), int64(c))
	keep = min(max(keep, 0), int64(c-d))
	garble = min(max(garble, 0), keep)
	out := slices.Concat(n.durable, n.data[d:d+int(keep)])
	for i := len(out) - int(garble); i < len(out); i++ {
		out[i] ^= 0xff
	}
	return out
}

// RandomTear returns a TearFunc that keeps a uniformly random number of
// bytes of each unsynced tail, from none to all. With garble set it also
// garbles a uniformly random number, up to 512 (one disk sector), of the
// last kept bytes. The TearFunc uses rng without locking it.
func RandomTear(rng *rand.Rand, garble bool) TearFunc {
	return func(_ string, durableLen, currentLen int64) (int64, int64) {
		keep := rng.Int64N(currentLen - durableLen + 1)
		if !garble {
			return keep, 0
		}
		return keep, rng.Int64N(min(keep, 512) + 1)
	}
}

// DurableSize is the length of the durable contents (as of the last Sync) of
// the file now at path, or -1 if there is no regular file there. Whether the
// file's name is durable is a separate matter; see DurableFiles.
func (f *FaultFS) DurableSize(path string) int64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	n, err := f.root.walk(absPath(path))
	if err != nil || n.dir {
		return -1
	}
	return int64(len(n.durable))
}

// Files lists the regular files that exist now, as sorted, cleaned absolute
// paths.
func (f *FaultFS) Files() []string { return f.list(false) }

// DurableFiles lists the regular files that a power loss would keep, as
// sorted, cleaned absolute paths.
func (f *FaultFS) DurableFiles() []string { return f.list(true) }

func (f *FaultFS) list(durable bool) []string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []string
	seen := map[*node]bool{}
	var visit func(d *node, dir string)
	visit = func(d *node, dir string) {
		names := d.names
		if durable {
			names = d.durableNames
		}
		for name, n := range names {
			switch p := filepath.Join(dir, name); {
			case !n.dir:
				out = append(out, p)
			case !seen[n]:
				seen[n] = true
				visit(n, p)
			}
		}
	}
	visit(f.root, "/")
	slices.Sort(out)
	return out
}
