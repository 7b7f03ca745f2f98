"""Model pins on the command line's side: the pin rules and the pin / rollback edits of a stack
file's pins and history (`edits`, the contract in its docstring), the comment-keeping, locked, atomic
stack-file editor (`stackfile`), what `model show` prints (`show`) and `--apply`: `pulumi up` through
the Automation API (`apply`)."""
