"""The packaging rules hassfest and the HACS action would check (neither runs here)."""

from __future__ import annotations

import ast
import importlib.metadata
import json
from pathlib import Path
import re
import string
import sys
import tomllib
from typing import Any

from awesomeversion import AwesomeVersion
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from PIL import Image
import pytest
import yaml

from custom_components.liuzhou_appliances import const
from custom_components.liuzhou_appliances.issues import UNREACHABLE_BLE_KEY, IssueKind
from custom_components.liuzhou_appliances.link.discovery import SERVICE_TYPE
from custom_components.liuzhou_appliances.link.model import APPLIANCE_TYPES
from custom_components.liuzhou_appliances.neural.fridge_fault import FAULTS as FRIDGE_FAULTS

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "custom_components" / "liuzhou_appliances"
MANIFEST: dict[str, Any] = json.loads((PACKAGE / "manifest.json").read_text())
TRANSLATIONS = {
    name: json.loads((PACKAGE / "translations" / f"{name}.json").read_text(encoding="utf-8"))
    for name in ("en", "zh-Hans")
}

HACS_KEYS = {
    "name",
    "content_in_root",
    "country",
    "filename",
    "hacs",
    "hide_default_branch",
    "homeassistant",
    "persistent_directory",
    "render_readme",
    "zip_release",
}

QUALITY_RULES = {
    "bronze": """action-setup appropriate-polling brands common-modules config-flow
        config-flow-test-coverage dependency-transparency docs-actions docs-conditions
        docs-high-level-description docs-installation-instructions docs-removal-instructions
        docs-triggers entity-event-setup entity-unique-id has-entity-name runtime-data
        test-before-configure test-before-setup unique-config-entry""",
    "silver": """action-exceptions config-entry-unloading docs-configuration-parameters
        docs-installation-parameters entity-unavailable integration-owner log-when-unavailable
        parallel-updates reauthentication-flow test-coverage""",
    "gold": """devices diagnostics discovery discovery-update-info docs-data-update docs-examples
        docs-known-limitations docs-supported-devices docs-supported-functions
        docs-troubleshooting docs-use-cases dynamic-devices entity-category
        entity-device-class entity-disabled-by-default entity-translations
        exception-translations icon-translations reconfiguration-flow repair-issues
        stale-devices""",
    "platinum": "async-dependency inject-websession strict-typing",
}


# --- manifest.json (hassfest) -------------------------------------------------


def test_manifest_key_order_domain_name_then_sorted() -> None:
    keys = list(MANIFEST)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])


def test_manifest_required_values() -> None:
    assert MANIFEST["domain"] == PACKAGE.name == const.DOMAIN
    for key in ("name", "version", "codeowners", "documentation", "issue_tracker"):
        assert MANIFEST[key], key
    assert AwesomeVersion(MANIFEST["version"]).valid
    assert MANIFEST["iot_class"] == "local_push"
    assert MANIFEST["integration_type"] == "device"
    assert MANIFEST["config_flow"] is True
    assert all(re.fullmatch(r"@[\w-]+", owner) for owner in MANIFEST["codeowners"])
    assert MANIFEST["documentation"].startswith("https://")
    assert MANIFEST["issue_tracker"] == MANIFEST["documentation"] + "/issues"


def test_manifest_zeroconf_matches_the_advertised_service() -> None:
    assert MANIFEST["zeroconf"] == [SERVICE_TYPE]
    assert "zeroconf" in MANIFEST["dependencies"]


def _requirements_txt() -> dict[str, str]:
    pins: dict[str, str] = {}
    for raw_line in (ROOT / "requirements.txt").read_text().splitlines():
        line = raw_line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    return pins


REQUIREMENTS = [Requirement(r) for r in MANIFEST["requirements"]]
DECLARED = {canonicalize_name(r.name) for r in REQUIREMENTS}


