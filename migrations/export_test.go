package migrations

// Files lets the tests run the migrations up to a version.
var Files = files
