"""The AWS deployment, checked offline: infra/template.yaml lints clean with cfn-lint, expands
through the SAM transform (aws-sam-translator, as `sam validate` does without an account) and
holds the pieces docs/deploy.md promises; the Dockerfile keeps its promises too.

A dependency-cycle check of its own matters here: CloudFront needs the ALB and the API, and
the function and the task need CloudFront's domain name.
"""

from __future__ import annotations

import ast
import copy
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "template.yaml"

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
ALL_VIEWER_AND_CLOUDFRONT_HEADERS = "33f36d7e-f396-46d9-90e0-52428a34d9dc"
APP_TABLE_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:DescribeTable",
}
# Memberships change several items at once (TransactWriteItems needs each item's own action).
MEMBERSHIP_ACTIONS = {
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",
}


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader plus CloudFormation's short tags (!Ref, !Sub, !GetAtt a.b ...)."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    value: Any
    if suffix == "GetAtt" and isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node).split(".", 1)
    elif isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def _load_template() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_CfnLoader)  # noqa: S506


@pytest.fixture(scope="module")
def sam_template() -> dict[str, Any]:
    return _load_template()


@pytest.fixture(scope="module")
def expanded(sam_template: dict[str, Any]) -> dict[str, Any]:
    """The template after the SAM transform, offline: local CodeUris become S3 URIs (what
    `sam validate` does) and the managed-policy lookup is a stub (the template names none)."""
    from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
    from samtranslator.translator.transform import transform

    class NoManagedPolicies(ManagedPolicyLoader):
        def __init__(self) -> None:
            pass

        def load(self) -> dict[str, str]:
            return {}

    template = copy.deepcopy(sam_template)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://parley-artifacts/lambda.zip"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        patch.setenv("AWS_REGION", "us-east-1")
        return transform(
            template,
            {"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/parley:test"},
            NoManagedPolicies(),
        )


