#!/usr/bin/env bash
# Every linter the project promises to pass: ruff, yamllint, ansible-lint (production profile).
set -euo pipefail
cd "$(dirname "$0")/.."
export ANSIBLE_COLLECTIONS_PATH="$PWD/.cache/collections" ANSIBLE_CONFIG="$PWD/ansible.cfg"
echo "--- ruff"; ruff check plugins tests bench tools extensions
echo "--- ruff format"; ruff format --check plugins tests bench tools extensions
echo "--- yamllint"; yamllint --strict .
echo "--- ansible-lint (production profile)"; ansible-lint --profile production
