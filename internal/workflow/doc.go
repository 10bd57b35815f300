// Package workflow strings km's packages together for the commands: it loads the
// declaration, connects to AWS and GitHub, takes the state lock, plans, renders and
// applies. cmd/km calls it and holds no logic itself. It must not import cmd/*.
package workflow
