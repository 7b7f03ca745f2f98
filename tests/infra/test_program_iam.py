"""The pure IAM policy helpers the program's roles are built from."""

import pytest

from infra.iam import assume_role_policy, irsa_trust_policy, managed_policy_arn

ARN = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"


def test_irsa_trust_pins_one_service_account_and_audience():
    doc = irsa_trust_policy(ARN, "https://oidc.eks.us-east-1.amazonaws.com/id/ABC", "kube-system", "ebs-csi-controller-sa")
    (statement,) = doc["Statement"]
    assert statement["Principal"] == {"Federated": ARN}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {"StringEquals": {
        "oidc.eks.us-east-1.amazonaws.com/id/ABC:sub": "system:serviceaccount:kube-system:ebs-csi-controller-sa",
        "oidc.eks.us-east-1.amazonaws.com/id/ABC:aud": "sts.amazonaws.com",
    }}


def test_irsa_trust_accepts_issuer_without_scheme():
    with_scheme = irsa_trust_policy(ARN, "https://oidc.example/id/X/", "ns", "sa")
    without = irsa_trust_policy(ARN, "oidc.example/id/X", "ns", "sa")
    assert with_scheme == without


@pytest.mark.parametrize("namespace,service_account", [("", "sa"), ("ns", ""), ("ns", "*"), ("kube-*", "sa")])
def test_irsa_trust_refuses_wildcards_and_blanks(namespace, service_account):
    with pytest.raises(ValueError, match="one service account"):
        irsa_trust_policy(ARN, "oidc.example/id/X", namespace, service_account)


def test_assume_role_policy_names_the_service():
    doc = assume_role_policy("eks.amazonaws.com")
    assert doc["Statement"] == [{"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    with pytest.raises(ValueError, match="service principal"):
        assume_role_policy("eks")


def test_managed_policy_arn():
    assert managed_policy_arn("AmazonEKSClusterPolicy", "aws") == "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
