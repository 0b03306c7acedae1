package stream

// Column values in a Row have these Go types, decided once for every package:
//
//	smallint, integer, bigint, oid   int64
//	real, double precision           float64
//	numeric                          Numeric (exact text form)
//	text, varchar, char, name,
//	citext, enums, unknown types     string
//	boolean                          bool
//	timestamptz, timestamp, date     time.Time (timestamp without zone is UTC)
//	uuid                             string (canonical 8-4-4-4-12 form)
//	json, jsonb                      any as decoded by encoding/json with
//	                                 UseNumber (numbers are json.Number)
//	bytea                            []byte
//	arrays of the above              []any
//	NULL                             nil
//	unchanged TOAST, unknown         Unchanged
//	a legal value Go cannot hold     Unrepresentable (Reason says why)
//	a domain                         as its base type (arrays of domains:
//	                                 string)
