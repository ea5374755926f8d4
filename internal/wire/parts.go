package wire

import (
	"errors"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Part is one piece of a response: bytes in memory, or a region of a file
// that Run sends without copying it through user space when it can.
type Part struct {
	Buf    []byte
	Region *FileRegion
}

// FileRegion is Len bytes of File from offset Off: record batches of a
// segment file in a fetch response.
type FileRegion struct {
	File io.ReaderAt
	Off  int64
	Len  int64
}

// osFiler is implemented by files backed by an operating-system file
// (vfs.OS files), whose descriptor sendfile can read.
type osFiler interface{ OSFile() *os.File }

// errShortFile reports a file region that ended early: the file was
// truncated after the response promised its bytes, so the connection must
// close.
var errShortFile = errors.New("wire: file region shorter than promised")

// writeRegion sends a file region to w: with sendfile(2) at an explicit
// offset when w is a socket and the file an OS file (so concurrent readers
// of one file never share a file position), else by copying.
func writeRegion(w io.Writer, fr *FileRegion) error {
	if sc, ok := w.(syscall.Conn); ok {
		if of, ok := fr.File.(osFiler); ok {
			return sendfile(sc, of.OSFile(), fr.Off, fr.Len)
		}
		if f, ok := fr.File.(*os.File); ok {
			return sendfile(sc, f, fr.Off, fr.Len)
		}
	}
	n, err := io.Copy(w, io.NewSectionReader(fr.File, fr.Off, fr.Len))
	if err == nil && n < fr.Len {
		err = errShortFile
	}
	return err
}

func sendfile(sc syscall.Conn, f *os.File, off, n int64) error {
	out, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	in, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var sendErr error
	ctlErr := in.Control(func(infd uintptr) {
		sendErr = out.Write(func(outfd uintptr) bool {
			for n > 0 {
				k, err := unix.Sendfile(int(outfd), int(infd), &off, int(min(n, 1<<30)))
				if k > 0 {
					n -= int64(k)
				}
				switch {
				case err == unix.EAGAIN:
					return false // wait until the socket is writable
				case err == unix.EINTR:
				case err != nil:
					sendErr = err
					return true
				case k == 0:
					sendErr = errShortFile
					return true
				}
			}
			return true
		})
	})
	if ctlErr != nil {
		return ctlErr
	}
	return sendErr
}
