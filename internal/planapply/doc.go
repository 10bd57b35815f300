// Package planapply owns km plan, apply, show, force-unlock and comment, and
// the Session every fleet command opens: load the declaration, connect to AWS
// and GitHub, take the state lock, plan, render, apply, revoke what apply
// retires. cmd/km calls it and holds no logic itself. It must not import cmd/*.
package planapply
