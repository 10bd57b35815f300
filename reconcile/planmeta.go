package reconcile

import "time"

// PlanMeta is what is known about a plan besides its changes: set when the plan
// comes from a plan file (km show) or is being saved (km plan --out).
type PlanMeta struct {
	KMVersion string
	PlanID    string
	CreatedAt time.Time
	Account   string
	// Declaration is the declaration file's path as shown to reviewers
	// (relative to the repository root when there is one).
	Declaration string
}

// JSONSummary counts the changes as the "Plan:" line does (a replacement is one
// add and one destroy).
type JSONSummary struct {
	Add     int `json:"add"`
	Change  int `json:"change"`
	Destroy int `json:"destroy"`
}
