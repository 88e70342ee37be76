package policy

import (
	"fmt"
	"strings"
)

// Family is the kind of comparison a condition operator makes.
type Family int

// The operator families of "IAM JSON policy elements: Condition operators".
const (
	FamilyString Family = iota
	FamilyNumeric
	FamilyDate
	FamilyBool
	FamilyBinary
	FamilyIP
	FamilyARN
	FamilyNull
)

// Comparison is the comparison an operator makes within its family.
type Comparison int

// The comparisons.
const (
	CompareEqual Comparison = iota
	CompareEqualFold
	CompareLike
	CompareLess
	CompareLessEqual
	CompareGreater
	CompareGreaterEqual
)

// SetOperator is a ForAllValues:/ForAnyValue: prefix.
type SetOperator int

// The set operators; SetNone is an operator without a prefix.
const (
	SetNone SetOperator = iota
	SetForAllValues
	SetForAnyValue
)

// Operator is a parsed condition operator: [ForAllValues:|ForAnyValue:]
// Base[IfExists].
type Operator struct {
	// Name is the base operator's documented name ("StringNotLike").
	Name       string
	Family     Family
	Comparison Comparison
	Negated    bool
	Set        SetOperator
	IfExists   bool
}

// baseOperators lists the operators of "IAM JSON policy elements:
// Condition operators", by lower-cased name.
var baseOperators = func() map[string]Operator {
	ops := []Operator{
		{Name: "StringEquals", Family: FamilyString, Comparison: CompareEqual},
		{Name: "StringNotEquals", Family: FamilyString, Comparison: CompareEqual, Negated: true},
		{Name: "StringEqualsIgnoreCase", Family: FamilyString, Comparison: CompareEqualFold},
		{Name: "StringNotEqualsIgnoreCase", Family: FamilyString, Comparison: CompareEqualFold, Negated: true},
		{Name: "StringLike", Family: FamilyString, Comparison: CompareLike},
		{Name: "StringNotLike", Family: FamilyString, Comparison: CompareLike, Negated: true},
		{Name: "NumericEquals", Family: FamilyNumeric, Comparison: CompareEqual},
		{Name: "NumericNotEquals", Family: FamilyNumeric, Comparison: CompareEqual, Negated: true},
		{Name: "NumericLessThan", Family: FamilyNumeric, Comparison: CompareLess},
		{Name: "NumericLessThanEquals", Family: FamilyNumeric, Comparison: CompareLessEqual},
		{Name: "NumericGreaterThan", Family: FamilyNumeric, Comparison: CompareGreater},
		{Name: "NumericGreaterThanEquals", Family: FamilyNumeric, Comparison: CompareGreaterEqual},
		{Name: "DateEquals", Family: FamilyDate, Comparison: CompareEqual},
		{Name: "DateNotEquals", Family: FamilyDate, Comparison: CompareEqual, Negated: true},
		{Name: "DateLessThan", Family: FamilyDate, Comparison: CompareLess},
		{Name: "DateLessThanEquals", Family: FamilyDate, Comparison: CompareLessEqual},
		{Name: "DateGreaterThan", Family: FamilyDate, Comparison: CompareGreater},
		{Name: "DateGreaterThanEquals", Family: FamilyDate, Comparison: CompareGreaterEqual},
		{Name: "Bool", Family: FamilyBool, Comparison: CompareEqual},
		{Name: "BinaryEquals", Family: FamilyBinary, Comparison: CompareEqual},
		{Name: "IpAddress", Family: FamilyIP, Comparison: CompareEqual},
		{Name: "NotIpAddress", Family: FamilyIP, Comparison: CompareEqual, Negated: true},
		// "The ArnEquals and ArnLike condition operators behave identically."
		{Name: "ArnEquals", Family: FamilyARN, Comparison: CompareLike},
		{Name: "ArnLike", Family: FamilyARN, Comparison: CompareLike},
		{Name: "ArnNotEquals", Family: FamilyARN, Comparison: CompareLike, Negated: true},
		{Name: "ArnNotLike", Family: FamilyARN, Comparison: CompareLike, Negated: true},
		{Name: "Null", Family: FamilyNull},
	}
	m := make(map[string]Operator, len(ops))
	for _, op := range ops {
		m[strings.ToLower(op.Name)] = op
	}
	return m
}()

// ParseOperator reads [ForAllValues:|ForAnyValue:]Base[IfExists]. Names
// are matched without regard to case.
func ParseOperator(s string) (Operator, error) {
	set := SetNone
	base := s
	if prefix, rest, ok := strings.Cut(s, ":"); ok {
		switch strings.ToLower(prefix) {
		case "forallvalues":
			set = SetForAllValues
		case "foranyvalue":
			set = SetForAnyValue
		default:
			return Operator{}, fmt.Errorf("unknown set operator %q (ForAllValues or ForAnyValue)", prefix)
		}
		base = rest
	}
	lower := strings.ToLower(base)
	ifExists := false
	if trimmed, ok := strings.CutSuffix(lower, "ifexists"); ok {
		lower, ifExists = trimmed, true
	}
	op, ok := baseOperators[lower]
	if !ok {
		return Operator{}, fmt.Errorf("unknown condition operator")
	}
	if op.Family == FamilyNull && ifExists {
		return Operator{}, fmt.Errorf("IfExists cannot be added to Null")
	}
	op.Set, op.IfExists = set, ifExists
	return op, nil
}

// Op returns the condition's parsed operator. Parse fills it; for a
// Condition built by hand it is read from Operator, and an operator Parse
// would refuse reads as the zero Operator (StringEquals without a name).
func (c *Condition) Op() Operator {
	if c.op.Name != "" {
		return c.op
	}
	op, _ := ParseOperator(c.Operator)
	return op
}
