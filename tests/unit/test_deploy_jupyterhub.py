"""deploy/jupyterhub: the image's files agree with the install, the chart values parse, and the
pod that KubeSpawner's own builder (kubespawner.objects.make_pod) makes from them carries
exactly the security settings the values argue for, and nothing broader."""

from __future__ import annotations

import copy
import os
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "jupyterhub"
kubespawner_objects = pytest.importorskip("kubespawner.objects", reason="jupyterhub-kubespawner is a test dependency "
                                          "(pyproject's dev extra); scripts/install.sh --test installs it")

#: the security context a learner's container must have, exactly (README.md here says why)
EXPECTED_CONTEXT = {
    "runAsUser": 1000, "runAsGroup": 100, "runAsNonRoot": True, "privileged": False, "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"], "add": ["SYS_ADMIN"]}, "seccompProfile": {"type": "RuntimeDefault"},
}


def shell_array(script: str, name: str) -> list[str]:
    """The words of a bash array ``NAME=(...)`` in a script."""
    match = re.search(rf"^{name}=\((.*?)\)", script, re.S | re.M)
    assert match, f"no {name}=(...) in the script"
    return shlex.split(match.group(1))


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, argument) pairs, continuation lines joined, comments dropped."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
            for line in joined.splitlines() if line.strip()]


def apt_packages(run: str) -> set[str]:
    words = run.split("apt-get install", 1)[1].split("&&")[0].split()
    return {word for word in words if not word.startswith("-")}


def helm_merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """Helm's merge of values files: maps merge deeply, a key set to null is deleted."""
    merged = copy.deepcopy(base)
    for key, value in overlay.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = helm_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def make_pod_from_values(values: dict[str, Any]) -> dict[str, Any]:
    """The pod KubeSpawner builds from these chart values, serialised as the API server sees it.

    The chart's jupyterhub_config.py maps ``singleuser.*`` onto KubeSpawner traits and applies
    ``hub.config.KubeSpawner`` as traits too; the traits reach make_pod under the same names."""
    from kubernetes_asyncio.client import ApiClient

    single, spawner = values["singleuser"], values["hub"]["config"]["KubeSpawner"]
    pod = kubespawner_objects.make_pod(
        name="jupyter-learner1", cmd=[single["cmd"]], port=8888,
        image=f"{single['image']['name']}:{single['image']['tag']}",
        uid=single["uid"], fs_gid=single["fsGid"], allow_privilege_escalation=single["allowPrivilegeEscalation"],
        container_security_context=spawner.get("container_security_context"),
        extra_pod_config=spawner.get("extra_pod_config"), env=single.get("extraEnv"),
        volumes=single["storage"]["extraVolumes"], volume_mounts=single["storage"]["extraVolumeMounts"],
        mem_limit=single["memory"]["limit"], mem_guarantee=single["memory"]["guarantee"], cpu_limit=single["cpu"]["limit"],
    )
    serialiser = object.__new__(ApiClient)  # its serialiser needs no connection (ApiClient() wants an event loop)
    return serialiser.sanitize_for_serialization(pod)


def answer_file(path: Path) -> bool:
    """A file that holds the exercises' answers: under notebooks/src/, notebooks/solutions/ or a translation's
    solutions/ (notebooks/zh/solutions/)."""
    return path.parts[:1] == ("notebooks",) and ("src" in path.parts[1:2] or "solutions" in path.parts[1:3])


def copied_to(steps: list[tuple[str, str]]) -> dict[Path, str]:
    """Each repository file a COPY step puts into the image, with the folder it lands in."""
    found = {}
    for op, arg in steps:
        if op == "COPY" and not arg.startswith("--"):
            *sources, target = arg.split()
            for source in sources:
                for match in ROOT.glob(source):
                    for f in [match] if match.is_file() else match.rglob("*"):
                        found[f.relative_to(ROOT)] = target
    return found


@pytest.fixture(scope="module")
def values() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "values.yaml").read_text())


def test_the_image_installs_what_the_install_script_lists() -> None:
    install = (ROOT / "scripts" / "packages.sh").read_text()
    steps = dockerfile_instructions((DEPLOY / "Dockerfile").read_text())
    runs = [arg for op, arg in steps if op == "RUN"]
    apt_run = next(run for run in runs if "apt-get install" in run)
    missing = set(shell_array(install, "BASE")) - apt_packages(apt_run)
    assert not missing, f"the Dockerfile's apt-get install lacks {sorted(missing)} that scripts/packages.sh lists"
    imports = re.search(r'python -c "(import [^"]+)"', (ROOT / "scripts" / "install.sh").read_text())
    assert imports and any(imports.group(1) in run for run in runs), "the image checks the same imports as the install"


