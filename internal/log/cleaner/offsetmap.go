package cleaner

import (
	"hash/maphash"
	"math/bits"
)

// bytesPerEntry is the memory one map slot takes: a 128-bit key hash and
// an offset, as Kafka's SkimpyOffsetMap (MD5 and a long).
const bytesPerEntry = 24

// loadFactor is the share of slots that may be used (Kafka's
// log.cleaner.io.buffer.load.factor default).
const loadFactor = 0.9

// minSlots is the size the map starts at; it doubles as keys come, up to
// the slots its dedupe buffer allows.
const minSlots = 1 << 12

// offsetMap maps a key, by its 128-bit hash, to the latest offset seen for
// it in the dirty section. Its memory never exceeds its share of
// log.cleaner.dedupe.buffer.size; when it holds as many keys as that allows
// it reports full and the cleaner cleans only what it mapped (a later pass
// cleans the rest). Two distinct keys colliding in 128 bits is not a
// practical concern, as in Kafka. Not safe for concurrent use.
type offsetMap struct {
	seed1, seed2 maphash.Seed
	hashes       [][2]uint64
	offsets      []int64 // -1: empty slot
	size         int
	maxSlots     int
	maxEntries   int
	// beforeGrow, if set, is told the bytes the map is about to take.
	beforeGrow func(newBytes int64)
}

func newOffsetMap(bufferBytes int64) *offsetMap {
	maxSlots := int(max(bufferBytes/bytesPerEntry, 2))
	m := &offsetMap{seed1: maphash.MakeSeed(), seed2: maphash.MakeSeed(), maxSlots: maxSlots,
		maxEntries: max(int(float64(maxSlots)*loadFactor), 1)}
	m.alloc(min(minSlots, maxSlots))
	return m
}

func (m *offsetMap) alloc(slots int) {
	m.hashes = make([][2]uint64, slots)
	m.offsets = make([]int64, slots)
	for i := range m.offsets {
		m.offsets[i] = -1
	}
	m.size = 0
}

// clear empties the map, keeping its memory (shrunk back if it grew).
func (m *offsetMap) clear() {
	if len(m.offsets) > minSlots {
		m.alloc(min(minSlots, m.maxSlots))
		return
	}
	for i := range m.offsets {
		m.offsets[i] = -1
	}
	m.size = 0
}

func (m *offsetMap) hash(key []byte) [2]uint64 {
	return [2]uint64{maphash.Bytes(m.seed1, key), maphash.Bytes(m.seed2, key)}
}

// slot returns where h is, or the empty slot where it would go.
func (m *offsetMap) slot(h [2]uint64) int {
	n := uint64(len(m.offsets))
	i, _ := bits.Mul64(h[0], n)
	for {
		if m.offsets[i] < 0 || m.hashes[i] == h {
			return int(i)
		}
		if i++; i == n {
			i = 0
		}
	}
}

// put records offset for key and returns the offset it replaces, -1 for a
// new key. It returns ok false, changing nothing, when the key is new and
// the map is full.
func (m *offsetMap) put(key []byte, offset int64) (prev int64, ok bool) {
	h := m.hash(key)
	i := m.slot(h)
	if prev := m.offsets[i]; prev >= 0 {
		m.offsets[i] = offset
		return prev, true
	}
	if m.size >= m.maxEntries {
		return -1, false
	}
	if float64(m.size+1) > float64(len(m.offsets))*loadFactor && len(m.offsets) < m.maxSlots {
		m.grow()
		i = m.slot(h)
	}
	m.hashes[i], m.offsets[i] = h, offset
	m.size++
	return -1, true
}

func (m *offsetMap) grow() {
	hs, offs := m.hashes, m.offsets
	slots := min(2*len(offs), m.maxSlots)
	if m.beforeGrow != nil {
		m.beforeGrow(int64(slots) * bytesPerEntry)
	}
	m.alloc(slots)
	for i, o := range offs {
		if o >= 0 {
			j := m.slot(hs[i])
			m.hashes[j], m.offsets[j] = hs[i], o
			m.size++
		}
	}
}

// get returns the offset stored for key, or -1.
func (m *offsetMap) get(key []byte) int64 {
	return m.offsets[m.slot(m.hash(key))]
}

// utilization is the share of the map's allowed entries in use.
func (m *offsetMap) utilization() float64 { return float64(m.size) / float64(m.maxEntries) }
