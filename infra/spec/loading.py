"""Reading a stack file: the one reader every command and the program use.

`read_stack_text` (a regular, bounded, UTF-8 file) -> `parse_stack_text` (safe YAML, duplicate keys
refused) -> `project_config` (the `tradeoff-infra:` keys, secrets and `aws:` keys policed) ->
`parse_stack_config` (the models, then every check). `load_stack_file` does all four.
"""

from __future__ import annotations

import pathlib
from typing import Any

import yaml
from pydantic import ValidationError

from infra import files
from infra.spec.checks import check
from infra.spec.errors import Problem, SpecError, data_loc, known_keys, problems_from_pydantic
from infra.spec.models import StackSpec

PROJECT = "tradeoff-infra"
NAMESPACE = f"{PROJECT}:"
# Config keys that hold secrets and are read by the program, not by the spec.
SECRET_KEYS = {"vllmApiKey", "huggingfaceToken"}
PROVIDER_API_KEYS = "providerApiKeys"
"""The gateway's API keys, one secret per provider (`pulumi config set --secret --path providerApiKeys.openai <key>`
writes `tradeoff-infra:providerApiKeys: {openai: {secure: v1:...}}`); read by the program, not by the spec."""
# The AWS provider's own credential keys (pulumi-aws config reference): secrets too, if a stack sets them.
AWS_SECRET_KEYS = ("aws:accessKey", "aws:secretKey", "aws:token")
AWS_PROFILE_KEY = "aws:profile"
"""The one `aws:` key the program reads: the explicit per-region providers do not inherit the default
provider's config, so the program passes the profile to each of them and to the kubeconfigs."""
AWS_ROLE_KEYS = ("aws:assumeRoles", "aws:assumeRole", "aws:assumeRoleWithWebIdentity")
AWS_ROLE_MESSAGE = (
    "is not applied by this program: its per-region providers and the kubeconfigs' `aws eks get-token` "
    "take credentials from an AWS profile; put the role in a profile (role_arn and source_profile in "
    "~/.aws/config) and set aws:profile to it")


def parse_stack_config(config: dict[str, Any], source: str = "stack", *, deploy: bool = True) -> StackSpec:
    """Parse the `tradeoff-infra:` keys (namespace already stripped) and run every check. Keys of
    other namespaces (`aws:profile`, kept by `project_config`) are the program's, not the spec's.
    `deploy=False` (a price or a preview under mocks, never `pulumi up`): keys only a deployment needs
    may be left out (`checks.DEPLOY_GATE`)."""
    data = {k: v for k, v in config.items() if k not in SECRET_KEYS and k != PROVIDER_API_KEYS and ":" not in k}
    try:
        spec = StackSpec.model_validate(data)
    except ValidationError as err:
        problems = problems_from_pydantic(err, StackSpec)
        raise SpecError(source, problems + _checks_without_unknown_keys(data, err, problems, deploy=deploy)) from None
    problems = check(spec, deploy=deploy)
    if problems:
        raise SpecError(source, problems)
    return spec


def gateway_providers(spec: StackSpec) -> list[str]:
    """Providers (the part of `provider:model` before the colon) the stack's gateway may call."""
    return [] if spec.gateway is None else spec.gateway.providers()


def missing_provider_keys(spec: StackSpec, keys: dict[str, Any]) -> list[Problem]:
    """A provider the gateway may call without its secret API key. The shipped stacks carry no secrets (like
    `vllmApiKey`), so this is not a `validate` error: the program refuses `pulumi up` with these problems."""
    return [Problem(f"{PROVIDER_API_KEYS}.{provider}", "the gateway may call this provider but has no API key for it: run "
                    f"`pulumi config set --secret --path {PROVIDER_API_KEYS}.{provider} <key>`")
            for provider in gateway_providers(spec) if provider not in keys]


def _provider_key_problems(value: Any) -> list[Problem]:
    """`providerApiKeys` is a mapping of provider name to an encrypted value, each written by `pulumi config set --secret`."""
    full = f"{NAMESPACE}{PROVIDER_API_KEYS}"
    if not isinstance(value, dict):
        return [Problem(full, "is a mapping of provider to secret key: run "
                              f"`pulumi config set --secret --path {PROVIDER_API_KEYS}.<provider> <key>`")]
    return [problem for provider, secret in value.items()
            for problem in _secret_problems(f"{full}.{provider}", secret, f"--path {PROVIDER_API_KEYS}.{provider}")]