@pytest.mark.parametrize("requirement", REQUIREMENTS, ids=str)
def test_manifest_requirement_is_a_range_that_admits_the_tested_version(
    requirement: Requirement,
) -> None:
    """Ranges, not pins: Home Assistant installs us under its own constraints.

    An exact pin conflicts as soon as a release constrains the package to another
    version (what made every release since 2025.6 refuse us). The range must hold
    the version the suite runs (requirements.txt) and what is installed here;
    tests/compat resolves it under each supported release's constraints.
    """
    operators = {spec.operator for spec in requirement.specifier}
    assert ">=" in operators, f"{requirement}: no lower bound"
    assert "<" in operators, f"{requirement}: no upper bound (the next breaking release)"
    assert "==" not in operators, f"{requirement}: an exact pin"
    name = canonicalize_name(requirement.name)
    tested = _requirements_txt().get(name)
    assert tested is not None, f"{name} is not in requirements.txt"
    assert requirement.specifier.contains(tested), f"{requirement} excludes the tested {tested}"
    installed = importlib.metadata.version(requirement.name)
    assert requirement.specifier.contains(installed), f"{requirement} excludes {installed}"


def _home_assistant_requires() -> dict[str, Requirement]:
    requires = (Requirement(r) for r in importlib.metadata.requires("homeassistant") or [])
    return {canonicalize_name(r.name): r for r in requires}


def test_home_assistants_own_pins_fall_inside_our_ranges() -> None:
    """Where Home Assistant itself requires a package we declare, its pin is in our range."""
    core = _home_assistant_requires()
    for requirement in REQUIREMENTS:
        pinned = core.get(canonicalize_name(requirement.name))
        for spec in pinned.specifier if pinned else ():
            if spec.operator == "==":
                assert requirement.specifier.contains(spec.version), (requirement, pinned)


def test_manifest_leaves_cryptography_to_home_assistant() -> None:
    """Every release requires its own cryptography; declaring it can only conflict."""
    assert "cryptography" in _home_assistant_requires()
    assert "cryptography" not in DECLARED


def _third_party_imports() -> set[str]:
    modules: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return {m for m in modules if m not in sys.stdlib_module_names and m != "__future__"}


def _required_by_dependencies() -> set[str]:
    """What the integrations we depend on install (bluetooth: bleak-retry-connector), transitively.

    Home Assistant sets those up, with their requirements, before this integration;
    their pins follow each release, so we import them without declaring a range. An
    after-dependency's requirements count too: we import them only while it is loaded
    (compat.assist_language_directory: conversation's home-assistant-intents, which
    Home Assistant 2026 no longer installs with its core).
    """
    import homeassistant.components

    components = Path(homeassistant.components.__path__[0])
    found: set[str] = set()
    todo = [*MANIFEST["dependencies"], *MANIFEST.get("after_dependencies", [])]
    seen: set[str] = set()
    while todo:
        domain = todo.pop()
        if domain in seen:
            continue
        seen.add(domain)
        manifest = json.loads((components / domain / "manifest.json").read_text())
        found.update(
            canonicalize_name(Requirement(r).name) for r in manifest.get("requirements", [])
        )
        todo.extend(manifest.get("dependencies", []))
    return found


# Imported when present, never required: LiteRT has manylinux wheels only (Home Assistant
# OS and Container are musl); neural/ falls back to its numpy interpreter without it
# (tests/neural/test_runtimes.py checks that fallback).
OPTIONAL_IMPORTS = {"ai_edge_litert": "ai-edge-litert"}


def test_optional_imports_stay_out_of_the_manifest() -> None:
    declared = {canonicalize_name(r.name) for r in REQUIREMENTS}
    assert not declared & set(OPTIONAL_IMPORTS.values())


def test_every_imported_runtime_package_is_a_requirement() -> None:
    """Packages Home Assistant does not install itself must be in the manifest."""
    core = set(_home_assistant_requires()) | _required_by_dependencies()
    by_module = importlib.metadata.packages_distributions()
    missing = []
    for module in _third_party_imports() - {
        "homeassistant",
        "custom_components",
        *OPTIONAL_IMPORTS,
    }:
        dists = {canonicalize_name(d) for d in by_module.get(module, [module])}
        if not dists & (core | DECLARED) and module not in MANIFEST["dependencies"]:
            missing.append(f"{module} ({', '.join(sorted(dists))})")
    assert not missing, f"imported but not in manifest requirements: {missing}"


def test_undeclared_dependencies_of_requirements_are_listed_too() -> None:
    """scikit-fuzzy's wheel declares no dependencies but imports scipy and networkx."""
    if "scikit-fuzzy" in DECLARED:
        assert {"scipy", "networkx", "numpy"} <= DECLARED


