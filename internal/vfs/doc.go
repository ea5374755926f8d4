// Package vfs is the file-system seam of the storage engine. Everything the
// log writes or reads goes through an FS, so tests can swap the operating
// system for FaultFS, which keeps files in memory, remembers what has been
// made durable, and can fail, tear or forget writes on command.
//
// OS is the production implementation. Its File wraps an *os.File, reachable
// through the OSFile method so the broker can hand the descriptor to
// sendfile(2). FaultFS files have no such method; callers fall back to
// ReadAt.
//
// Durability model (what OS gives on Linux and FaultFS enforces): a file's
// contents are durable up to its last Sync; the existence of a name (create,
// rename, remove) is durable once its directory has been synced with SyncDir.
// Code that needs a new file to survive a power loss syncs both.
//
// # FaultFS
//
// FaultFS keeps, for each file, its current contents and its durable
// contents (as of the last Sync through any handle), and for each directory
// its current entries and its durable entries (as of its last SyncDir).
// Directories made by MkdirAll are durable at once; everything else waits
// for a sync. Two events end a "boot":
//
//   - Crash is kill -9 of the process: open handles die (ErrCrashed), the
//     page cache survives, nothing written is lost.
//   - PowerLoss is the machine losing power: open handles die, and only the
//     durable state remains. An unsynced rename or remove is undone, an
//     unsynced create vanishes, unsynced writes are forgotten. Optionally a
//     random or chosen prefix of each file's unsynced appended bytes
//     survives, torn at any byte and possibly garbled at its end
//     (PowerLossFunc, RandomTear), as when the page cache wrote back part
//     of an append.
//
// Faults on demand: FailNextWrite, TearNextWrite and FailNextSync fail the
// next write or sync anywhere; a Hook sees every operation with its path and
// can fail any of them, or trigger a PowerLoss at an exact point.
// Introspection for assertions: Files, DurableFiles, DurableSize.
//
// Implementations are safe for concurrent use. A File is safe for concurrent
// ReadAt calls alongside one writer. FaultFS serializes everything on one
// read-write mutex: ReadAt, Size, Stat and ReadDir share it, the rest hold it
// exclusively; a Hook is called without it.
package vfs