def _secret_problems(path: str, value: Any, set_key: str, clear_hint: str = "") -> list[Problem]:
    """A secret config value that is not what `pulumi config set --secret <set_key>` writes (`secure:` and a
    ciphertext string), named at `path`; `clear_hint` is added to the clear-text message."""
    if not (isinstance(value, dict) and set(value) == {"secure"}):
        return [Problem(path, SECRET_IN_CLEAR_MESSAGE.format(key=set_key) + clear_hint)]
    if not (isinstance(value["secure"], str) and value["secure"].strip()):
        # `secure: null`, `secure: 123` or `secure: [..]` is no ciphertext: `pulumi up` fails to decrypt it
        return [Problem(f"{path}.secure", "is not the ciphertext `pulumi config set --secret` "
                                          f"writes; delete the key and run `pulumi config set --secret {set_key} <value>`")]
    return []


def _checks_without_unknown_keys(data: dict[str, Any], err: ValidationError, known: list[Problem], *,
                                 deploy: bool = True) -> list[Problem]:
    """The cross-key checks of the stack read without what pydantic refused, so one bad key does not hide the
    next round of problems (validate reports everything at once): an unknown key is dropped, or read as its near
    name when that is a missing key (`minNode`); a refused list item (`apiComparison[0]`) or optional key is
    dropped. When the rest still does not parse (a required key refused), nothing more is said.
    Problems at keys already named are not repeated."""
    import copy
    import difflib

    fixed = copy.deepcopy(data)
    drops: list[tuple[Any, Any]] = []
    for e in err.errors():
        if e["type"] == "missing":
            continue
        *parents, key = data_loc(tuple(e["loc"]))
        node: Any = fixed
        try:
            for part in parents:
                node = node[part]
            node[key]
        except (KeyError, IndexError, TypeError):
            return []
        if e["type"] == "extra_forbidden":
            value = node.pop(key)
            near = difflib.get_close_matches(str(key), known_keys(StackSpec, tuple(parents)), n=1, cutoff=0.6)
            if near and near[0] not in node:
                node[near[0]] = value
        elif (node, key) not in [(n, k) for n, k in drops if n is node]:
            drops.append((node, key))
    # list items last to first, so the indexes pydantic reported stay right
    for node, key in sorted(drops, key=lambda d: d[1] if isinstance(d[1], int) else -1, reverse=True):
        del node[key]
    try:
        spec = StackSpec.model_validate(fixed)
    except ValidationError:
        return []
    seen = {p.path for p in known}
    return [p for p in check(spec, deploy=deploy) if p.path not in seen]


def project_config(document: Any) -> dict[str, Any]:
    """The `tradeoff-infra:` keys of a Pulumi stack file's `config:` block, namespace stripped, plus
    `aws:profile` (under that name) when set. An `aws:` role key the program would not apply is refused,
    and so is a secret key written in clear text instead of `secure:`."""
    if document is not None and not isinstance(document, dict):
        raise SpecError("(file)", [Problem("(file)", "a stack file is a YAML mapping with a `config:` block")])
    config = (document or {}).get("config") or {}
    if not isinstance(config, dict):
        raise SpecError("config", [Problem("config", "must be a mapping of keys")])
    problems = [Problem(key, AWS_ROLE_MESSAGE) for key in AWS_ROLE_KEYS if key in config]
    secrets = [(f"{NAMESPACE}{key}", key) for key in sorted(SECRET_KEYS)] + [(key, key) for key in AWS_SECRET_KEYS]
    for full_key, set_key in secrets:
        value = config.get(full_key)
        if value is not None:
            aws = "; better, keep AWS credentials out of the stack file and set aws:profile" if full_key in AWS_SECRET_KEYS else ""
            problems += _secret_problems(full_key, value, set_key, aws)
    if config.get(f"{NAMESPACE}{PROVIDER_API_KEYS}") is not None:
        problems += _provider_key_problems(config[f"{NAMESPACE}{PROVIDER_API_KEYS}"])
    profile = config.get(AWS_PROFILE_KEY)
    if profile is not None and not (isinstance(profile, str) and profile.strip()):
        problems.append(Problem(AWS_PROFILE_KEY, f"{profile!r} is not a profile name"))
    if problems:
        raise SpecError("config", problems)
    ours = {k[len(NAMESPACE):]: v for k, v in config.items() if isinstance(k, str) and k.startswith(NAMESPACE)}
    return {**ours, AWS_PROFILE_KEY: profile} if profile else ours


