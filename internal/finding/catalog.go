package finding

// Framework maps a rule to a control of a compliance framework.
type Framework struct {
	Framework string `yaml:"framework" json:"framework"`
	Version   string `yaml:"version" json:"version"`
	Control   string `yaml:"control" json:"control"`
}

// RuleInfo is what writers know of a rule: its definition and its
// knowledge-base page. Writers receive these, never the rules themselves.
type RuleInfo struct {
	ID, Title, Category, Summary, Details, Action, References string
	Severity                                                  Severity
	Tags                                                      []string
	Frameworks                                                []Framework
}

// Catalog is the rules' information in catalog order.
type Catalog struct {
	Rules []RuleInfo
	byID  map[string]int
}

// NewCatalog indexes rule information by id.
func NewCatalog(rules []RuleInfo) Catalog {
	c := Catalog{Rules: rules, byID: make(map[string]int, len(rules))}
	for i, r := range rules {
		c.byID[r.ID] = i
	}
	return c
}

// Rule returns a rule's information.
func (c Catalog) Rule(id string) (RuleInfo, bool) {
	i, ok := c.byID[id]
	if !ok {
		return RuleInfo{}, false
	}
	return c.Rules[i], true
}

// Index is a rule's position in the catalog (SARIF's ruleIndex), or -1.
func (c Catalog) Index(id string) int {
	if i, ok := c.byID[id]; ok {
		return i
	}
	return -1
}
