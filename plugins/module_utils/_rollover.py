# Private to the mtls.nginx collection: not a public API, may change without notice.
"""The client CA rollover's stages: which CA issues, which ones nginx trusts, what is archived.

prepare: ca-next/ is created next to ca/; servers trust both; ca/ still issues.
migrate: ca-next/ issues; ca/'s certificates keep working (kept until due, or all replaced).
retire:  ca/ is archived whole and ca-next/ becomes ca/; servers trust it alone.
abandon: (before retire) ca-next/ is archived whole; ca/ issues and is trusted alone again.
none with a ca-next/ left over is refused: dropping the stage by mistake must not undo a rollover.
"""
from __future__ import annotations

import os

from ansible_collections.mtls.nginx.plugins.module_utils._common import MtlsError
from ansible_collections.mtls.nginx.plugins.module_utils._layout import ca_files, pki_paths

STAGES = ("none", "prepare", "migrate", "retire", "abandon")
REISSUE = ("on_renewal", "all")


def stage_errors(stage, reissue, ca, next_ca):
    """Messages naming the inventory variable and the fix; ca/next_ca: the mtls_ca/mtls_ca_next dicts."""
    if stage not in STAGES:
        return [f"mtls_ca_rollover must be one of {', '.join(STAGES)}, got {stage!r}"]
    errors = [] if reissue in REISSUE else [f"mtls_ca_rollover_reissue must be one of {', '.join(REISSUE)}, got {reissue!r}"]
    if stage in ("none", "abandon"):
        return errors
    if not isinstance(next_ca, dict) or not next_ca.get("common_name"):
        return errors + [f"mtls_ca_next.common_name must be set for mtls_ca_rollover={stage}: it names the next CA"]
    if str(next_ca["common_name"]).casefold() == str((ca or {}).get("common_name", "")).casefold() and stage != "retire":
        errors.append("mtls_ca_next.common_name must differ from mtls_ca.common_name: nginx tells the two CAs, and"
                      " their CRLs, apart by name")
    return errors


def root_errors(root, ca, next_ca):
    """What is wrong with mtls_root_ca (two tiers) next to the issuing CAs it signs; {} is one tier."""
    if not root:
        return []
    if not isinstance(root, dict) or not isinstance(root.get("common_name"), str) or not root["common_name"]:
        return ["mtls_root_ca must be {} (one tier) or a mapping with at least common_name (two tiers: README,"
                f" \"Two tiers and your company's CA\"), got {root!r}"]
    return [f"mtls_root_ca.common_name must differ from {variable}.common_name: clients and servers find a"
            " certificate's issuer by name" for variable, settings in (("mtls_ca", ca), ("mtls_ca_next", next_ca))
            if isinstance(settings, dict) and str(settings.get("common_name", "")).casefold() == root["common_name"].casefold()]


SOURCE_FIELDS = ("certificate", "private_key", "chain")


def source_errors(variable, settings, root):
    """What is wrong with a client CA taken from another PKI (mtls_ca or mtls_ca_next with
    certificate, private_key, chain and chain_crls); [] for a CA the collection makes."""
    if not isinstance(settings, dict) or not any(field in settings for field in (*SOURCE_FIELDS, "chain_crls")):
        return []
    errors = [f"{variable}.{field} must be the path of the CA's {field.replace('_', ' ')} on the control node (an issuing"
              " CA you already have: certificate, private_key, chain and chain_crls come together)"
              for field in SOURCE_FIELDS if not isinstance(settings.get(field), str) or not settings[field]]
    crls = settings.get("chain_crls")
    if not isinstance(crls, list) or not crls or not all(isinstance(source, str) and source for source in crls):
        errors.append(f"{variable}.chain_crls must list where each CA of the chain publishes its CRL (paths or http(s)"
                      " URLs): nginx checks a CRL of every CA of a client's chain")
    if root:
        errors.append(f"{variable}.certificate and mtls_root_ca: a CA taken from another PKI has that PKI's root;"
                      " leave mtls_root_ca empty")
    return errors