# A stack file is a few KB; 1 MiB is far beyond any real one and still parses in well under a second.
MAX_STACK_FILE_BYTES = files.MIB
SECRET_IN_CLEAR_MESSAGE = (
    "is written in clear text; a secret must be stored encrypted (`secure:`): delete this line and run "
    "`pulumi config set --secret {key} <value>`")


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: str, first: int, second: int):
        super().__init__(f"key {key!r} appears twice, on line {first} and line {second}: YAML would keep only "
                         "the last one and Pulumi refuses the file; keep one")


class _StackLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader (libyaml when present: it also bounds the nesting depth), refusing duplicate keys."""

    def construct_object(self, node, deep=False):  # noqa: ANN001
        """A scalar the YAML resolver types but Python cannot build (`2026-02-30` as a date, `!!int abc`,
        an integer of more digits than `int()` converts) is a YAML error at the value's line, not a
        ValueError escaping as a traceback."""
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError, TypeError) as err:
            if isinstance(err, yaml.YAMLError):
                raise
            raise yaml.constructor.ConstructorError(
                None, None, f"this {node.tag.rsplit(':', 1)[-1]} value cannot be read ({str(err).split(';')[0]})",
                node.start_mark) from None

    def construct_mapping(self, node, deep=False):  # noqa: ANN001
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode):  # a merge key `<<` twice is a duplicate too
                    continue
                key = key_node.value
                line = key_node.start_mark.line + 1
                if key in seen:
                    raise _DuplicateKey(key, seen[key], line)
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _yaml_problem(err: yaml.YAMLError) -> str:
    """The parser's reason and position, never a snippet of the file."""
    if isinstance(err, _DuplicateKey):
        return str(err)
    if isinstance(err, yaml.MarkedYAMLError):
        mark = err.problem_mark or err.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        return f"not valid YAML: {err.problem or err.context}{where}"
    return "not valid YAML"


def strict_yaml(text: str) -> Any:
    """YAML as the CLI reads every input it parses (a stack file, `--usage`): the safe loader, duplicate keys
    refused; ValueError with the parser's reason and position, never a snippet of the text."""
    try:
        return yaml.load(text, Loader=_StackLoader)
    except yaml.YAMLError as err:
        raise ValueError(_yaml_problem(err)) from None


def parse_stack_text(text: str, source: str) -> dict[str, Any]:
    """A stack file's text -> its YAML document (a mapping). SpecError on invalid YAML, a duplicate key,
    nesting too deep or a document that is not a mapping."""
    try:
        document = yaml.load(text, Loader=_StackLoader)
    except yaml.YAMLError as err:
        raise SpecError(source, [Problem("(file)", _yaml_problem(err))]) from None
    except RecursionError:
        raise SpecError(source, [Problem("(file)", "nested too deeply to be a stack file")]) from None
    if not isinstance(document, dict):
        raise SpecError(source, [Problem("(file)", "a stack file is a YAML mapping with a `config:` block")])
    return document


def read_stack_text(path: str | pathlib.Path) -> str:
    """The text of a stack file: a regular file (a symlink only to a file in the same folder), at most
    MAX_STACK_FILE_BYTES, UTF-8. SpecError names the file and the reason."""
    try:
        return files.read_text(files.resolve_within_folder(path), MAX_STACK_FILE_BYTES)
    except files.UnreadableFile as err:
        raise SpecError(str(path), [Problem("(file)", err.reason)]) from None


def read_stack_config(path: str | pathlib.Path) -> dict[str, Any]:
    """The one reader of stack files for the CLI: `project_config` of the file's document."""
    try:
        return project_config(parse_stack_text(read_stack_text(path), str(path)))
    except SpecError as err:
        raise SpecError(str(path), err.problems) from None  # name the file, not "config"


def load_stack_file(path: str | pathlib.Path) -> StackSpec:
    config = read_stack_config(path)
    return parse_stack_config(config, str(path))
