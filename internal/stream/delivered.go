package stream

import (
	"encoding/json"
	"strconv"
	"time"
)

// Delivered is one event Bento accepted, as the delivery ledger records it.
// The delivery side builds it when the request carrying the event succeeds
// and hands it back with the acknowledgement that covers the event.
type Delivered struct {
	Pos       Position
	Rule      string
	Table     string
	Key       string // the source row's key
	Type      string
	Email     string
	Date      time.Time // the event's date; zero when it had none
	Value     Value     // zero unless the event carries details.value or details.unique
	Request   string    // id of the request that carried it
	Accepted  time.Time // when Bento answered
	Committed time.Time // when the source transaction committed
}

// Value is a purchase's identity and worth: details.unique.key and
// details.value.{amount,currency}.
type Value struct {
	UniqueKey string
	Amount    int64
	HasAmount bool
	Currency  string
}

// ValueOf reads details.unique.key and details.value from an event's
// details. Amounts are cents; a value that is not an integer is reported
// without an amount (the event could not have been encoded anyway).
func ValueOf(details map[string]any) Value {
	var v Value
	if u, ok := details["unique"].(map[string]any); ok {
		v.UniqueKey = scalarText(u["key"])
	}
	val, ok := details["value"].(map[string]any)
	if !ok {
		return v
	}
	v.Currency = scalarText(val["currency"])
	v.Amount, v.HasAmount = integer(val["amount"])
	return v
}

func scalarText(x any) string {
	switch k := x.(type) {
	case string:
		return k
	case json.Number:
		return k.String()
	case Numeric:
		return string(k)
	case int, int64, int32, uint32, uint64, float64:
		b, _ := json.Marshal(k)
		return string(b)
	}
	return ""
}

func integer(x any) (int64, bool) {
	switch a := x.(type) {
	case int:
		return int64(a), true
	case int64:
		return a, true
	case int32:
		return int64(a), true
	case uint32:
		return int64(a), true
	case float64:
		if a == float64(int64(a)) {
			return int64(a), true
		}
	case json.Number:
		n, err := a.Int64()
		return n, err == nil
	case Numeric:
		n, err := strconv.ParseInt(string(a), 10, 64)
		return n, err == nil
	}
	return 0, false
}
