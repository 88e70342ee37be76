package live

import "github.com/aws/smithy-go"

func fakeAPIError(code string) error { return &smithy.GenericAPIError{Code: code, Message: "m"} }
