#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A 15-second run of the soak (tests/soak.sh; `make soak` runs it longer).
SOAK_SECONDS=15 exec bash "$(dirname "$0")/../soak.sh"
