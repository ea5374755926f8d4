package replica

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/metadata"
	"github.com/basketmq/basket/internal/vfs"
)

// partitionMetadataFile records, in each partition directory, the id of the
// topic the log belongs to (Kafka's partition.metadata, same format), so a
// log left on disk by a topic that was deleted and recreated under the same
// name while the broker was down is not mistaken for the new topic's.
const partitionMetadataFile = "partition.metadata"

func writePartitionMetadata(l *log.Log, id metadata.UUID) error {
	return vfs.WriteFileAtomic(l.FS(), l.Path(), partitionMetadataFile, []byte("version: 0\ntopic_id: "+id.String()+"\n"))
}

// readPartitionMetadata returns the topic id recorded for l, ok=false when
// the file is missing.
func readPartitionMetadata(l *log.Log) (metadata.UUID, bool, error) {
	b, err := vfs.ReadFile(l.FS(), filepath.Join(l.Path(), partitionMetadataFile))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return metadata.UUID{}, false, nil
		}
		return metadata.UUID{}, false, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "topic_id: "); ok {
			id, err := metadata.ParseUUID(strings.TrimSpace(v))
			return id, err == nil, err
		}
	}
	return metadata.UUID{}, false, fmt.Errorf("%s in %s has no topic_id", partitionMetadataFile, l.Path())
}
