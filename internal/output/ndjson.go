package output

import (
	"bytes"
	"encoding/json"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// ndjson renders one compact contract object per line.
type ndjson struct {
	wb  wireBuilder
	enc *json.Encoder
}

func newNDJSON(buf *bytes.Buffer) *ndjson {
	return &ndjson{enc: newEncoder(buf)}
}

func (n *ndjson) render(s stats.Sample) error {
	// Encode writes the object and the newline that ends the line.
	return n.enc.Encode(n.wb.build(s))
}
