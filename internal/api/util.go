package api

import "strconv"

func itoa(i int32) string { return strconv.FormatInt(int64(i), 10) }
