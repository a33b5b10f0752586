// Reads a netwatch Parquet recording with DuckDB and prints, as JSON, the
// row count, sums per interface and per (netns, container_id, interface,
// index), the column types and the recording's metadata block. Usage: node query.js FILE.parquet
const { DuckDBInstance } = require('@duckdb/node-api');

(async () => {
  const file = process.argv[2].replaceAll("'", "''");
  const inst = await DuckDBInstance.create(':memory:');
  const con = await inst.connect();
  const q = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJson();
  const out = {
    sums: await q(`select interface, "index"::INTEGER as idx, count(*)::BIGINT as n,
        sum(rx_bytes)::BIGINT as rx_bytes, sum(rx_packets)::BIGINT as rx_packets,
        sum(tx_bytes)::BIGINT as tx_bytes, sum(tx_packets)::BIGINT as tx_packets,
        min(time)::VARCHAR as first
      from read_parquet('${file}') group by all order by interface`),
    labels: await q(`select netns, container_id, interface, "index"::INTEGER as idx, count(*)::BIGINT as n,
        sum(rx_bytes)::BIGINT as rx_bytes, sum(tx_bytes)::BIGINT as tx_bytes
      from read_parquet('${file}') group by all order by netns`),
    types: await q(`select column_name, column_type from (describe select * from read_parquet('${file}'))`),
    meta: await q(`select decode(value) as value from parquet_kv_metadata('${file}') where decode(key) = 'netwatch.meta'`),
  };
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e.message); process.exit(1); });