def _resources(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def _one(template: dict[str, Any], type_: str) -> dict[str, Any]:
    found = _resources(template, type_)
    assert len(found) == 1, f"expected one {type_}, found {sorted(found)}"
    return next(iter(found.values()))


def _walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _mentions(node: Any, logical_id: str) -> bool:
    """Whether a property refers to a resource (Ref, GetAtt or ${...} in a Sub)."""
    for item in _walk(node):
        if isinstance(item, dict):
            if item.get("Ref") == logical_id:
                return True
            get_att = item.get("Fn::GetAtt")
            if isinstance(get_att, list) and get_att and get_att[0] == logical_id:
                return True
            sub = item.get("Fn::Sub")
            text = sub[0] if isinstance(sub, list) else sub
            if isinstance(text, str) and re.search(rf"\$\{{{re.escape(logical_id)}[.}}]", text):
                return True
    return False


# ---------------------------------------------------------------- lint and transform


def test_cfn_lint_finds_nothing() -> None:
    """Errors and warnings both fail; none is silenced (the template has no cfn-lint Metadata)."""
    from cfnlint.api import ManualArgs, lint_file

    matches = lint_file(TEMPLATE, config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    assert [str(m) for m in matches] == []


def test_template_silences_no_cfn_lint_rule(sam_template: dict[str, Any]) -> None:
    for item in _walk(sam_template):
        if isinstance(item, dict):
            assert "cfn-lint" not in item


def _dependencies(template: dict[str, Any]) -> dict[str, set[str]]:
    """Each resource's direct dependencies: Ref, GetAtt, ${...} inside Sub, DependsOn."""
    names = set(template["Resources"])
    graph: dict[str, set[str]] = {}
    for name, resource in template["Resources"].items():
        depends = resource.get("DependsOn", [])
        found = {depends} if isinstance(depends, str) else set(depends)
        for item in _walk(resource.get("Properties", {})):
            if not isinstance(item, dict):
                continue
            if isinstance(item.get("Ref"), str):
                found.add(item["Ref"])
            if isinstance(item.get("Fn::GetAtt"), list):
                found.add(item["Fn::GetAtt"][0])
            sub = item.get("Fn::Sub")
            text = sub[0] if isinstance(sub, list) else sub
            if isinstance(text, str):
                found.update(m.split(".")[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text))
        graph[name] = found & names
    return graph


def test_no_dependency_cycle(expanded: dict[str, Any]) -> None:
    """CloudFront needs the ALB and the API; the function and the task need CloudFront's domain.
    (cfn-lint's own E3004 does not see a cycle made through Fn::Sub after the SAM transform.)"""
    graph = _dependencies(expanded)
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for dependency in sorted(graph[node]):
            if state.get(dependency) == "open":
                cycle = [*path[path.index(dependency) :], dependency]
                pytest.fail("dependency cycle: " + " -> ".join(cycle))
            if dependency not in state:
                visit(dependency, [*path, dependency])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert graph["HttpApiFunction"] >= {"Distribution", "HttpApiFunctionRole"}
    assert "HttpApiFunction" not in graph["HttpApi"]


def test_sam_transform_expands_to_plain_cloudformation(expanded: dict[str, Any]) -> None:
    types = {r["Type"] for r in expanded["Resources"].values()}
    assert not any(t.startswith("AWS::Serverless::") for t in types)
    assert "Transform" not in expanded
    for needed in (
        "AWS::Lambda::Function",
        "AWS::Lambda::EventSourceMapping",
        "AWS::ApiGatewayV2::Api",
        "AWS::ECS::Service",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::CloudFront::Distribution",
        "AWS::CloudFront::Function",
        "AWS::S3::Bucket",
        "AWS::SQS::Queue",
        "AWS::EC2::VPC",
        "AWS::EC2::VPCEndpoint",
        "AWS::ApplicationAutoScaling::ScalingPolicy",
    ):
        assert needed in types, needed


# ---------------------------------------------------------------- DynamoDB


def test_tables_follow_the_contract(expanded: dict[str, Any]) -> None:
    assert expanded["Parameters"]["TablePrefix"]["Default"] == "parley-"
    tables = _resources(expanded, "AWS::DynamoDB::Table")
    keys = {
        "UsersTable": ("${TablePrefix}users", [("username", "HASH")]),
        "RoomsTable": ("${TablePrefix}rooms", [("id", "HASH")]),
        "MembersTable": ("${TablePrefix}members", [("room", "HASH"), ("user", "RANGE")]),
        "MessagesTable": ("${TablePrefix}messages", [("room", "HASH"), ("id", "RANGE")]),
    }
    assert set(tables) == set(keys)
    for name, (table_name, schema) in keys.items():
        props = tables[name]["Properties"]
        assert props["TableName"] == {"Fn::Sub": table_name}
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert [(k["AttributeName"], k["KeyType"]) for k in props["KeySchema"]] == schema
        assert {a["AttributeType"] for a in props["AttributeDefinitions"]} == {"S"}
        assert tables[name]["DeletionPolicy"] == "Retain"
    # Old images too (rich messages): a REMOVE becomes a tombstone, an edit is told by its text.
    messages = tables["MessagesTable"]["Properties"]
    assert messages["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    # The app's spec (parley tables create, parley dev) and the template make the same index.
    from parley.storage.dynamo import CHANGES_INDEX_SPEC, MESSAGES_ATTRIBUTES

    assert messages["GlobalSecondaryIndexes"] == [CHANGES_INDEX_SPEC]
    assert messages["AttributeDefinitions"] == MESSAGES_ATTRIBUTES
    # The two sparse indexes of docs/design/conversations.md, as parley.storage.dynamo makes them.
    from parley.storage.dynamo import TableNames, _table_specs

    specs = {spec["TableName"]: spec for spec in _table_specs(TableNames.with_prefix("p-"))}
    for name, table_name in (("RoomsTable", "p-rooms"), ("MembersTable", "p-members")):
        props = tables[name]["Properties"]
        assert props["GlobalSecondaryIndexes"] == specs[table_name]["GlobalSecondaryIndexes"]
        assert props["AttributeDefinitions"] == specs[table_name]["AttributeDefinitions"]


# ---------------------------------------------------------------- Lambda functions


def _function(expanded: dict[str, Any], handler: str) -> dict[str, Any]:
    functions = [
        f["Properties"]
        for f in _resources(expanded, "AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == handler
    ]
    assert len(functions) == 1, handler
    return functions[0]


@pytest.mark.parametrize("handler", ["parley.aws.http.handler", "parley.aws.stream.handler"])
def test_functions_run_python_311_in_the_private_subnets(
    expanded: dict[str, Any], handler: str
) -> None:
    props = _function(expanded, handler)
    assert props["Runtime"] == "python3.11"
    assert sorted(s["Ref"] for s in props["VpcConfig"]["SubnetIds"]) == [
        "PrivateSubnetA",
        "PrivateSubnetB",
    ]
    env = props["Environment"]["Variables"]
    assert "AWS_REGION" not in env  # reserved: Lambda sets it
    # The Redis URL (with its AUTH token) is read from Secrets Manager at cold start, never
    # held in the environment.
    assert env["PARLEY_REDIS_URL_SECRET_ARN"] == {"Ref": "RedisUrlSecret"}
    assert "PARLEY_REDIS_URL" not in env
    assert "resolve:secretsmanager" not in json.dumps(env)
    assert env["PARLEY_TABLE_PREFIX"] == {"Ref": "TablePrefix"}


def test_http_function_knows_the_public_origin(expanded: dict[str, Any]) -> None:
    env = _function(expanded, "parley.aws.http.handler")["Environment"]["Variables"]
    assert env["PARLEY_COOKIE_SECURE"] == "true"
    origins = env["PARLEY_ALLOWED_ORIGINS"]
    assert _mentions(origins, "Distribution")
    assert "https://${Distribution.DomainName}" in json.dumps(origins)


def test_http_api_is_payload_v2_on_api_paths(expanded: dict[str, Any]) -> None:
    integration = _one(expanded, "AWS::ApiGatewayV2::Integration")["Properties"]
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["PayloadFormatVersion"] == "2.0"
    assert _mentions(integration["IntegrationUri"], "HttpApiFunction")
    route = _one(expanded, "AWS::ApiGatewayV2::Route")["Properties"]
    assert route["RouteKey"] == "ANY /api/{proxy+}"
    assert _one(expanded, "AWS::ApiGatewayV2::Api")["Properties"]["ProtocolType"] == "HTTP"
    permission = _one(expanded, "AWS::Lambda::Permission")["Properties"]
    assert permission["Principal"] == "apigateway.amazonaws.com"


def test_stream_mapping_is_bounded_and_reports_item_failures(expanded: dict[str, Any]) -> None:
    mapping = _one(expanded, "AWS::Lambda::EventSourceMapping")["Properties"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["MessagesTable", "StreamArn"]}
    assert mapping["FunctionName"] == {"Ref": "StreamFunction"}
    assert mapping["StartingPosition"] == "LATEST"
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # Changes and removals are delivered too (rich messages), not only new items.
    patterns = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
    assert patterns == [{"eventName": ["INSERT", "MODIFY", "REMOVE"]}]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert 0 <= mapping["MaximumRetryAttempts"] <= 10
    assert 1 <= mapping["BatchSize"] <= 1000
    assert 60 <= mapping["MaximumRecordAgeInSeconds"] <= 3600
    destination = mapping["DestinationConfig"]["OnFailure"]["Destination"]
    assert destination == {"Fn::GetAtt": ["StreamFailureQueue", "Arn"]}
    assert expanded["Resources"]["StreamFailureQueue"]["Type"] == "AWS::SQS::Queue"


# ---------------------------------------------------------------- IAM


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    policies = role["Properties"].get("Policies", [])
    return [s for p in policies for s in p["PolicyDocument"]["Statement"]]


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def test_roles_attach_no_managed_policies_and_list_dynamodb_actions(
    expanded: dict[str, Any],
) -> None:
    roles = _resources(expanded, "AWS::IAM::Role")
    assert set(roles) == {
        "HttpApiFunctionRole",
        "StreamFunctionRole",
        "TaskExecutionRole",
        "TaskRole",
    }
    for name, role in roles.items():
        assert "ManagedPolicyArns" not in role["Properties"], name
        for statement in _statements(role):
            assert statement["Effect"] == "Allow"
            for action in _actions(statement):
                assert "*" not in action, f"{name}: wildcard action {action}"
                if action.startswith("dynamodb:"):
                    assert statement["Resource"] != "*", f"{name}: {action} on *"


def _table_grants(role: dict[str, Any]) -> dict[str, set[str]]:
    """Table logical id -> the DynamoDB actions a role has on it."""
    grants: dict[str, set[str]] = {}
    for statement in _statements(role):
        actions = {a for a in _actions(statement) if a.startswith("dynamodb:")}
        if not actions:
            continue
        resources = statement["Resource"]
        for resource in resources if isinstance(resources, list) else [resources]:
            if "Fn::Sub" in resource:  # an index: "${MessagesTable.Arn}/index/changes"
                table_arn, _, index = resource["Fn::Sub"].partition("/")
                table = table_arn.removeprefix("${").removesuffix(".Arn}") + "/" + index
            else:
                table = resource["Fn::GetAtt"][0]
            grants.setdefault(table, set()).update(actions)
    return grants


def test_app_roles_reach_only_what_their_tier_uses(expanded: dict[str, Any]) -> None:
    http = _table_grants(expanded["Resources"]["HttpApiFunctionRole"])
    sockets = _table_grants(expanded["Resources"]["TaskRole"])
    for grants in (http, sockets):
        assert set().union(*grants.values()) <= APP_TABLE_ACTIONS | MEMBERSHIP_ACTIONS
    # Accounts (login, registration, password change) are the HTTP function's alone.
    assert "UsersTable" not in sockets
    assert http["UsersTable"] >= {"dynamodb:GetItem", "dynamodb:PutItem"}
    # Messages are written by sockets only; the HTTP function reads history.
    assert http["MessagesTable"] == {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:DescribeTable"}
    assert {"dynamodb:PutItem", "dynamodb:Query"} <= sockets["MessagesTable"]
    # Catching up with changes reads the changes index; edits, deletions and reactions are
    # conditional updates made by sockets.
    assert http["MessagesTable/index/changes"] == {"dynamodb:Query"}
    assert "dynamodb:UpdateItem" in sockets["MessagesTable"]
    # Rooms: made through the API (the directory is an index query, no scan); sockets check
    # them, make #general at start and count a member who joins by sending.
    assert {"dynamodb:PutItem", "dynamodb:Query"} <= http["RoomsTable/index/*"]
    assert "dynamodb:Scan" not in set().union(*http.values(), *sockets.values())
    assert sockets["RoomsTable"] == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}
    # Memberships: both tiers change them (HTTP routes; a socket's send to a public room).
    for grants in (http, sockets):
        assert grants["MembersTable"] >= MEMBERSHIP_ACTIONS | {"dynamodb:GetItem"}
        assert grants["MembersTable/index/*"] >= {"dynamodb:Query"}


def _evaluate(node: Any, parameters: dict[str, str]) -> Any:
    """Enough of CloudFormation's intrinsics (Ref to a parameter, Split, Select, Sub with a
    variable map) to compute a resource name from parameter values."""
    if isinstance(node, dict) and len(node) == 1:
        ((name, value),) = node.items()
        if name == "Ref":
            return parameters.get(value, "${" + value + "}")
        if name == "Fn::Split":
            return _evaluate(value[1], parameters).split(value[0])
        if name == "Fn::Select":
            return _evaluate(value[1], parameters)[int(value[0])]
        if name == "Fn::Sub":
            text, variables = value if isinstance(value, list) else (value, {})
            for key, sub in variables.items():
                text = text.replace("${" + key + "}", _evaluate(sub, parameters))
            return text
    return node


@pytest.mark.parametrize(
    ("image", "repository"),
    [
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/parley:abc123", "parley"),
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/parley:v1", "team/parley"),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/parley@sha256:0f1e", "parley"),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/parley", "parley"),
    ],
)
def test_image_pull_is_scoped_to_the_one_repository(
    expanded: dict[str, Any], image: str, repository: str
) -> None:
    statements = _statements(expanded["Resources"]["TaskExecutionRole"])
    (pull,) = [s for s in statements if "ecr:BatchGetImage" in _actions(s)]
    arn = _evaluate(pull["Resource"], {"ImageUri": image})
    prefix = "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/"
    assert arn == prefix + repository
    assert re.fullmatch(expanded["Parameters"]["ImageUri"]["AllowedPattern"], image)
    assert not re.fullmatch(expanded["Parameters"]["ImageUri"]["AllowedPattern"], "parley:latest")


def test_lambdas_read_only_their_own_secrets(expanded: dict[str, Any]) -> None:
    def secrets_of(role: str) -> list[Any]:
        statements = _statements(expanded["Resources"][role])
        found = [s for s in statements if "secretsmanager:GetSecretValue" in _actions(s)]
        assert all(_actions(s) == {"secretsmanager:GetSecretValue"} for s in found)
        return [
            r
            for s in found
            for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
        ]

    assert secrets_of("HttpApiFunctionRole") == [
        {"Ref": "RedisUrlSecret"},
        {"Ref": "OriginVerifySecret"},
    ]
    assert secrets_of("StreamFunctionRole") == [{"Ref": "RedisUrlSecret"}]
    endpoints = _resources(expanded, "AWS::EC2::VPCEndpoint").values()
    (secrets,) = [e["Properties"] for e in endpoints if "secretsmanager" in json.dumps(e)]
    assert secrets["VpcEndpointType"] == "Interface"
    assert secrets["PrivateDnsEnabled"] is True
    assert sorted(s["Ref"] for s in secrets["SubnetIds"]) == ["PrivateSubnetA", "PrivateSubnetB"]
    (group,) = secrets["SecurityGroupIds"]
    ingress = expanded["Resources"][group["Fn::GetAtt"][0]]["Properties"]["SecurityGroupIngress"]
    assert [(r["FromPort"], r["SourceSecurityGroupId"]) for r in ingress] == [
        (443, {"Ref": "LambdaSecurityGroup"})
    ]


def test_stream_role_reads_the_stream_and_which_named_people_are_members(
    expanded: dict[str, Any],
) -> None:
    """The stream, and one read of the members table: which of the people an outside
    message names are members of its room (parley/mentions.py), nothing else."""
    statements = _statements(expanded["Resources"]["StreamFunctionRole"])
    dynamo = [s for s in statements if any(a.startswith("dynamodb:") for a in _actions(s))]
    members = [s for s in dynamo if _mentions(s["Resource"], "MembersTable")]
    assert [_actions(s) for s in members] == [{"dynamodb:BatchGetItem"}]
    assert members[0]["Resource"] == {"Fn::GetAtt": ["MembersTable", "Arn"]}  # not its index
    stream = [s for s in dynamo if s not in members]
    actions = set().union(*(_actions(s) for s in stream))
    assert actions == {
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
    }
    for statement in stream:
        assert _mentions(statement["Resource"], "MessagesTable")
    sqs = [s for s in statements if _actions(s) == {"sqs:SendMessage"}]
    assert [s["Resource"] for s in sqs] == [{"Fn::GetAtt": ["StreamFailureQueue", "Arn"]}]


# ---------------------------------------------------------------- Redis


def test_redis_is_one_tls_replication_group_with_auth_in_private_subnets(
    expanded: dict[str, Any],
) -> None:
    redis = _one(expanded, "AWS::ElastiCache::ReplicationGroup")["Properties"]
    assert redis["Engine"] == "redis"
    assert redis["TransitEncryptionEnabled"] is True
    assert "NumNodeGroups" not in redis  # cluster mode disabled
    assert "{{resolve:secretsmanager:${RedisAuthTokenSecret}}}" in json.dumps(redis["AuthToken"])
    assert expanded["Parameters"]["RedisNodeType"]["Default"] == "cache.t4g.micro"
    subnets = expanded["Resources"][redis["CacheSubnetGroupName"]["Ref"]]["Properties"]["SubnetIds"]
    assert sorted(s["Ref"] for s in subnets) == ["PrivateSubnetA", "PrivateSubnetB"]
    # RedisMode chooses the URL: the replication group's primary (the default), or the
    # Serverless cache's endpoint; the same token either way.
    condition, serverless, nodes = expanded["Resources"]["RedisUrlSecret"]["Properties"][
        "SecretString"
    ]["Fn::If"]
    assert condition == "RedisServerless"
    url = nodes["Fn::Sub"]
    assert url.startswith("rediss://:{{resolve:secretsmanager:")
    assert url.endswith("@${Redis.PrimaryEndPoint.Address}:${Redis.PrimaryEndPoint.Port}/0")
    assert serverless["Fn::Sub"] == url.replace(
        "Redis.PrimaryEndPoint", "RedisServerlessCache.Endpoint"
    )


def test_redis_serverless_is_an_option_with_tls_auth_and_a_watched_ceiling(
    expanded: dict[str, Any],
) -> None:
    parameters = expanded["Parameters"]
    assert parameters["RedisMode"]["Default"] == "nodes"
    assert parameters["RedisMode"]["AllowedValues"] == ["nodes", "serverless"]
    resources = expanded["Resources"]
    cache = resources["RedisServerlessCache"]
    assert cache["Condition"] == "RedisServerless"
    assert resources["Redis"]["Condition"] == "RedisNodes"
    properties = cache["Properties"]
    assert properties["CacheUsageLimits"]["DataStorage"]["Maximum"] == {
        "Ref": "RedisServerlessMaxGB"
    }
    subnets = sorted(s["Ref"] for s in properties["SubnetIds"])
    assert subnets == ["PrivateSubnetA", "PrivateSubnetB"]
    # Serverless authenticates through a user group: its default user has the generated token.
    users = resources[properties["UserGroupId"]["Ref"]]["Properties"]["UserIds"]
    (user,) = [resources[u["Ref"]]["Properties"] for u in users]
    assert user["UserName"] == "default"
    assert "RedisAuthTokenSecret" in json.dumps(user["AuthenticationMode"]["Passwords"])
    # Every tier uses the cluster client exactly when the cache is Serverless.
    cluster_flag = {"Fn::If": ["RedisServerless", "true", "false"]}
    for function in ("HttpApiFunction", "StreamFunction"):
        variables = resources[function]["Properties"]["Environment"]["Variables"]
        assert variables["PARLEY_REDIS_CLUSTER"] == cluster_flag
    task = _one(expanded, "AWS::ECS::TaskDefinition")["Properties"]
    (container,) = task["ContainerDefinitions"]
    env = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert env["PARLEY_REDIS_CLUSTER"] == cluster_flag
    alarm = resources["RedisServerlessMemoryAlarm"]
    assert alarm["Condition"] == "RedisServerless"
    assert alarm["Properties"]["Threshold"] <= 80


def test_redis_never_evicts_and_warns_before_it_is_full(expanded: dict[str, Any]) -> None:
    # Sessions and rate limits must never be evicted: writes are refused instead (503), and
    # an alarm on memory says so before.
    redis = _one(expanded, "AWS::ElastiCache::ReplicationGroup")["Properties"]
    group = expanded["Resources"][redis["CacheParameterGroupName"]["Ref"]]
    assert group["Type"] == "AWS::ElastiCache::ParameterGroup"
    assert (
        group["Properties"]["CacheParameterGroupFamily"]
        == "redis" + redis["EngineVersion"].split(".")[0]
    )
    assert group["Properties"]["Properties"] == {"maxmemory-policy": "noeviction"}
    [alarm] = [
        alarm["Properties"]
        for alarm in _resources(expanded, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Namespace") == "AWS/ElastiCache"
        and alarm["Properties"].get("MetricName") == "DatabaseMemoryUsagePercentage"
    ]
    assert alarm["Threshold"] <= 90
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    [dimension] = alarm["Dimensions"]
    assert dimension["Name"] == "CacheClusterId"
    assert _mentions(dimension["Value"], "Redis")


def test_dynamodb_is_reached_through_a_gateway_endpoint(expanded: dict[str, Any]) -> None:
    endpoints = _resources(expanded, "AWS::EC2::VPCEndpoint").values()
    (endpoint,) = [e["Properties"] for e in endpoints if "dynamodb" in json.dumps(e)]
    assert endpoint["VpcEndpointType"] == "Gateway"
    assert endpoint["ServiceName"] == {"Fn::Sub": "com.amazonaws.${AWS::Region}.dynamodb"}
    assert {"Ref": "PrivateRouteTable"} in endpoint["RouteTableIds"]
    assert not _resources(expanded, "AWS::EC2::NatGateway")


# ---------------------------------------------------------------- ECS, ALB, autoscaling


def test_alb_keeps_sockets_and_sessions(expanded: dict[str, Any]) -> None:
    alb = _one(expanded, "AWS::ElasticLoadBalancingV2::LoadBalancer")["Properties"]
    attributes = {a["Key"]: a["Value"] for a in alb["LoadBalancerAttributes"]}
    assert int(attributes["idle_timeout.timeout_seconds"]) > 25 + 20  # Socket.IO ping + timeout
    group = _one(expanded, "AWS::ElasticLoadBalancingV2::TargetGroup")["Properties"]
    assert group["HealthCheckPath"] == "/healthz"
    assert group["TargetType"] == "ip"
    assert group["Port"] == 8000
    attributes = {a["Key"]: a["Value"] for a in group["TargetGroupAttributes"]}
    assert attributes["stickiness.enabled"] == "true"
    assert attributes["stickiness.type"] == "lb_cookie"


def test_alb_forwards_only_requests_from_cloudfront(expanded: dict[str, Any]) -> None:
    listener = _one(expanded, "AWS::ElasticLoadBalancingV2::Listener")["Properties"]
    assert listener["DefaultActions"][0]["Type"] == "fixed-response"
    assert listener["DefaultActions"][0]["FixedResponseConfig"]["StatusCode"] == "403"
    rule = _one(expanded, "AWS::ElasticLoadBalancingV2::ListenerRule")["Properties"]
    header = next(c for c in rule["Conditions"] if c["Field"] == "http-header")
    assert header["HttpHeaderConfig"]["HttpHeaderName"] == "X-Parley-Origin-Verify"
    assert _mentions(header, "OriginVerifySecret")
    distribution = _one(expanded, "AWS::CloudFront::Distribution")["Properties"]
    origins = distribution["DistributionConfig"]["Origins"]
    realtime = next(o for o in origins if o["Id"] == "realtime")
    assert realtime["OriginCustomHeaders"][0]["HeaderName"] == "X-Parley-Origin-Verify"
    assert _mentions(realtime["OriginCustomHeaders"], "OriginVerifySecret")


def test_alb_is_internal_and_reached_through_a_vpc_origin(
    expanded: dict[str, Any], distribution: dict[str, Any]
) -> None:
    """The hop that carries the session cookie and the origin secret never crosses the
    internet by default, and nothing but CloudFront can reach the ALB."""
    alb = _one(expanded, "AWS::ElasticLoadBalancingV2::LoadBalancer")["Properties"]
    assert alb["Scheme"] == "internal"
    assert sorted(s["Ref"] for s in alb["Subnets"]) == ["PrivateSubnetA", "PrivateSubnetB"]
    (group,) = alb["SecurityGroups"]
    ingress = expanded["Resources"][group["Fn::GetAtt"][0]]["Properties"]["SecurityGroupIngress"]
    assert "0.0.0.0/0" not in json.dumps(ingress)
    assert "::/0" not in json.dumps(ingress)
    (rule,) = ingress
    assert _mentions(rule["SourcePrefixListId"], "CloudFrontPrefixListId")
    assert _mentions(rule["CidrIp"], "Vpc")
    realtime = next(o for o in distribution["Origins"] if o["Id"] == "realtime")
    assert "CustomOriginConfig" not in realtime
    vpc_origin = realtime["VpcOriginConfig"]["VpcOriginId"]
    assert vpc_origin == {"Fn::GetAtt": ["RealtimeVpcOrigin", "Id"]}
    endpoint = expanded["Resources"]["RealtimeVpcOrigin"]["Properties"]["VpcOriginEndpointConfig"]
    assert endpoint["Arn"] == {"Ref": "LoadBalancer"}
    assert realtime["VpcOriginConfig"]["OriginReadTimeout"] > 25  # Socket.IO long-polling
    # Every origin reached over the internet is HTTPS only.
    for origin in distribution["Origins"]:
        if "CustomOriginConfig" in origin:
            assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"


def test_api_requests_carry_the_origin_secret_the_function_checks(
    expanded: dict[str, Any], distribution: dict[str, Any]
) -> None:
    """Only CloudFront knows the secret, so a direct call to the public execute-api endpoint
    cannot choose its own CloudFront-Viewer-Address."""
    api = next(o for o in distribution["Origins"] if o["Id"] == "api")
    (header,) = api["OriginCustomHeaders"]
    assert header["HeaderName"] == "X-Parley-Origin-Verify"
    assert _mentions(header["HeaderValue"], "OriginVerifySecret")
    env = _function(expanded, "parley.aws.http.handler")["Environment"]["Variables"]
    assert env["PARLEY_CLIENT_IP_HEADER"] == "CloudFront-Viewer-Address"
    assert env["PARLEY_ORIGIN_SECRET_ARN"] == {"Ref": "OriginVerifySecret"}
    assert "PARLEY_ORIGIN_SECRET" not in env


def test_cloudfront_and_the_http_api_keep_access_logs(
    expanded: dict[str, Any], distribution: dict[str, Any]
) -> None:
    logging = distribution["Logging"]
    assert _mentions(logging["Bucket"], "AccessLogBucket")
    assert logging["IncludeCookies"] is False  # session cookies stay out of the logs
    bucket = expanded["Resources"]["AccessLogBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == {
        "Ref": "LogRetentionDays"
    }
    stage = _one(expanded, "AWS::ApiGatewayV2::Stage")["Properties"]
    settings = stage["AccessLogSettings"]
    assert _mentions(settings["DestinationArn"], "HttpApiAccessLogGroup")
    line = json.loads(settings["Format"])
    assert line["ip"] == "$context.identity.sourceIp"
    assert "cookie" not in settings["Format"].lower()


def test_the_alb_keeps_access_logs_that_elb_may_write(expanded: dict[str, Any]) -> None:
    resources = expanded["Resources"]
    alb = _one(expanded, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    attributes = {a["Key"]: a["Value"] for a in alb["Properties"]["LoadBalancerAttributes"]}
    assert attributes["access_logs.s3.enabled"] == "true"
    assert attributes["access_logs.s3.bucket"] == {"Ref": "AccessLogBucket"}
    prefix = attributes["access_logs.s3.prefix"]
    # ELB checks it may write when logging is turned on: the policy must exist first.
    assert "AccessLogBucketPolicy" in alb["DependsOn"]
    bucket = resources["AccessLogBucket"]["Properties"]
    (encryption,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"  # SSE-S3 only
    assert bucket["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == {
        "Ref": "LogRetentionDays"
    }
    policy = resources["AccessLogBucketPolicy"]["Properties"]["PolicyDocument"]
    (delivery,) = [s for s in policy["Statement"] if s.get("Sid") == "AlbLogDelivery"]
    assert (delivery["Effect"], delivery["Action"]) == ("Allow", "s3:PutObject")
    assert delivery["Resource"] == {
        "Fn::Sub": f"${{AccessLogBucket.Arn}}/{prefix}/AWSLogs/${{AWS::AccountId}}/*"
    }
    # The Region's ELB account where it has one (Regions before August 2022), else the
    # log-delivery service principal.
    condition, by_account, by_service = delivery["Principal"]["Fn::If"]
    assert by_service == {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    assert "ElbLogAccount" in json.dumps(by_account)
    accounts = expanded["Mappings"]["ElbLogAccount"]
    assert accounts["us-east-1"] == {"Account": "127311923021"}
    assert all(re.fullmatch(r"\d{12}", entry["Account"]) for entry in accounts.values())
    regions = re.findall(
        r'"Ref": "AWS::Region"\}, "([a-z0-9-]+)"', json.dumps(expanded["Conditions"][condition])
    )
    assert sorted(regions) == sorted(accounts)


def test_the_execute_api_endpoint_stays_on_because_cloudfront_reaches_the_api_there(
    expanded: dict[str, Any], distribution: dict[str, Any]
) -> None:
    """DisableExecuteApiEndpoint would cut CloudFront off: its /api origin is the execute-api
    hostname (no API Gateway custom domain). A direct caller is limited as itself instead: the
    client-address header counts only with the origin secret (docs/deploy.md)."""
    api = next(o for o in distribution["Origins"] if o["Id"] == "api")
    assert "execute-api" in api["DomainName"]["Fn::Sub"]
    apis = _resources(expanded, "AWS::ApiGatewayV2::Api")
    assert [a["Properties"]["ProtocolType"] for a in apis.values()] == ["HTTP"]  # no WebSocket API
    assert all(not a["Properties"].get("DisableExecuteApiEndpoint") for a in apis.values())
    assert not _resources(expanded, "AWS::ApiGatewayV2::DomainName")


def test_fargate_task_runs_the_image_with_the_app_environment(expanded: dict[str, Any]) -> None:
    task = _one(expanded, "AWS::ECS::TaskDefinition")["Properties"]
    assert task["RequiresCompatibilities"] == ["FARGATE"]
    (container,) = task["ContainerDefinitions"]
    assert container["Image"] == {"Ref": "ImageUri"}
    assert container["PortMappings"][0]["ContainerPort"] == 8000
    assert "Command" not in container  # the image's CMD: parley serve --host 0.0.0.0 --port 8000
    env = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert env["PARLEY_COOKIE_SECURE"] == "true"
    assert env["PARLEY_TABLE_PREFIX"] == {"Ref": "TablePrefix"}
    assert _mentions(env["PARLEY_ALLOWED_ORIGINS"], "Distribution")
    assert env["AWS_REGION"] == {"Ref": "AWS::Region"}
    secrets = {s["Name"]: s["ValueFrom"] for s in container["Secrets"]}
    assert secrets == {
        "PARLEY_REDIS_URL": {"Ref": "RedisUrlSecret"},
        "PARLEY_ORIGIN_SECRET": {"Ref": "OriginVerifySecret"},
    }
    # The per-address socket cap counts the viewer (CloudFront's header, with the secret
    # beside it), not the ALB every socket comes through.
    assert env["PARLEY_CLIENT_IP_HEADER"] == "CloudFront-Viewer-Address"
    execution = _statements(expanded["Resources"]["TaskExecutionRole"])
    readable = [s["Resource"] for s in execution if "secretsmanager:GetSecretValue" in _actions(s)]
    assert readable == [{"Ref": "RedisUrlSecret"}, {"Ref": "OriginVerifySecret"}]
    service = _one(expanded, "AWS::ECS::Service")["Properties"]
    assert service["LaunchType"] == "FARGATE"
    assert service["LoadBalancers"][0]["ContainerPort"] == 8000


def test_service_scales_on_requests_per_target(expanded: dict[str, Any]) -> None:
    policies = [
        p["Properties"]["TargetTrackingScalingPolicyConfiguration"]
        for p in _resources(expanded, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    ]
    metrics = {p["PredefinedMetricSpecification"]["PredefinedMetricType"] for p in policies}
    assert "ALBRequestCountPerTarget" in metrics
    target = _one(expanded, "AWS::ApplicationAutoScaling::ScalableTarget")["Properties"]
    assert target["ScalableDimension"] == "ecs:service:DesiredCount"


# ---------------------------------------------------------------- CloudFront


@pytest.fixture(scope="module")
def distribution(expanded: dict[str, Any]) -> dict[str, Any]:
    return _one(expanded, "AWS::CloudFront::Distribution")["Properties"]["DistributionConfig"]


def test_cloudfront_routes_api_and_socketio_uncached(distribution: dict[str, Any]) -> None:
    origins = {o["Id"]: o for o in distribution["Origins"]}
    behaviours = {b["PathPattern"]: b for b in distribution["CacheBehaviors"]}
    assert set(behaviours) == {"/api/*", "/socket.io/*"}

    api = behaviours["/api/*"]
    assert _mentions(origins[api["TargetOriginId"]]["DomainName"], "HttpApi")
    socket = behaviours["/socket.io/*"]
    assert _mentions(origins[socket["TargetOriginId"]]["DomainName"], "LoadBalancer")

    for behaviour in (api, socket):
        assert behaviour["CachePolicyId"] == CACHING_DISABLED
        assert "POST" in behaviour["AllowedMethods"]
        assert behaviour["ViewerProtocolPolicy"] == "https-only"
    # Socket.IO: every header (WebSocket upgrade), every cookie (session + AWSALB), query string.
    assert socket["OriginRequestPolicyId"] == ALL_VIEWER_AND_CLOUDFRONT_HEADERS


def test_api_origin_request_policy_forwards_cookies_but_not_host(expanded: dict[str, Any]) -> None:
    policy = _one(expanded, "AWS::CloudFront::OriginRequestPolicy")["Properties"]
    config = policy["OriginRequestPolicyConfig"]
    assert config["CookiesConfig"]["CookieBehavior"] == "all"
    assert config["QueryStringsConfig"]["QueryStringBehavior"] == "all"
    headers = {h.lower() for h in config["HeadersConfig"]["Headers"]}
    assert config["HeadersConfig"]["HeaderBehavior"] == "whitelist"
    assert "host" not in headers  # API Gateway routes on its own host name
    assert {"origin", "content-type", "cloudfront-viewer-address"} <= headers


def test_spa_fallback_is_a_function_on_the_default_behaviour_only(
    distribution: dict[str, Any],
) -> None:
    assert "CustomErrorResponses" not in distribution  # would turn API 404s into index.html
    default = distribution["DefaultCacheBehavior"]
    assert default["TargetOriginId"] == "site"
    assert default["CachePolicyId"] == CACHING_OPTIMIZED
    (association,) = default["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    assert _mentions(association["FunctionARN"], "SpaRewriteFunction")
    for behaviour in distribution["CacheBehaviors"]:
        assert "FunctionAssociations" not in behaviour


def test_site_bucket_is_private_behind_origin_access_control(
    expanded: dict[str, Any], distribution: dict[str, Any]
) -> None:
    site = next(o for o in distribution["Origins"] if o["Id"] == "site")
    assert _mentions(site["DomainName"], "SiteBucket")
    assert _mentions(site["OriginAccessControlId"], "SiteOriginAccessControl")
    bucket = expanded["Resources"]["SiteBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    policy = expanded["Resources"]["SiteBucketPolicy"]["Properties"]["PolicyDocument"]
    read = next(s for s in policy["Statement"] if s["Effect"] == "Allow")
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert _mentions(read["Condition"], "Distribution")


def _app_security_headers() -> dict[str, str] | None:
    """SECURITY_HEADERS of parley/api/security.py, read without importing the package."""
    source = ROOT / "parley" / "api" / "security.py"
    if not source.exists():
        return None
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        target = getattr(node, "target", None) or (getattr(node, "targets", None) or [None])[0]
        if isinstance(target, ast.Name) and target.id == "SECURITY_HEADERS":
            pairs = ast.literal_eval(node.value)  # type: ignore[attr-defined]
            return {k.decode().lower(): v.decode() for k, v in pairs}
    return None


def test_site_gets_the_apps_security_headers(
    expanded: dict[str, Any], distribution: dict[str, Any]
) -> None:
    """The front end is served by S3 in production, so CloudFront must add what the app adds."""
    default = distribution["DefaultCacheBehavior"]
    assert default["ResponseHeadersPolicyId"] == {"Ref": "SiteResponseHeadersPolicy"}
    config = expanded["Resources"]["SiteResponseHeadersPolicy"]["Properties"][
        "ResponseHeadersPolicyConfig"
    ]
    security = config["SecurityHeadersConfig"]
    cloudfront = {
        "content-security-policy": security["ContentSecurityPolicy"]["ContentSecurityPolicy"],
        "x-content-type-options": "nosniff",
        "x-frame-options": security["FrameOptions"]["FrameOption"],
        "referrer-policy": security["ReferrerPolicy"]["ReferrerPolicy"],
        **{i["Header"].lower(): i["Value"] for i in config["CustomHeadersConfig"]["Items"]},
    }
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    app = _app_security_headers()
    if app is None:
        pytest.skip("parley/api/security.py has no SECURITY_HEADERS to compare with")
    assert cloudfront == app


SPA_CASES = {
    "/": "/index.html",
    "/login": "/index.html",
    "/rooms/random-talk": "/index.html",
    "/rooms/general/": "/index.html",
    "/index.html": "/index.html",
    "/assets/index-3f9a.js": "/assets/index-3f9a.js",
    "/favicon.ico": "/favicon.ico",
}


def test_spa_rewrite_function_keeps_files_and_rewrites_routes(
    sam_template: dict[str, Any],
) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    code = sam_template["Resources"]["SpaRewriteFunction"]["Properties"]["FunctionCode"]
    script = code + (
        "\nconst cases = JSON.parse(process.argv[1]);"
        "\nconst out = {};"
        "\nfor (const uri of Object.keys(cases)) {"
        "\n  out[uri] = handler({request: {uri: uri, headers: {}}}).uri;"
        "\n}"
        "\nprocess.stdout.write(JSON.stringify(out));"
    )
    result = subprocess.run(
        [node, "-e", script, json.dumps(SPA_CASES)],
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    )
    assert json.loads(result.stdout) == SPA_CASES


# ---------------------------------------------------------------- outputs and parameters


def test_outputs_give_the_url_the_bucket_and_the_image_hint(expanded: dict[str, Any]) -> None:
    outputs = expanded["Outputs"]
    assert {"SiteUrl", "SiteBucketName", "DistributionId", "ImagePushHint"} <= set(outputs)
    assert _mentions(outputs["SiteBucketName"]["Value"], "SiteBucket")
    assert "docker" in json.dumps(outputs["ImagePushHint"]["Value"])


def test_no_plaintext_secret_parameters(expanded: dict[str, Any]) -> None:
    """Secrets are generated by Secrets Manager; no parameter carries one."""
    for name, parameter in expanded["Parameters"].items():
        assert not re.search("token|password|secret", name, re.IGNORECASE), name
        assert "NoEcho" not in parameter


# ---------------------------------------------------------------- Dockerfile


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def test_dockerfile_builds_the_package_and_runs_it_unprivileged() -> None:
    instructions = _dockerfile_instructions()
    stages = [arg for op, arg in instructions if op == "FROM"]
    assert len(stages) >= 2
    assert all("${PYTHON_IMAGE}" in s for s in stages)
    args = [arg for op, arg in instructions if op == "ARG"]
    assert "PYTHON_IMAGE=python:3.11-slim" in args
    runs = " ".join(arg for op, arg in instructions if op == "RUN")
    assert "pip wheel" in runs
    assert "[aws]" in runs
    final = instructions[max(i for i, (op, _) in enumerate(instructions) if op == "FROM") :]
    users = [arg for op, arg in final if op == "USER"]
    assert users
    assert not users[-1].startswith(("root", "0"))
    (cmd,) = [arg for op, arg in final if op == "CMD"]
    assert json.loads(cmd) == ["parley", "serve", "--host", "0.0.0.0", "--port", "8000"]
    (healthcheck,) = [arg for op, arg in final if op == "HEALTHCHECK"]
    assert "/healthz" in healthcheck
    assert "python" in healthcheck
    assert "curl" not in healthcheck


def test_dockerignore_lets_in_only_the_package() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*"
    assert {"!pyproject.toml", "!parley"} <= set(patterns)