def test_the_image_copies_files_that_exist_and_runs_as_the_notebook_user() -> None:
    steps = dockerfile_instructions((DEPLOY / "Dockerfile").read_text())
    for op, arg in steps:
        if op == "COPY":
            for source in arg.split()[:-1]:  # a pattern (notebooks/*.ipynb) must match something
                matched = list(ROOT.glob(source))
                assert matched, f"COPY {source}: no such file in the repository"
                copied = [f for m in matched for f in ([m] if m.is_file() else m.rglob("*"))]
                answers = [str(f.relative_to(ROOT)) for f in copied if answer_file(f.relative_to(ROOT))]
                assert not answers, f"COPY {source}: the learner's image would carry the answers: {answers[:3]}"
    users = [arg for op, arg in steps if op == "USER"]
    assert users and users[-1] in ("${NB_UID}", "1000", "jovyan"), f"the image's last USER is {users}"
    args = dict(arg.split("=", 1) for op, arg in steps if op == "ARG" and "=" in arg)
    assert args.get("NB_UID") == "1000"
    start = DEPLOY / "labkit-start"
    assert os.access(start, os.X_OK), "labkit-start must be executable"
    entry = next(arg for op, arg in steps if op == "ENTRYPOINT")
    assert "labkit-start" in entry
    module = re.search(r"python3 -m ([\w.]+)", start.read_text())
    assert module and (ROOT / (module.group(1).replace(".", "/") + ".py")).exists(), "labkit-start runs a module labkit has"


def test_the_answers_test_knows_every_answers_folder() -> None:
    assert answer_file(Path("notebooks/solutions/04-bridge.ipynb")) and answer_file(Path("notebooks/src/04-bridge.py"))
    assert answer_file(Path("notebooks/zh/solutions/04-bridge.ipynb"))
    assert not answer_file(Path("notebooks/zh/04-bridge.ipynb")) and not answer_file(Path("notebooks/04-bridge.ipynb"))


def test_the_image_ships_the_learners_edition_in_every_language() -> None:
    shipped = copied_to(dockerfile_instructions((DEPLOY / "Dockerfile").read_text()))
    english = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    chinese = sorted((ROOT / "notebooks" / "zh").glob("[0-9][0-9]-*.ipynb"))
    assert english and len(chinese) == len(english), "notebooks/zh/ should hold every lab (python notebooks/build.py)"
    for path in [*english, ROOT / "notebooks" / "README.md"]:
        assert shipped.get(path.relative_to(ROOT), "").rstrip("/") == "/opt/labkit/notebooks", f"{path.name} is not shipped"
    for path in [*chinese, ROOT / "notebooks" / "zh" / "README.md"]:
        assert shipped.get(path.relative_to(ROOT), "").rstrip("/") == "/opt/labkit/notebooks/zh", \
            f"zh/{path.name} is not shipped to /opt/labkit/notebooks/zh/"
    fonts = apt_packages(next(arg for op, arg in dockerfile_instructions((DEPLOY / "Dockerfile").read_text())
                              if op == "RUN" and "apt-get install" in arg))
    assert "fonts-noto-cjk" in fonts, "the Chinese labs need a CJK font in the image (or the browser shows boxes)"
    assert "fonts-noto-cjk" in shell_array((ROOT / "scripts" / "packages.sh").read_text(), "BASE")


