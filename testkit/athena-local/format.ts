/**
 * DuckDB results in Athena's shapes: ColumnInfo with Athena (Trino) type names, and every cell as
 * the text Athena puts in VarCharValue (timestamps with milliseconds, arrays `[a, b]`, maps and
 * rows `{k=v}`, NULL as an absent VarCharValue).
 */
import { DuckDBTypeId, type DuckDBType } from '@duckdb/node-api';

export interface AthenaColumnInfo {
  CatalogName: string;
  SchemaName: string;
  TableName: string;
  Name: string;
  Label: string;
  Type: string;
  Precision: number;
  Scale: number;
  Nullable: 'UNKNOWN';
  CaseSensitive: boolean;
}

export function athenaTypeName(type: DuckDBType): { type: string; precision: number; scale: number } {
  // JSON is a VARCHAR with an alias in DuckDB; Athena reports it as json.
  if (type.alias?.toUpperCase() === 'JSON') return { type: 'json', precision: 0, scale: 0 };
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return { type: 'boolean', precision: 0, scale: 0 };
    case DuckDBTypeId.TINYINT:
      return { type: 'tinyint', precision: 3, scale: 0 };
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.UTINYINT:
      return { type: 'smallint', precision: 5, scale: 0 };
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.USMALLINT:
      return { type: 'integer', precision: 10, scale: 0 };
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.HUGEINT: // DuckDB's sum(bigint); Trino's is bigint
    case DuckDBTypeId.UBIGINT:
      return { type: 'bigint', precision: 19, scale: 0 };
    case DuckDBTypeId.FLOAT:
      return { type: 'real', precision: 17, scale: 0 };
    case DuckDBTypeId.DOUBLE:
      return { type: 'double', precision: 17, scale: 0 };
    case DuckDBTypeId.DECIMAL: {
      const m = /DECIMAL\((\d+),\s*(\d+)\)/.exec(type.toString());
      return { type: 'decimal', precision: m ? +m[1] : 38, scale: m ? +m[2] : 0 };
    }
    case DuckDBTypeId.DATE:
      return { type: 'date', precision: 0, scale: 0 };
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_NS:
      return { type: 'timestamp', precision: 3, scale: 0 };
    case DuckDBTypeId.TIMESTAMP_TZ:
      return { type: 'timestamp with time zone', precision: 3, scale: 0 };
    case DuckDBTypeId.TIME:
      return { type: 'time', precision: 3, scale: 0 };
    case DuckDBTypeId.INTERVAL:
      return { type: 'interval day to second', precision: 0, scale: 0 };
    case DuckDBTypeId.BLOB:
      return { type: 'varbinary', precision: 2147483647, scale: 0 };
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return { type: 'array', precision: 0, scale: 0 };
    case DuckDBTypeId.MAP:
      return { type: 'map', precision: 0, scale: 0 };
    case DuckDBTypeId.STRUCT:
      return { type: 'row', precision: 0, scale: 0 };
    default:
      return { type: 'varchar', precision: 2147483647, scale: 0 };
  }
}

export function columnInfo(name: string, type: DuckDBType): AthenaColumnInfo {
  const t = athenaTypeName(type);
  return {
    CatalogName: 'hive',
    SchemaName: '',
    TableName: '',
    Name: name,
    Label: name,
    Type: t.type,
    Precision: t.precision,
    Scale: t.scale,
    Nullable: 'UNKNOWN',
    CaseSensitive: t.type === 'varchar',
  };
}

/** A cell as Athena prints it; undefined for NULL (Athena omits VarCharValue). */
export function athenaText(value: unknown, athenaType: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  return render(value, athenaType, true);
}

function render(value: unknown, athenaType: string, topLevel: boolean): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof Date) {
    const iso = value.toISOString();
    if (athenaType === 'date') return iso.slice(0, 10);
    const text = `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
    return athenaType === 'timestamp with time zone' ? `${text} UTC` : text;
  }
  if (typeof value === 'number') {
    if ((athenaType === 'double' || athenaType === 'real') && Number.isFinite(value)) return javaDouble(value);
    return String(value);
  }
  if (typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    // A MAP arrives from DuckDB as [{ key, value }, …].
    if (athenaType === 'map')
      return `{${value.map((e: { key: unknown; value: unknown }) => `${render(e.key, '', false)}=${render(e.value, '', false)}`).join(', ')}}`;
    return `[${value.map((e) => render(e, '', false)).join(', ')}]`;
  }
  if (typeof value === 'object') {
    if (value instanceof Uint8Array)
      return Buffer.from(value)
        .toString('hex')
        .replace(/(..)(?!$)/g, '$1 ');
    if ('months' in value && 'days' in value && 'micros' in value)
      return String(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    return `{${Object.entries(value)
      .map(([k, v]) => `${k}=${render(v, '', false)}`)
      .join(', ')}}`;
  }
  void topLevel;
  // DuckDB hands out no other kind of value (a function, a symbol).
  throw new Error(`unsupported result value of type ${typeof value}`);
}

/** Java's Double.toString, which Trino uses: 2.0, 1.5, 1.0E10, 1.0E-5. */
function javaDouble(value: number): string {
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e7 || abs < 1e-3)) {
    const [mantissa, exponent] = value.toExponential().split('e');
    return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
  }
  return Number.isInteger(value) ? `${value}.0` : String(value);
}
