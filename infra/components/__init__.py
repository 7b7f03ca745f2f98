"""One ComponentResource per file; `region.RegionalDeployment` composes them per AWS region."""
