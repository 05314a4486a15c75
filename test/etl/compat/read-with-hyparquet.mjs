// Reads one Parquet file with hyparquet (a pure-JavaScript reader sharing no code with DuckDB)
// and prints its rows as JSON: the independent check that ScoutQL's files are standard Parquet.
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';

const file = await asyncBufferFromFile(process.argv[2]);
const metadata = await parquetMetadataAsync(file);
const columns = process.argv[3] ? process.argv[3].split(',') : undefined;
const rows = await parquetReadObjects({ file, metadata, columns, compressors });
const codecs = [...new Set(metadata.row_groups.flatMap((g) => g.columns.map((c) => c.meta_data.codec)))];
process.stdout.write(
  JSON.stringify({ codecs, rows }, (_k, v) => (typeof v === 'bigint' ? Number(v) : v instanceof Date ? v.toISOString() : v)),
);