def client_cas(pki_dir, stage, reissue="on_renewal", pending=(), two_tiers=False):
    """What the roles do with the client CAs at a stage, once ca_rollover has run.

    Each CA is its files (_layout.ca_files) and "settings", the inventory variable that describes
    it: ca/ holds mtls_ca, or mtls_ca_next once retired (until mtls_ca takes its values and the
    stage goes back to none); ca-next/ holds mtls_ca_next. pending: the renames ca_rollover only
    predicted (check mode): each path is where its files are until they are done. two_tiers: a
    root in root/ (mtls_root_ca) signs them, and servers trust it too ("root").
    """
    paths = pki_paths(pki_dir)

    def files(directory):
        return {key: where_now(path, pending) for key, path in ca_files(directory).items()}
    current = {**files(paths["ca_dir"]), "settings": "mtls_ca_next" if stage == "retire" else "mtls_ca"}
    upcoming = {**files(paths["next_ca_dir"]), "settings": "mtls_ca_next"}
    both = stage in ("prepare", "migrate")
    return {
        "issuing": upcoming if stage == "migrate" else current,
        "trusted": [current, upcoming] if both else [current],
        # the other CA that issued, or issues, certificates servers still accept
        "other": (current if stage == "migrate" else upcoming) if both else None,
        "keep_issuer": current["certificate"] if stage == "migrate" and reissue == "on_renewal" else None,
        "root": {**ca_files(paths["root_dir"]), "settings": "mtls_root_ca"} if two_tiers else None,
    }


def where_now(path, pending):
    """Where path is until the pending renames [(from, to)] are done (check mode predicts them only)."""
    for source, target in reversed(pending or []):
        if path == target or path.startswith(target + os.sep):
            path = source + path[len(target):]
    return path


def moves(stage, ca_dir, next_dir, archive_dir, exists, now):
    """[(from, to)] directory renames that bring the PKI to the stage; exists(path) -> bool.

    Idempotent and safe to resume: a retire interrupted between its two renames finishes on the
    next run. Nothing is ever deleted: what leaves use goes under archive_dir.
    """
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    if not exists(next_dir):
        return []
    if stage == "retire":
        return ([(ca_dir, os.path.join(archive_dir, f"{stamp}-retired"))] if exists(ca_dir) else []) + [(next_dir, ca_dir)]
    if stage == "abandon":
        return [(next_dir, os.path.join(archive_dir, f"{stamp}-abandoned"))]
    if stage == "none":
        raise MtlsError(f"stage: {next_dir} exists, a CA rollover is under way: set mtls_ca_rollover to its stage"
                        " (prepare, migrate or retire), or to abandon to archive the next CA and go back to the current one")
    return []


def layout_errors(stage, ca_dir, next_dir, exists, pending_ok=False, root_dir=None, two_tiers=None):
    """Why the PKI's directories do not match the stage, for every entry point; exists(path) -> bool.

    Only the pki role of site.yml carries out a stage's move (pending_ok): anything else that runs
    while a move is still due (refresh_crl.yml, report.yml, the server role) would deploy or read
    one CA's CRL while hosts trust two, and is refused, as is a stage the directories contradict.
    two_tiers (the pki role's mtls_root_ca, when given): a root directory the inventory no longer
    names is refused too, since dropping mtls_root_ca by mistake would re-sign the client CA alone.
    """
    if stage not in STAGES:
        return []  # stage_errors (and the client_cas filter) name it
    has_next, errors = exists(next_dir), []
    if stage == "none" and has_next:
        errors.append(f"mtls_ca_rollover is none but {next_dir} exists: a CA rollover is under way. Set mtls_ca_rollover to"
                      " its stage (prepare, migrate or retire), or to abandon, in group_vars/all for every playbook")
    elif stage == "migrate" and not has_next:
        errors.append(f"mtls_ca_rollover is migrate but {next_dir} does not exist: run site.yml with prepare first,"
                      " or restore the PKI directory from your backup")
    elif stage in ("prepare", "retire", "abandon") and not pending_ok and (has_next != (stage == "prepare")):
        errors.append(f"mtls_ca_rollover is {stage} but site.yml has not carried it out yet ({next_dir}"
                      f" {'does not exist' if stage == 'prepare' else 'still exists'}): run playbooks/site.yml first")
    if not exists(ca_dir) and has_next and stage != "retire":
        errors.append(f"{ca_dir} does not exist next to {next_dir}: restore the PKI directory from your backup")
    if two_tiers is False and root_dir and exists(root_dir):
        errors.append(f"{root_dir} exists (a root signs the client CA) but mtls_root_ca is empty: set mtls_root_ca as"
                      " before, in group_vars/all; to go back to one tier, move that directory out of mtls_pki_dir first")
    return errors


def archived(archive_dir, listdir):
    """The directory of every archived CA (<UTC time>-retired or -abandoned), oldest first."""
    try:
        names = sorted(listdir(archive_dir))
    except FileNotFoundError:
        return []
    return [os.path.join(archive_dir, name) for name in names]


def archived_ledgers(archive_dir, listdir):
    """The ledgers of every archived CA (their serials and revoked keys stay taken)."""
    return [ca_files(directory)["ledger"] for directory in archived(archive_dir, listdir)]
