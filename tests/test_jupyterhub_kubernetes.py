"""hub/z2jh-values.yaml, the Zero to JupyterHub values for a class on Kubernetes: checked without a cluster.

No cluster runs here, so the file is parsed and held to what the chart accepts and to what the
one-machine hub test exercises: its ``hub.extraConfig`` code runs against a real traitlets config and
installs the very hook ``tests/test_jupyterhub.py`` drives; the user pods' postStart runs the lesson copy
module; the exchange volume is mounted where the hub tells nbgrader it is; user pods may reach
PostgreSQL's port (the chart blocks private addresses by default) and nothing more is opened.

:data:`CHART_KEYS` are the keys the chart's ``values.schema.yaml`` (zero-to-jupyterhub-k8s 4.4.0)
allows in the sections this file uses, all of which the schema closes (``additionalProperties: false``);
the file merged over that chart version's defaults was also validated against the full schema with
jsonschema when it was written (0 errors).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml
from traitlets.config import Config

from pglab.classroom import hub_hooks

VALUES = Path(__file__).resolve().parent.parent / "hub" / "z2jh-values.yaml"
CHART_KEYS: dict[tuple[str, ...], set[str]] = {
    (): {"cull", "custom", "debug", "enabled", "fullnameOverride", "global", "httpRoute", "hub",
         "imagePullSecret", "imagePullSecrets", "ingress", "nameOverride", "prePuller", "proxy", "rbac",
         "scheduling", "singleuser"},
    ("hub",): {"activeServerLimit", "allowNamedServers", "annotations", "args", "authenticatePrometheus",
               "baseUrl", "command", "concurrentSpawnLimit", "config", "consecutiveFailureLimit",
               "containerSecurityContext", "cookieSecret", "db", "deploymentStrategy", "existingSecret",
               "extraConfig", "extraContainers", "extraEnv", "extraFiles", "extraPodSpec", "extraVolumeMounts",
               "extraVolumes", "fsGid", "image", "initContainers", "labels", "lifecycle", "livenessProbe",
               "loadRoles", "namedServerLimitPerUser", "networkPolicy", "nodeSelector", "pdb",
               "podSecurityContext", "readinessProbe", "redirectToServer", "resources", "revisionHistoryLimit",
               "service", "serviceAccount", "services", "shutdownOnLogout", "templatePaths", "templateVars",
               "tolerations"},
    ("hub", "image"): {"name", "pullPolicy", "pullSecrets", "tag"},
    ("singleuser",): {"allowPrivilegeEscalation", "cloudMetadata", "cmd", "cpu", "defaultUrl", "events",
                      "extraAnnotations", "extraContainers", "extraEnv", "extraFiles", "extraLabels",
                      "extraNodeAffinity", "extraPodAffinity", "extraPodAntiAffinity", "extraPodConfig",
                      "extraResource", "extraTolerations", "fsGid", "image", "initContainers", "lifecycleHooks",
                      "memory", "networkPolicy", "networkTools", "nodeSelector", "podNameTemplate", "profileList",
                      "serviceAccountName", "startTimeout", "storage", "uid"},
    ("singleuser", "image"): {"name", "pullPolicy", "pullSecrets", "tag"},
    ("singleuser", "lifecycleHooks"): {"postStart", "preStop"},
    ("singleuser", "storage"): {"capacity", "dynamic", "extraLabels", "extraVolumeMounts", "extraVolumes",
                                "homeMountPath", "static", "type"},
    ("singleuser", "networkPolicy"): {"allowedIngressPorts", "egress", "egressAllowRules", "enabled", "ingress",
                                      "interNamespaceAccessLabels"},
    ("cull",): {"adminUsers", "concurrency", "enabled", "every", "maxAge", "removeNamedServers", "timeout", "users"},
}


@pytest.fixture(scope="module")
def values() -> dict:
    loaded = yaml.safe_load(VALUES.read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_every_key_is_one_the_chart_accepts(values: dict) -> None:
    for path, allowed in CHART_KEYS.items():
        section = values
        for key in path:
            section = section.get(key, {})
        unknown = set(section) - allowed
        assert not unknown, f"{'.'.join(path) or 'top level'}: the chart's schema has no {sorted(unknown)}"


def test_extra_config_installs_the_hook_the_local_hub_uses(values: dict) -> None:
    c = Config()
    for name, code in values["hub"]["extraConfig"].items():
        exec(compile(code, f"hub.extraConfig.{name}", "exec"), {"c": c})  # as the chart's hub does
    assert c.KubeSpawner.pre_spawn_hook is hub_hooks.pre_spawn_hook
    env = values["hub"]["extraEnv"]
    assert env["PGLAB_ADMIN_URL"]["valueFrom"]["secretKeyRef"]["key"], "the admin URL must come from a Secret"
    assert set(env) >= {"PGLAB_ADMIN_URL", "PGLAB_EXCHANGE"}


def test_user_pods_get_the_lessons_the_exchange_and_the_database(values: dict) -> None:
    single = values["singleuser"]
    command = single["lifecycleHooks"]["postStart"]["exec"]["command"]
    assert command[:3] == ["python", "-m", "pglab.classroom.course_copy"]
    assert importlib.util.find_spec(command[2]) is not None
    mounts = {m["name"]: m["mountPath"] for m in single["storage"]["extraVolumeMounts"]}
    volumes = {v["name"]: v for v in single["storage"]["extraVolumes"]}
    exchange = values["hub"]["extraEnv"]["PGLAB_EXCHANGE"]
    assert exchange in mounts.values(), "nbgrader's exchange is not on a volume every user pod mounts"
    (name,) = [n for n, path in mounts.items() if path == exchange]
    assert "persistentVolumeClaim" in volumes[name]
    # The chart's default keeps user pods off private addresses; only PostgreSQL's port is opened.
    policy = single["networkPolicy"]
    assert policy.get("egressAllowRules", {}).get("privateIPs") in (None, False)
    ports = [p for rule in policy["egress"] for p in rule["ports"]]
    assert ports == [{"port": 5432, "protocol": "TCP"}]


def test_instructors_are_admins_so_the_hook_gives_them_the_grading_url(values: dict) -> None:
    settings = hub_hooks.HubSettings(admin_url="postgresql://postgres:x@db:5432/postgres", exchange="/x", bin_dir="/b")
    assert values["hub"]["config"]["Authenticator"]["admin_users"]
    teacher = hub_hooks.spawn_environment(settings, "postgresql://t:y@db/t", instructor=True, local=False)
    learner = hub_hooks.spawn_environment(settings, "postgresql://a:z@db/a", instructor=False, local=False)
    assert teacher["PGLAB_ADMIN_URL"] == settings.admin_url and "PGLAB_ADMIN_URL" not in learner
    assert "PATH" not in learner, "a Kubernetes user image keeps its own PATH"
    assert learner["JUPYTER_CONFIG_PATH"].split(":")[0].endswith("jupyter-config/learner")
