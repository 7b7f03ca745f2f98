"""Certificate: the ACM certificate for `endpoint.hostname`, DNS-validated in `endpoint.hostedZoneId`.

One per region (an ALB takes a certificate from its own region). ACM asks for the same validation
CNAME for one name in every region, so only the first region of the stack writes that record
(`owns_validation_record`); the other regions' validations wait for it. `arn` is the *validated*
certificate's ARN: a listener given it is created only once ACM has issued the certificate.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.options import moved_from

VALIDATION_RECORD_TTL = 300


@dataclass
class CertificateArgs:
    hostname: str
    """The name the certificate is for (`endpoint.hostname`)."""
    hosted_zone_id: str
    """Route 53 hosted zone of the hostname (`endpoint.hostedZoneId`), where the validation record goes."""
    owns_validation_record: bool
    """True in the stack's first region: it writes the validation CNAME every region's validation reads."""
    former_parent: pulumi.Input[str] | None = None
    """URN of the component these resources were created under before (the region's LoadBalancer): they
    carry an alias to it, so `pulumi up` on an existing stack moves them here instead of replacing them."""


class Certificate(pulumi.ComponentResource):
    """ACM certificate + its validation record + the validation that waits for ACM to issue it."""

    arn: pulumi.Output[str]

    def __init__(self, name: str, args: CertificateArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tradeoff-infra:edge:Certificate", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, aliases=moved_from(args.former_parent))
        certificate = aws.acm.Certificate(name, domain_name=args.hostname, validation_method="DNS", opts=child)
        option = certificate.domain_validation_options.apply(lambda options: options[0])
        fqdn = option.apply(lambda o: o.resource_record_name)
        if args.owns_validation_record:
            aws.route53.Record(
                f"{name}-validation",
                zone_id=args.hosted_zone_id,
                name=fqdn,
                type=option.apply(lambda o: o.resource_record_type),
                records=[option.apply(lambda o: o.resource_record_value)],
                ttl=VALIDATION_RECORD_TTL,
                allow_overwrite=True,
                opts=child,
            )
        validation = aws.acm.CertificateValidation(
            f"{name}-validation",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[fqdn],
            opts=child,
        )
        self.arn = validation.certificate_arn
        self.register_outputs({"arn": self.arn})
