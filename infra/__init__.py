"""The tradeoff-infra Pulumi program: stack spec, hardware facts and components."""
