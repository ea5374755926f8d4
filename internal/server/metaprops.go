package server

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/basketmq/basket/internal/metadata"
	"github.com/basketmq/basket/internal/vfs"
)

// metaProperties is the identity file Kafka keeps in each log directory.
type metaProperties struct {
	ClusterID string
	NodeID    int32
}

const metaPropertiesFile = "meta.properties"

// loadOrCreateMetaProperties reads dir/meta.properties, or creates it with a
// new cluster id. A file whose node.id differs from nodeID is an error: the
// directory belongs to another broker.
func loadOrCreateMetaProperties(dir string, nodeID int32) (metaProperties, error) {
	path := filepath.Join(dir, metaPropertiesFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		mp := metaProperties{ClusterID: metadata.NewUUID().String(), NodeID: nodeID}
		var b bytes.Buffer
		fmt.Fprintf(&b, "#\n#%s\ncluster.id=%s\nnode.id=%d\nversion=1\ndirectory.id=%s\n",
			time.Now().UTC().Format(time.RFC1123), mp.ClusterID, nodeID, metadata.NewUUID())
		return mp, vfs.WriteFileAtomic(vfs.OS, dir, metaPropertiesFile, b.Bytes())
	}
	if err != nil {
		return metaProperties{}, err
	}
	var mp metaProperties
	mp.NodeID = -1
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		switch {
		case !ok || strings.HasPrefix(k, "#"):
		case k == "cluster.id":
			mp.ClusterID = v
		case k == "node.id":
			n, err := strconv.ParseInt(v, 10, 32)
			if err != nil {
				return mp, fmt.Errorf("%s: node.id %q is not a number", path, v)
			}
			mp.NodeID = int32(n)
		}
	}
	if mp.ClusterID == "" {
		return mp, fmt.Errorf("%s has no cluster.id", path)
	}
	if mp.NodeID != nodeID {
		return mp, fmt.Errorf("%s belongs to node %d, but this broker is node.id %d", path, mp.NodeID, nodeID)
	}
	return mp, nil
}