def test_config_schema_defined_because_async_setup_exists() -> None:
    from custom_components.liuzhou_appliances import entry_points

    assert callable(entry_points.async_setup)
    assert callable(entry_points.CONFIG_SCHEMA)


_PACKAGE_NAME = "custom_components.liuzhou_appliances"


def _module_imports(path: Path) -> set[str]:
    """The package modules ``path`` imports at module level, for type checking too."""
    package = path.relative_to(PACKAGE).parent.parts
    found: set[str] = set()
    body = ast.parse(path.read_text(encoding="utf-8")).body
    checking_only = (
        node.body
        for node in body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    )
    for node in [*body, *(statement for block in checking_only for statement in block)]:
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level == 0:
            # Absolute imports of the package count too: custom_components.liuzhou_appliances.x
            module = node.module or ""
            if not module.startswith(f"{_PACKAGE_NAME}."):
                continue
            target = tuple(module.removeprefix(f"{_PACKAGE_NAME}.").split("."))
        else:
            base = package[: len(package) - node.level + 1]
            target = (*base, *(node.module or "").split(".")) if node.module else base
        for alias in node.names:
            candidate = (*target, alias.name)
            if (PACKAGE.joinpath(*candidate).with_suffix(".py")).exists():
                target_module = candidate
            elif PACKAGE.joinpath(*candidate, "__init__.py").exists():
                target_module = (*candidate, "__init__")  # a subpackage: its __init__.py
            elif target and PACKAGE.joinpath(*target, "__init__.py").exists():
                target_module = (*target, "__init__")  # a name from a package's __init__.py
            else:
                target_module = target
            found.add(".".join(part for part in target_module if part))
    return found


