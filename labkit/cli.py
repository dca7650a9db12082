"""The ``labkit`` command: doctor, reset, list, lab, grade."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .places import LANGUAGES, default_places, translations


def cmd_doctor(args: argparse.Namespace) -> int:
    from .doctor import run_checks

    findings = run_checks(probe_kernel=not args.quick)
    for finding in findings:
        print(finding.line())
    bad = [f for f in findings if not f.ok and f.required]
    print(f"\n{len(bad)} required item(s) missing" if bad else "\nall required items present")
    return 1 if bad else 0


def cmd_list(_args: argparse.Namespace) -> int:
    from .targets.cleanup import survey

    labs = survey()
    if not labs:
        print("no labs on this machine")
    for lab_id, remains in sorted(labs.items()):
        state = "ORPHANED (agent gone)" if remains.orphaned else f"running (agent pid {', '.join(map(str, remains.agent_pids))})"
        print(f"{lab_id}: {state}; namespaces {', '.join(remains.namespaces) or '-'}; "
              f"{len(remains.process_pids)} process(es) inside")
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    from .targets.cleanup import remove, survey

    labs = survey()
    chosen = [r for r in labs.values() if (args.lab and r.lab_id in args.lab) or (not args.lab and (args.all or r.orphaned))]
    if args.lab and not chosen:
        print(f"no lab with id {', '.join(args.lab)} on this machine")
        return 1
    for remains in chosen:
        remove(remains)
        print(f"removed lab {remains.lab_id}: {len(remains.namespaces)} namespace(s), "
              f"{len(remains.process_pids)} process(es), {len(remains.agent_pids)} agent(s)")
    left = [r for r in labs.values() if r not in chosen]
    if not chosen:
        print("nothing to remove" + (f" ({len(left)} running lab(s) kept; --all removes them too)" if left else ""))
    return 0


def working_copy(source: Path, workdir: Path, fresh: bool = False) -> list[Path]:
    """Copy the lab notebooks (and their index) into ``workdir``, the folder JupyterLab serves, and each
    translation's learner's edition (``source/zh/``) into ``workdir/zh/`` (never a ``solutions/`` folder).

    A learner's saves, outputs and captures stay there, never in the repository. A
    notebook already in ``workdir`` is kept as the learner left it, unless ``fresh``;
    returns the files copied."""
    copied = []
    folders = [(source, workdir)] + [(where, workdir / lang) for lang, where in translations(source).items()]
    for src, dst in folders:
        dst.mkdir(parents=True, exist_ok=True)
        for path in sorted(src.glob("*.ipynb")) + sorted(src.glob("README.md")):
            target = dst / path.name
            if fresh or not target.exists():
                shutil.copyfile(path, target)
                copied.append(target)
    return copied


def lab_language(lang: str | None, workdir: Path) -> tuple[dict[str, str], list[str]]:
    """What ``labkit lab --lang LANG`` adds: ``LABKIT_LANG`` for the server (its kernels inherit it, so
    the library's messages follow) and the folder JupyterLab opens first (``zh/``); nothing without ``--lang``."""
    if lang is None:
        return {}, []
    env = {"LABKIT_LANG": lang}
    if lang == "en":
        return env, []
    if not (workdir / lang).is_dir():
        from .errors import NotFound
        from .i18n import tr

        raise NotFound(tr("no notebooks in {lang!r} in the working copy {workdir} (no folder {folder})", lang=lang,
                          workdir=str(workdir), folder=str(workdir / lang)),
                       hint=tr("the notebooks given with --notebooks have no {lang}/ folder: use a checkout's notebooks/ "
                               "or a system install (labkit lab --lang {lang})", lang=lang))
    # `jupyter lab` takes its first page from LabApp (which sets ServerApp's); the hub's single-user server from ServerApp
    return env, [f"--LabApp.default_url=/lab/tree/{lang}", f"--ServerApp.default_url=/lab/tree/{lang}"]


def cmd_lab(args: argparse.Namespace) -> int:
    notebooks = Path(args.notebooks).resolve()
    workdir = Path(args.workdir).resolve()
    copied = working_copy(notebooks, workdir, fresh=args.fresh)
    env, opening = lab_language(args.lang, workdir)
    kept = len(list(workdir.glob("*.ipynb"))) + sum(len(list((workdir / lang).glob("*.ipynb"))) for lang in LANGUAGES) \
        - len([p for p in copied if p.suffix == ".ipynb"])
    print(f"labkit: serving a working copy of the labs in {workdir} ({len(copied)} file(s) copied, "
          f"{kept} notebook(s) kept as you left them; --fresh starts them over)")
    os.environ.update(env)
    if args.hub:  # JupyterHub's single-user server: the hub gives it its URL, port and token in the environment
        os.execv(sys.executable, [sys.executable, "-m", "jupyterhub.singleuser", f"--ServerApp.root_dir={workdir}",
                                  *opening, *args.extra])
    argv = [sys.executable, "-m", "jupyter", "lab", f"--notebook-dir={workdir}", f"--ip={args.ip}", f"--port={args.port}",
            "--no-browser", *opening, *args.extra]
    if os.geteuid() == 0:
        argv.append("--allow-root")
    return subprocess.call(argv)


def cmd_grade(args: argparse.Namespace) -> int:
    from .grade import table, to_csv, to_json
    from .grade_run import grade_class

    out = Path(args.out)
    release = Path(args.release) if args.release else None
    rows = grade_class(Path(args.submissions), out, release=release, cell_timeout=args.timeout)
    out.mkdir(parents=True, exist_ok=True)
    (out / "grades.csv").write_text(to_csv(rows), encoding="utf-8")
    (out / "grades.json").write_text(to_json(rows), encoding="utf-8")
    print(table(rows))
    print(f"\nwrote {out / 'grades.csv'}, {out / 'grades.json'} and the executed notebooks in {out / 'executed'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="labkit", description="Learn Linux virtual networking on a real kernel.")
    sub = parser.add_subparsers(dest="command", required=True)
    doctor = sub.add_parser("doctor", help="what this machine can do for a lab, with fixes")
    doctor.add_argument("--quick", action="store_true", help="skip the kernel feature probe")
    doctor.set_defaults(run=cmd_doctor)
    sub.add_parser("list", help="labs on this machine").set_defaults(run=cmd_list)
    reset = sub.add_parser("reset", help="remove what crashed labs left behind (by lab id, nothing else)")
    reset.add_argument("--lab", nargs="+", metavar="ID", help="remove these labs, running or not")
    reset.add_argument("--all", action="store_true", help="also remove labs whose agent still runs")
    reset.set_defaults(run=cmd_reset)
    lab = sub.add_parser("lab", help="start JupyterLab on the notebooks (local sandbox)")
    notebooks, workdir = default_places()
    lab.add_argument("--notebooks", default=str(notebooks),
                     help="where the lab notebooks are (they are copied, never served themselves)")
    lab.add_argument("--workdir", default=str(workdir),
                     help="the working copy JupyterLab serves (default: work/ beside notebooks/ in a checkout, "
                          "not tracked by git; ~/labkit in a system install)")
    lab.add_argument("--fresh", action="store_true", help="replace the working copies with the pristine notebooks")
    lab.add_argument("--lang", choices=("en", *LANGUAGES), default=None,
                     help="the labs' language: zh opens the Simplified Chinese notebooks (zh/ in the working copy, "
                          "which always holds both) and sets LABKIT_LANG=zh for their kernels")
    lab.add_argument("--ip", default="127.0.0.1")
    lab.add_argument("--port", default="8888")
    lab.add_argument("--hub", action="store_true",
                     help="run as a JupyterHub single-user server (the hub's Spawner.cmd; see deploy/one-server/)")
    lab.set_defaults(run=cmd_lab)
    grade = sub.add_parser("grade", help="run learners' notebooks headless and report which self-checks pass (CSV, JSON)")
    grade.add_argument("submissions", help="a folder of <learner>/<notebook>.ipynb (as nbgrader collects them) "
                                           "or <learner>.ipynb files")
    grade.add_argument("--release", default=None,
                       help="the notebooks the class received (e.g. notebooks/): their check cells are put back "
                            "as released, and a removed check is reported")
    grade.add_argument("--out", default="grades", help="where grades.csv, grades.json and executed/ go (default: grades/)")
    grade.add_argument("--timeout", type=float, default=180, help="seconds one cell may run (default: 180)")
    grade.set_defaults(run=cmd_grade)
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "lab":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra  # `labkit lab` passes the rest to JupyterLab (the hub adds its own options)
    from .errors import LabkitError

    try:
        return int(args.run(args))
    except LabkitError as error:
        print(f"labkit {args.command}: {error.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
