package vfs

import (
	"os"
	"path/filepath"
	"testing"
)

func TestOS_Conformance(t *testing.T) {
	runConformance(t, func(t *testing.T) (FS, string) { return OS, t.TempDir() })
}

func TestOS_FileExposesOSFile(t *testing.T) {
	f := create(t, OS, filepath.Join(t.TempDir(), "f"))
	of, ok := f.(interface{ OSFile() *os.File })
	if !ok || of.OSFile() == nil {
		t.Fatalf("%T has no OSFile for sendfile", f)
	}
}
