package evidence

import (
	"bytes"
	"io"
)

// bytesReader gives the SDK a seekable body, so it can sign and retry
// without buffering the object a second time.
func bytesReader(b []byte) io.ReadSeeker { return bytes.NewReader(b) }