def test_modules_import_no_circle() -> None:
    """Each module's imports go one way, e.g. coordinator.py -> issues.py, never back."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        graph[name] = _module_imports(path)
    visiting: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> None:
        assert module not in visiting, " -> ".join([*visiting, module])
        if module in done or module not in graph:
            return
        visiting.append(module)
        for imported in sorted(graph[module]):
            visit(imported)
        visiting.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


def _installable_releases() -> list[str]:
    table = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(table["tool"]["liuzhou"]["home-assistant"]["installable"])


# --- hacs.json and brand --------------------------------------------------------


def test_hacs_json_has_only_accepted_keys() -> None:
    hacs = json.loads((ROOT / "hacs.json").read_text())
    assert set(hacs) <= HACS_KEYS, set(hacs) - HACS_KEYS
    assert hacs["name"]
    # The minimum is the month of the oldest release the suite runs and checks.
    oldest = AwesomeVersion(_installable_releases()[0])
    assert hacs["homeassistant"] == f"{oldest.major}.{oldest.minor}.0"
    test_env = (ROOT / "requirements_test.txt").read_text()
    tested = re.search(r"^homeassistant==(\S+)$", test_env, re.M)
    assert tested is not None
    assert tested.group(1) == str(oldest)
    assert "zip_release" not in hacs or "filename" in hacs


def test_brand_icon_is_a_256_pixel_png() -> None:
    icon = PACKAGE / "brand" / "icon.png"
    with Image.open(icon) as image:
        assert image.format == "PNG"
        assert image.size == (256, 256)


# --- translations ----------------------------------------------------------------


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, path + "."))
        else:
            assert isinstance(value, str), path
            out[path] = value
    return out


FLAT = {name: _flatten(tree) for name, tree in TRANSLATIONS.items()}


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def test_both_languages_have_the_same_keys() -> None:
    assert set(FLAT["en"]) == set(FLAT["zh-Hans"])


@pytest.mark.parametrize("language", ["en", "zh-Hans"])
def test_no_unresolved_references_or_empty_strings(language: str) -> None:
    for path, text in FLAT[language].items():
        assert "[%key:" not in text, path
        assert text.strip(), path


def test_placeholders_agree_between_languages() -> None:
    for path, text in FLAT["en"].items():
        assert _placeholders(text) == _placeholders(FLAT["zh-Hans"][path]), path


def test_chinese_is_chinese() -> None:
    has_han = re.compile(r"[\u4e00-\u9fff]")
    for path, text in FLAT["zh-Hans"].items():
        if path.split(".")[0] not in ("config", "options", "exceptions", "issues"):
            continue  # the entity section belongs to the entity tests
        if _placeholders(text) and not re.sub(r"\{\w+\}", "", text).strip(" ：:"):
            continue  # pure placeholder such as flow_title
        assert has_han.search(text), path


def _source(name: str) -> str:
    return (PACKAGE / name).read_text(encoding="utf-8")


def test_every_translation_key_used_in_code_exists() -> None:
    en = TRANSLATIONS["en"]
    used = set()
    sources = (
        "coordinator.py",
        "coordinator_commands.py",
        "issues.py",
        "repairs.py",
        "config_flow.py",
        "entry_points.py",
    )
    for name in sources:
        used |= set(re.findall(r'translation_key="(\w+)"', _source(name)))
    for key in used:
        assert key in en["exceptions"] or key in en["issues"], key
    # The config flow, its discovery steps and its pairing: steps, form errors, abort reasons.
    flow = "".join(
        _source(name) for name in ("config_flow.py", "flow_discovery.py", "flow_pairing.py")
    )
    flow_keys = (
        set(re.findall(r'reason="(\w+)"', flow))
        | set(re.findall(r'PairingFailed\("(\w+)"', flow))
        | set(re.findall(r'return "(\w+)", ', flow))
        | set(re.findall(r'errors\[[^\]]+\] = "(\w+)"', flow))
    )
    assert flow_keys, "the patterns found nothing: the check would be empty"
    for key in flow_keys:
        assert key in en["config"]["error"] or key in en["config"]["abort"], key
    for step in re.findall(r'step_id="(\w+)"', flow):
        assert step in en["config"]["step"] or step in en["options"]["step"], step


def test_every_fault_code_of_every_type_has_an_issue_text() -> None:
    issues = TRANSLATIONS["en"]["issues"]
    for type_spec in APPLIANCE_TYPES.values():
        for code in type_spec.fault_codes:
            assert f"fault_{type_spec.type}_{code}" in issues
    per_code = (IssueKind.FAULT, IssueKind.SUSPECTED_FAULT)  # a text per code or fault
    kinds = {kind.value for kind in IssueKind if kind not in per_code}
    assert {"fault_unknown", UNREACHABLE_BLE_KEY, *kinds} <= set(issues)
    assert {f"{IssueKind.SUSPECTED_FAULT}_{fault}" for fault in FRIDGE_FAULTS} <= set(issues)
    # The unreachable issue's text, over the LAN or Bluetooth, comes with its fix flow.
    assert "fix_flow" in issues["unreachable"]
    assert "fix_flow" in issues[UNREACHABLE_BLE_KEY]


def test_translations_cover_every_platform_file() -> None:
    for platform in const.PLATFORMS:
        assert (PACKAGE / f"{platform.value}.py").is_file(), platform


# --- quality_scale.yaml ------------------------------------------------------------


def test_quality_scale_covers_every_rule() -> None:
    scale = yaml.safe_load((PACKAGE / "quality_scale.yaml").read_text())["rules"]
    expected = {rule for rules in QUALITY_RULES.values() for rule in rules.split()}
    assert set(scale) == expected
    for rule, value in scale.items():
        status = value if isinstance(value, str) else value["status"]
        assert status in {"done", "exempt", "todo"}, rule
        if status == "exempt":
            assert isinstance(value, dict), f"{rule}: exempt needs a comment"
            assert value.get("comment"), f"{rule}: exempt needs a comment"


def test_manifest_quality_scale_claim_matches_the_yaml() -> None:
    """A tier may be claimed only when it and the tiers below have no rule left to do."""
    scale = yaml.safe_load((PACKAGE / "quality_scale.yaml").read_text())["rules"]
    achieved = None
    for tier, rules in QUALITY_RULES.items():
        statuses = [
            scale[r] if isinstance(scale[r], str) else scale[r]["status"] for r in rules.split()
        ]
        if any(status == "todo" for status in statuses):
            break
        achieved = tier
    claim = MANIFEST.get("quality_scale")
    order = [None, *QUALITY_RULES]
    assert order.index(claim) <= order.index(achieved)
