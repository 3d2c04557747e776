/**
 * @module cli/commands/init-templates
 * The files `ml init` writes. fetchml.yaml is commented field by field so a researcher can edit it
 * without the docs; defaults are spelled out as comments rather than values, so the spec (and its
 * sha in every plan) stays small and a changed default on the server is not frozen into old
 * projects by accident.
 */

/** A spec name from a directory name: letters, digits, `. _ -`, starting alphanumeric. */
export function specNameFrom(dir: string): string {
  const cleaned = dir
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 128);
  return cleaned || 'experiment';
}

/** fetchml.yaml for `name`; `command` null writes a commented placeholder to fill in. */
export function specTemplate(name: string, command: string | null): string {
  const cmd =
    command !== null
      ? `command: ${command}\n`
      : '# TODO: set the command that runs your experiment, then uncomment the line below.\n' +
        '# `ml queue` refuses to submit until it is set.\n' +
        '# command: python3 main.py\n';
  return `# fetchml.yaml: how to run this experiment. \`ml queue\` snapshots this directory and submits it.
# Only name and command are required; the commented fields show a default or an example.

# Name shown by \`ml status\`: letters, digits, . _ - (max 128).
name: ${name}

# What to run from the project root: a string split on spaces (no shell), or a list,
# e.g. ["python3", "train.py", "--epochs", "3"]. Extra args: \`ml queue -- --lr 0.1\`.
${cmd}
# What the run may use. memory accepts 512m, 4g, ...; gpus are whole devices.
resources:
  cpus: 1
  memory: 1g
  gpus: 0

# Files the run writes to the directory in $FETCHML_OUTPUT are kept as artifacts (\`ml info <task>\`).

# Stop the run after this long (90s, 30m, 2h). Default: no limit.
# timeout: 1h

# Higher runs first (-1000..1000); \`ml queue --priority N\` overrides it.
# priority: 0

# Environment variables for the run (no secrets: they are recorded in the run manifest).
# env:
#   PYTHONUNBUFFERED: "1"

# Network inside the run: none (default) or bridge.
# network: none

# Dependency manifest recorded in the plan. Default: the one found at the project root
# (requirements.txt, pyproject.toml, a lock file, ...); without one the strict preflight refuses
# the run: add one, or write \`deps: none\` when the run needs nothing beyond its image.
# deps: requirements.txt

# Container image; pin it by digest (name@sha256:...) to reach trust level "verified".
# image: python:3.12-slim

# Datasets, each pinned by checksum (required by the strict preflight).
# datasets:
#   - name: mnist
#     checksum: sha256:<64 hex digits>
`;
}

/**
 * The default .mlignore: outputs, environments and caches never belong in a snapshot. `extra`
 * adds root-relative dirs (a fetchml base dir inside the project: it holds API keys).
 */
export function mlignoreTemplate(extra: readonly string[] = []): string {
  const more = extra.map((d) => `# a fetchml base dir (server state and keys)\n/${d}/\n`).join('');
  return `# .mlignore: paths left out of snapshots (same syntax as .gitignore, which is honoured too).
output/
.fetchml/
.venv/
venv/
__pycache__/
*.pyc
.ipynb_checkpoints/
.DS_Store
${more}`;
}
