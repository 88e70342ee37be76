package cloudtrail

import (
	"fmt"
	"os"
)

// CheckPath refuses, before anything is read, a local path that does not
// exist and an s3:// URI that does not parse: a mistyped argument must not
// look like a source that held nothing. (athena:// and lake:// URIs are
// the query package's: query.CheckPaths checks every form.)
func CheckPath(p string) error {
	if IsS3(p) {
		_, _, err := ParseS3(p)
		return err
	}
	if _, err := os.Stat(p); err != nil {
		return fmt.Errorf("CloudTrail path %w", err)
	}
	return nil
}