def test_labkit_start_gives_the_learner_both_languages_and_keeps_their_copies(tmp_path: Path) -> None:
    shipped = tmp_path / "opt"
    (shipped / "zh").mkdir(parents=True)
    for folder in (shipped, shipped / "zh"):
        (folder / "04-bridge.ipynb").write_text(f"pristine {folder.name}")
        (folder / "README.md").write_text("index")
    (shipped / "zh" / "solutions").mkdir()
    (shipped / "zh" / "solutions" / "04-bridge.ipynb").write_text("answers")
    stub = tmp_path / "bin"
    stub.mkdir()
    (stub / "python3").write_text("#!/bin/sh\necho start check\n")  # the start check itself is tested elsewhere
    (stub / "python3").chmod(0o755)
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "PATH": f"{stub}:/usr/bin:/bin", "LABKIT_NOTEBOOKS": str(shipped)}
    import subprocess

    def start() -> None:
        done = subprocess.run([str(DEPLOY / "labkit-start"), "true"], env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr

    start()
    labs = home / "labs"
    assert (labs / "04-bridge.ipynb").read_text() == "pristine opt" and (labs / "zh" / "04-bridge.ipynb").read_text() == "pristine zh"
    assert (labs / "zh" / "README.md").exists() and not (labs / "zh" / "solutions").exists()
    (labs / "zh" / "04-bridge.ipynb").write_text("the learner's work")
    start()
    assert (labs / "zh" / "04-bridge.ipynb").read_text() == "the learner's work"


def test_the_system_install_ships_the_chinese_learners_edition_and_no_answers() -> None:
    script = (ROOT / "scripts" / "install-system.sh").read_text()
    copies = [line.split()[1:-1] for line in script.splitlines() if line.strip().startswith("cp ") and "notebooks/" in line]
    sources = [word for words in copies for word in words if word.startswith("notebooks/")]
    files = {f.relative_to(ROOT) for word in sources for m in ROOT.glob(word) for f in ([m] if m.is_file() else m.rglob("*"))}
    assert not [f for f in files if answer_file(f)], "install-system.sh would install the answers"
    assert {p.relative_to(ROOT) for p in (ROOT / "notebooks" / "zh").glob("*.ipynb")} <= files, \
        "install-system.sh does not install notebooks/zh/*.ipynb"
    assert '. scripts/packages.sh' in script and 'packages=("${BASE[@]}")' in script, \
        "install-system.sh must install scripts/packages.sh's BASE (fonts-noto-cjk among them)"


def test_the_values_parse_and_name_the_image_the_dockerfile_builds(values: dict[str, Any]) -> None:
    assert values["singleuser"]["image"]["name"] == "labkit-singleuser"
    assert "labkit-singleuser" in (DEPLOY / "Dockerfile").read_text()
    overlay = yaml.safe_load((DEPLOY / "values-no-userns.yaml").read_text())
    merged = helm_merge(values, overlay)
    assert "hostUsers" not in merged["hub"]["config"]["KubeSpawner"]["extra_pod_config"]
    assert merged["hub"]["config"]["KubeSpawner"]["container_security_context"] == EXPECTED_CONTEXT


def test_the_pod_carries_exactly_the_security_settings(values: dict[str, Any]) -> None:
    pod = make_pod_from_values(values)
    spec = pod["spec"]
    assert spec["hostUsers"] is False, "the pod must ask for a user namespace of its own"
    assert spec["automountServiceAccountToken"] is False
    assert "securityContext" not in spec or not spec["securityContext"].get("sysctls"), "no sysctls on the pod"
    [container] = spec["containers"]
    assert container["securityContext"] == EXPECTED_CONTEXT
    assert not spec.get("initContainers"), "no init container (the chart's iptables one would run privileged)"
    assert not any(key.startswith("host") and value for key, value in spec.items() if key != "hostUsers"), \
        "no hostNetwork, hostPID, hostIPC"
    [netns] = [v for v in spec["volumes"] if v["name"] == "labkit-netns"]
    assert netns == {"name": "labkit-netns", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}}
    assert {"name": "labkit-netns", "mountPath": "/run/netns"} in container["volumeMounts"]
    assert not any("hostPath" in v for v in spec["volumes"]), "nothing of the node's filesystem"
    assert {"name": "LABKIT_MODE", "value": "rootless"} in container["env"]


def test_the_pod_without_user_namespaces_keeps_every_other_setting(values: dict[str, Any]) -> None:
    merged = helm_merge(values, yaml.safe_load((DEPLOY / "values-no-userns.yaml").read_text()))
    spec = make_pod_from_values(merged)["spec"]
    assert "hostUsers" not in spec
    assert spec["containers"][0]["securityContext"] == EXPECTED_CONTEXT


def test_the_network_policy_keeps_learners_apart(values: dict[str, Any]) -> None:
    policy = values["singleuser"]["networkPolicy"]
    assert policy["enabled"] is True
    assert policy["ingress"] == [] and policy["egress"] == [] and policy["allowedIngressPorts"] == []
    opened = [rule for rule, allowed in policy["egressAllowRules"].items() if allowed]
    assert not opened, f"egress opened to {opened}: a lab's traffic never leaves the pod"
    assert values["singleuser"]["cloudMetadata"]["blockWithIptables"] is False
