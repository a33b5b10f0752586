// Package output renders stats.Sample values for people and for scripts.
//
// It knows nothing of backends: the sampler hands it samples and it writes
// them in one of three stream formats, or as a single JSON snapshot:
//
//   - ndjson: one compact JSON object per sample per line (the contract in
//     DESIGN.md; see MarshalSample for the schema).
//   - csv: RFC 4180, a header line once, then one row per interface per
//     sample.
//   - table: aligned columns for a terminal, one row per interface per
//     sample, rates in human units (SI by default, IEC on request, bytes or
//     bits per second).
//
// Every Stream.Write renders the whole sample into a buffer owned by the
// stream, hands it to the destination with a single Write call and then
// flushes the destination if it can be flushed (a *bufio.Writer, an
// http.Flusher). A consumer such as `| jq` therefore sees each sample as soon
// as it is written, and a run cancelled between samples never leaves half a
// line behind.
//
// Table headers: the header is printed before the first sample, again
// (after a blank line) whenever the list of interfaces differs from the
// previous sample's (one appeared, vanished or was renamed), and again
// before a sample once 40 or more rows have been printed under the current
// header. A header is never printed in the middle of a sample. The IFACE
// column is as wide as the longest name in the sample that caused the header
// (at least the width of "IFACE") and keeps that width until the next
// header; rate columns have fixed widths, so columns never jump between rows.
//
// Non-finite rates (NaN, ±Inf) are written as 0 in every format, so the
// JSON is always valid. Streams are not safe for concurrent use.
package output
